"""``awgcheck triage NODE``: the 3 a.m. command.

Reads one node (an inventory name or ``ssh://user@host:port``), puts its
file, its running interface and the source side by side, gathers health
evidence (``--probe`` only), names the likely cause from the symptom table
and ends with the exact fix. Exit codes: see the command's help.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from awgcheck import inventory, nodes
from awgcheck.cli.options import (
    emit,
    format_option,
    load_rules,
    screen_options,
    ssh_options,
    user_errors,
)
from awgcheck.cli.screen import Screen
from awgcheck.errors import UsageError
from awgcheck.triage.evidence import DEFAULT_WINDOW
from awgcheck.triage.render import FORMATS
from awgcheck.triage.run import TriageOptions, judge_source, resolve_source
from awgcheck.triage.run import triage as run_triage


@click.command()
@click.argument("node_spec", metavar="NODE")
@click.option("--inventory", "-i", "inventory_path", type=click.Path(path_type=Path),
              help="Fleet inventory (YAML); NODE is one of its names.")
@click.option("--against", metavar="SOURCE",
              help="Source of truth: a conf or params document file, an inventory node or "
                   "ssh://... [default: the inventory's source].")
@format_option(FORMATS, help="table for a terminal, markdown for an incident channel, "
                             "json for tools.")
@click.option("--probe", is_flag=True,
              help="Gather health evidence on the node: rx/tx growth over --window and an "
                   "in-tunnel ping to the source's mesh address. Off by default.")
@click.option("--window", type=click.FloatRange(0, 300), default=DEFAULT_WINDOW,
              show_default=True, help="Seconds between the two dumps of --probe.")
@click.option("--identity", type=click.Path(dir_okay=False, path_type=Path),
              help="Private key for an ssh:// NODE (and an ssh:// --against), offered "
                   "before ssh_config's IdentityFile, like `ssh -i`.")
@click.option("--known-hosts", type=click.Path(dir_okay=False, path_type=Path),
              help="known_hosts file for an ssh:// NODE (and an ssh:// --against) "
                   "instead of ssh_config's UserKnownHostsFile, like "
                   "`ssh -o UserKnownHostsFile=`.")
@screen_options
@ssh_options
@user_errors
def triage(node_spec: str, inventory_path: Path | None, against: str | None, fmt: str,
           probe: bool, window: float, identity: Path | None, known_hosts: Path | None,
           screen: Screen, run_options: nodes.RunOptions) -> None:
    """Why does NODE's tunnel fail? File, runtime and source side by side,
    the evidence, the likely cause and the exact fix.

    The likely cause is the differing param whose symptom the evidence
    matches; the others are listed with their own symptoms, and the fix
    starts with the cause's (side-local params last, as policy). A source
    that is an SSH node has its running interface read too, so a source
    whose file was never applied shows. With an inventory that declares
    a mesh:, the tunnel between NODE and the source is judged too: an old
    key or a missing [Peer] on either side, the Endpoint port, AllowedIPs
    (docs/triage.md, "The mesh edge"). A source that fails its own rules
    (a value the tools reject, a constraint) is named as the fault, with
    its fix on the source: its values are never offered for copying.

    \b
    Exit codes:
      0  compared with the source: nothing wrong found
      1  a mismatch was found, or the source fails its own rules
      2  usage error
      4  could not check: the node, or the source, could not be read
      5  the source could not be read, and the file and the running
         interface differ
    """
    fleet_file = inventory.load(inventory_path) if inventory_path is not None else None
    ad_hoc = nodes.AdHocSsh(identity, known_hosts)
    if ad_hoc != nodes.NO_AD_HOC and not node_spec.startswith("ssh://") and not (
            against or "").startswith("ssh://"):
        raise UsageError("--identity and --known-hosts apply to nodes named ssh://...; "
                         f"{node_spec} is an inventory node: set 'identity' and "
                         "'known_hosts' for it in the inventory")
    node = nodes.named_node(node_spec, fleet_file, ad_hoc=ad_hoc)
    source = judge_source(resolve_source(against, fleet_file, run_options, ad_hoc),
                          load_rules(()).rules)
    report = run_triage(node, source, TriageOptions(probe, window, run_options), fleet=fleet_file)
    emit(FORMATS.render(fmt, report, screen.layout()), None)
    sys.exit(report.exit_code())
