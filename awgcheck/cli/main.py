"""The ``awgcheck`` command group: global options, and each command added
explicitly (no registration by import side effect).

No logic of its own lives in cli/: each command reads as the data flow
inventory -> collect -> parse -> rules -> report -> exit code. User
mistakes (a bad inventory, a broken rule, a missing file) end with a
one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import signal
from typing import Any

import click

from awgcheck import __version__, exitcodes

COMMANDS = {name: f"awgcheck.cli.{name}"
            for name in ("check", "diff", "gate", "inspect", "merge", "params", "plan", "rules",
                          "triage", "verify")}
"""Each command, and the module that defines it under that name. A command's
module is imported when that command runs (or ``--help`` lists them all):
``check`` does not pay for loading ``triage``, ``gate`` and ``inspect``
(60 ms of start-up)."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM: unwinds like Ctrl+C (every ``finally`` and the
    atomic report writer's clean-up run), and says which signal it was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Commands(click.Group):
    """The group: its commands from :data:`COMMANDS`, and a run stopped by a
    signal ended with that signal's own exit code rather than click's
    "Aborted!" and 1 ("failures found")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            click.echo(f"awgcheck: interrupted by {signal.Signals(signum).name}", err=True)
            ctx.exit(exitcodes.for_signal(signum))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"],
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
    10-12  verify: drift, not applied, no traffic (awgcheck verify --help)
      130  interrupted by SIGINT (Ctrl+C)
      143  terminated by SIGTERM
    """
    # SIGTERM (a CI runner cancelling the job) unwinds like Ctrl+C, so the
    # atomic report writer removes its temporary file.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)

