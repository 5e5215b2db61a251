"""``awgcheck check``: audit every node of an inventory (the nightly use).

Reads as the data flow: baseline, inventory and waivers -> rules -> read
and check the nodes -> report (with when and what ran, compared with the
baseline) -> exit code.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from awgcheck import __version__, audit, baseline, nodes, selection, waivers
from awgcheck.cli import output
from awgcheck.cli.options import (
    SEVERITIES,
    ansible_inventory_option,
    compose_options,
    emit,
    format_option,
    load_fleet,
    load_rules,
    output_option,
    rules_option,
    screen_options,
    source_option,
    ssh_options,
    user_errors,
    warn,
)
from awgcheck.cli.screen import Screen
from awgcheck.errors import UsageError
from awgcheck.mesh import picture
from awgcheck.mesh.model import Mesh
from awgcheck.model import BaselineUse, Report, RunMeta, Severity, Shard
from awgcheck.report import FORMATS
from awgcheck.report import load as report_file
from awgcheck.report.rulemeta import with_rules
from awgcheck.report.runinfo import utc_stamp
from awgcheck.ruleset import load as ruleset


class Progress:
    """``[37/200] nodes read, 2 could not be checked`` on one stderr line."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.failed = total, 0, 0

    def __call__(self, read: nodes.NodeRead) -> None:
        self.done += 1
        self.failed += read.error is not None
        click.echo(f"\r[{self.done}/{self.total}] nodes read, {self.failed} could not be "
                   "checked", nl=False, err=True)

    def finish(self) -> None:
        click.echo("\r\033[K", nl=False, err=True)


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> Shard | None:
    try:
        return None if value is None else selection.parse_shard(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc).partition(": ")[2], ctx, param) from None


@click.command()
@click.option("--inventory", "-i", "inventory_path", type=click.Path(path_type=Path),
              help="Fleet inventory (awgcheck's YAML, see docs/inventory.md).")
@ansible_inventory_option
@source_option
@rules_option
@click.option("--profile", type=click.Choice(ruleset.PROFILES), default="strict",
              show_default=True,
              help="strict: side-local params (Jc, Jmin, Jmax, I1-I5) must equal the "
                   "source too; protocol: only what breaks the tunnel fails.")
@format_option(FORMATS, help="Report format (prometheus: for node_exporter's textfile "
                              "collector, written with --output).")
@output_option
@screen_options
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="error", show_default=True,
              help="Lowest severity that fails the run (exit code 1).")
@click.option("--omit-passes", is_flag=True,
              help="With --format json: leave passing findings out of the report (a large "
                   "fleet's report is mostly passes); each node and the summary still count "
                   "them, and --baseline and merge read such reports.")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path),
              metavar="PREVIOUS.json",
              help="A `check --format json` report of an earlier run: mark each finding new, "
                   "updated or unchanged (with when it was first seen) and list the ones "
                   "resolved since (see docs/reports.md, Baseline).")
@click.option("--fail-on-new", is_flag=True,
              help="With --baseline: fail (exit 1) only on findings that are new or updated "
                   "since the baseline; those it already had unchanged are reported but do "
                   "not fail the run.")
@click.option("--node", "patterns", multiple=True, metavar="PATTERN",
              help="Check the nodes with this name or matching this glob ('edge-*'); "
                   "repeatable. The source node is always read, but reported only when "
                   "selected.")
@click.option("--group", "groups", multiple=True, metavar="NAME",
              help="Check the nodes of this group (repeatable); with --node, a node "
                   "matching either is checked.")
@click.option("--shard", callback=_shard, metavar="K/N",
              help="Check shard K of N: a stable share of the selected nodes, by a hash "
                   "of their names, so N runs cover the fleet once.")
@click.option("--waivers", "waiver_paths", multiple=True, metavar="FILE",
              type=click.Path(path_type=Path),
              help="Waivers file (a mapping with one key 'waivers', as in the inventory); "
                   "repeatable. Adds to the inventory's own waivers.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), hidden=True,
              help="For tests: the date (YYYY-MM-DD) waiver expiry is judged against "
                   "[default: today, UTC].")
@click.option("--runtime", is_flag=True,
              help="Also read each SSH node's running interface (awg showconf / awg show "
                   "dump, with sudo -n when the node says so) and compare it with the file "
                   "and the source.")
@ssh_options
@compose_options
@user_errors
def check(inventory_path: Path | None, ansible_path: Path | None, source: str | None,
          rule_paths: Sequence[str], profile: str, fmt: str, output_path: Path | None,
          screen: Screen, fail_on: str, omit_passes: bool, baseline_path: Path | None,
          fail_on_new: bool,
          patterns: Sequence[str], groups: Sequence[str], shard: Shard | None,
          waiver_paths: Sequence[Path], today: dt.datetime | None, runtime: bool,
          run_options: nodes.RunOptions) -> None:
    """Audit every node of the inventory (or those --node, --group and
    --shard select) against the source of truth.

    Nodes are read concurrently; a node that cannot be read is reported as
    "could not check" (exit code 4 or 5) and never hides the others; so is a
    source of truth that cannot be read, once, and the rules that compare
    with it are not evaluated. On a
    terminal, progress is shown on stderr; stdout carries only the report.
    A failure a waiver in force covers is reported as waived and fails
    nothing (see docs/inventory.md, "Waivers").
    """
    started = dt.datetime.now(dt.UTC)
    if omit_passes and fmt != "json":
        raise UsageError(f"--omit-passes: only --format json lists passing findings, "
                         f"not --format {fmt}")
    if output_path is not None:
        output.check_writable(output_path)
    against = _read_baseline(baseline_path, fail_on_new)
    fleet_file = load_fleet(inventory_path, ansible_path, source)
    chosen = selection.select(fleet_file, patterns, groups, shard)
    if shard is not None and not chosen.nodes:
        # Not an error (a small fleet in many shards leaves some empty), but
        # a runner that checked nothing should say so, not just "PASS".
        warn(f"shard {shard.index}/{shard.count} holds none of the selected nodes "
             "(a node's shard is a hash of its name; the other shards check them)")
    accepted = (*fleet_file.waivers, *(w for p in waiver_paths for w in waivers.load_file(p)))
    rules = load_rules(rule_paths)
    progress = Progress(len(chosen.nodes)) if sys.stderr.isatty() else None
    meshes: list[Mesh | None] = []
    report = audit.audit(fleet_file, rules, profile=profile, fail_on=Severity(fail_on),
                         selection=chosen, options=replace(run_options, runtime=runtime),
                         progress=progress, waived_by=accepted,
                         today=today.date() if today else started.date(),
                         mesh_seen=meshes.append)
    if progress is not None:
        progress.finish()
    report = replace(with_rules(report, rules.rules, waivers.RULES if accepted else ()),
                     run=RunMeta(__version__, started, dt.datetime.now(dt.UTC),
                                 str(ansible_path or inventory_path), rules.digest))
    if against is not None:
        report = _compared(report, *against, seen_at=utc_stamp(started))
    # Markdown draws the mesh; JSON keeps the drawing, so a report read back
    # from it (awgcheck.report.load) renders the same Markdown.
    if fmt in ("markdown", "json") and meshes:
        report = replace(report, mesh_diagram=picture.when_failing(meshes[0], report))
    emit(FORMATS.pieces(fmt, replace(report, omit_passes=omit_passes), screen.layout(output_path)),
         output_path)
    sys.exit(report.exit_code())


def _read_baseline(path: Path | None, fail_on_new: bool) -> tuple[Report, BaselineUse] | None:
    """The --baseline report and how this run uses it, read before any node."""
    if path is None:
        if fail_on_new:
            raise UsageError("--fail-on-new needs --baseline PREVIOUS.json")
        return None
    previous = report_file.read_check(path, "--baseline")
    return previous, BaselineUse(str(path), baseline.previous_run(previous, path), fail_on_new)


def _compared(report: Report, previous: Report, use: BaselineUse, *, seen_at: str) -> Report:
    """``report`` compared with the baseline, its new findings first seen at
    ``seen_at``, saying on stderr what makes that baseline a poor one."""
    for difference in baseline.differences(report, previous):
        warn(f"--baseline {use.path}: {difference}")
    return baseline.compare(report, previous, use, seen_at)
