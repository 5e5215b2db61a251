"""``awgcheck rules list|show``: the rules, and everything about one of them.

Besides the loaded rules, both list the ids no rule file declares that
``check`` reports about waivers (``waiver-expired``, ``waiver-unused``)
and ``gate`` about its config (``consumer-glob-unmatched``), so every rule
id a report names can be looked up here.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from awgcheck.checks import CHECKS
from awgcheck.cli.options import emit, load_rules, rules_option, screen_options, user_errors
from awgcheck.cli.screen import Screen
from awgcheck.errors import UsageError
from awgcheck.gate import unmatched
from awgcheck.model import RuleMeta
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import Layout, wrap_all
from awgcheck.text import printable
from awgcheck.waivers import RULES as WAIVER_RULES

WAIVERS_READ = "waivers"
"""What the waiver ids read: the inventory's waivers and --waivers files."""
BUILT_IN: tuple[tuple[str, str, RuleMeta], ...] = (
    *((WAIVERS_READ, "the inventory's waivers: list and --waivers files", meta)
      for meta in WAIVER_RULES),
    ("gate config", "the consumers: globs of the gate's awgcheck.yaml", unmatched.RULE),
)
"""The ids no rule file declares: what each reads, in short and in full."""


@click.group()
def rules() -> None:
    """List and explain the rules."""


_LIST = (Column("id", Kind.NAME), Column("severity", Kind.NAME, coloured=True),
         Column("reads", Kind.VALUE), Column("title"))


@rules.command("list")
@rules_option
@screen_options
@user_errors
def rules_list(rule_paths: Sequence[str], screen: Screen) -> None:
    """One line per rule: id, severity, title."""
    loaded = load_rules(rule_paths)
    # Rule files are input too: their text is escaped like any other.
    rows = [[printable(str(cell)) for cell in
             (r.id, r.severity.value, r.select.artifact_names, r.title)]
            for r in loaded.rules]
    rows += [[meta.id, meta.severity.value, reads, meta.title] for reads, _, meta in BUILT_IN]
    emit(grid(rows, _LIST, screen.layout()) + "\n", None)


@rules.command("show")
@click.argument("rule_id")
@rules_option
@screen_options
@user_errors
def rules_show(rule_id: str, rule_paths: Sequence[str], screen: Screen) -> None:
    """Everything about one rule: what it checks, why, and how to fix it."""
    loaded = load_rules(rule_paths)
    rule = loaded.by_id.get(rule_id)
    builtin = next((entry for entry in BUILT_IN if entry[2].id == rule_id), None)
    if rule is None and builtin is not None:
        _show_meta(*builtin, screen.layout())
        return
    if rule is None:
        raise UsageError(f"no rule with id '{rule_id}' (see `awgcheck rules list`)")
    selected = "every key" if rule.select.all_params else ", ".join(rule.select.params)
    reads = f"{rule.select.artifact_names}, [{rule.select.section}], {selected}"
    if rule.select.compose is not None:
        reads = f"compose: {rule.select.compose.describe()}"
    if CHECKS[rule.check.type].cross_node:
        reads = "conf, and every other node's (the inventory's mesh:, docs/topology.md)"
    lines = [
        f"{rule.id}: {rule.title}",
        f"severity:    {rule.severity.value}"
        + "".join(f" ({p} profile: {s.value})" for p, s in rule.profiles.items()),
        f"reads:       {reads}",
        f"check:       {rule.check.type}",
        "",
        rule.description,
        "",
        f"fix: {rule.remediation}",
    ]
    for param, text in rule.applicable_symptoms().items():
        lines.append(f"symptom ({param}): {text}")
    _print([printable(part) for line in lines for part in line.split("\n")], screen.layout())


def _print(lines: list[str], view: Layout) -> None:
    """Prose lines wrapped to the width, continuations under their text."""
    emit("\n".join(wrap_all(lines, view.width, hanging="")) + "\n", None)


def _show_meta(reads: str, what: str, meta: RuleMeta, view: Layout) -> None:
    """A rule id no rule file declares (the waiver and gate config findings)."""
    lines = [f"{meta.id}: {meta.title}", f"severity:    {meta.severity.value}",
             f"reads:       {reads} ({what})", "",
             meta.description, "", f"fix: {meta.remediation}"]
    _print(lines, view)
