"""``awgcheck fix NODE``: the diff that brings one node's conf to the
source of truth; with ``--apply``, written under the node's merge lock.

Reads as the data flow: inventory and rules -> the source (refused if it
breaks its own rules) -> the node's conf (refused if unreadable or if it
does not load) -> the plan and what would still fail -> the diff, and with
--apply the locked write, its re-check and an optional reload.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from awgcheck import exitcodes, nodes
from awgcheck.cli.options import (
    emit,
    format_option,
    load_fleet,
    load_rules,
    rules_option,
    say,
    ssh_options,
    user_errors,
)
from awgcheck.collect.local import LocalTreeCollector
from awgcheck.errors import UsageError
from awgcheck.fix import apply as applying
from awgcheck.fix import run
from awgcheck.fix.render import FORMATS, FixView, notes
from awgcheck.ruleset import load as ruleset
from awgcheck.text import printable


@click.command()
@click.argument("node_name", metavar="NODE")
@click.option("--inventory", "-i", "inventory_path", type=click.Path(path_type=Path),
              required=True, help="Fleet inventory (awgcheck's YAML, see docs/inventory.md).")
@click.option("--source", metavar="NODE|PATH",
              help="Source of truth: a node, or a conf or params document file [default: "
                   "the inventory's 'source'].")
@rules_option
@click.option("--profile", type=click.Choice(ruleset.PROFILES), default="strict",
              show_default=True,
              help="strict: side-local params (Jc, Jmin, Jmax, I1-I5, ...) are set to the "
                   "source's too; protocol: only must-match params (and a side-local one "
                   "that fails a rule).")
@format_option(FORMATS, help="diff: a unified diff for `patch -p1` run from / on the node "
                             "(notes on stderr); json: the edits, the notes and the diff.")
@click.option("--apply", "do_apply", is_flag=True,
              help="Write the change: under flock on <conf>.lock, only if the conf is still "
                   "the one the diff was computed from, keeping a backup next to it. "
                   "Without it nothing is written (dry run).")
@click.option("--lock-timeout", type=click.FloatRange(0, 3600), default=30.0,
              show_default=True, help="Seconds --apply waits for <conf>.lock before it "
                                      "refuses.")
@click.option("--reload", "do_reload", is_flag=True,
              help="With --apply, when values changed: recreate the interface "
                   "(awg-quick down IFACE && awg-quick up IFACE). Never done by default.")
@ssh_options
@user_errors
def fix(node_name: str, inventory_path: Path, source: str | None,
        rule_paths: Sequence[str], profile: str, fmt: str, do_apply: bool,
        lock_timeout: float, do_reload: bool, run_options: nodes.RunOptions) -> None:
    """Print the diff that brings NODE's conf to the source of truth under
    --profile: drifted params set, duplicate lines removed (the last one,
    the one the tools read, is kept), lines respelled `Key = value`; every
    other byte kept. Lines holding a secret are never printed or changed.

    Exit codes: 0 the fixed conf passes check; 1 it would still fail
    (work left to a person is listed), or --reload failed after the write;
    2 usage or inventory error; 3 refused, nothing changed (the reason is
    printed).
    """
    if do_reload and not do_apply:
        raise UsageError("--reload needs --apply")
    fleet_file = load_fleet(inventory_path, None, source)
    node = fleet_file.node(node_name)
    rules = load_rules(rule_paths).rules
    if do_apply:
        run_options = replace(run_options, timeout=run_options.timeout + lock_timeout)
    try:
        source_name, source_doc = run.read_source(fleet_file, run_options)
        run.refuse_broken_source(rules, source_name, source_doc, profile)
        collector, read = run.with_node(node, run_options)
        try:
            read = run.with_checked_documents(collector, read, run_options)
            if do_reload and isinstance(collector, LocalTreeCollector):
                raise UsageError(f"{node.name}: a local node tree has no interface to "
                                 "reload; --reload needs an SSH node")
            result = run.fix(rules, read, source_name, source_doc, profile, fleet=fleet_file)
            view = FixView(node.name, read.path, read.where, result.plan, result.remaining,
                           applying.reload_command(read) if result.plan.changes_values else "")
            if do_apply and result.plan.changes:
                done = applying.apply(
                    collector, result, lambda data: run.remaining(
                        rules, read, data, source_name, source_doc, profile,
                        fleet=fleet_file),
                    lock_timeout, do_reload)
                view = replace(view, applied=True, backup=done.backup,
                               remaining=done.remaining, reloaded=done.reloaded,
                               reload_error=done.reload_error)
        finally:
            collector.close()
    except run.FixRefused as exc:
        click.echo(f"awgcheck: fix refused: {printable(str(exc))}", err=True)
        sys.exit(exitcodes.REFUSED)
    emit(FORMATS.render(fmt, view), None)
    if fmt == "diff":
        for note in notes(view):
            say(note.level, note.text)
    sys.exit(exitcodes.FAILED if view.remaining or view.reload_error else exitcodes.OK)

