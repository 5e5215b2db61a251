"""The ``awgcheck`` command group: global options, and each command added
explicitly (no registration by import side effect).

No logic of its own lives in cli/: each command reads as the data flow
inventory -> collect -> parse -> rules -> report -> exit code. User
mistakes (a bad inventory, a broken rule, a missing file) end with a
one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import signal

import click

from awgcheck import __version__
from awgcheck.cli.check import check
from awgcheck.cli.diff import diff
from awgcheck.cli.gate import gate
from awgcheck.cli.inspect import inspect
from awgcheck.cli.rules import rules
from awgcheck.cli.triage import triage


@click.group(context_settings={"help_option_names": ["-h", "--help"],
                               "max_content_width": 100})
@click.version_option(__version__, prog_name="awgcheck")
def main() -> None:
    """Drift detection and conformance checks for AmneziaWG meshes.

    awgcheck reads each node's awg0.conf, compares its obfuscation params
    with the source of truth using declarative YAML rules, and reports what
    differs, what the difference does to the tunnel, and how to fix it.

    \b
    Exit codes:
      0  everything checked and passed
      1  at least one failure at or above --fail-on
      2  usage, inventory or rule error (nothing checked)
      4  no failures, but at least one node could not be checked
      5  failures, and at least one node could not be checked
    """
    # SIGTERM (a CI runner cancelling the job) unwinds like Ctrl+C, so the
    # atomic report writer removes its temporary file.
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


for command in (check, diff, inspect, rules, gate, triage):
    main.add_command(command)
