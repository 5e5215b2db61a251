"""``awgcheck rules list|show``: the rules, and everything about one of them."""

from __future__ import annotations

from collections.abc import Sequence

import click

from awgcheck.cli.options import load_rules, rules_option, user_errors
from awgcheck.errors import UsageError
from awgcheck.report.grid import grid
from awgcheck.text import printable


@click.group()
def rules() -> None:
    """List and explain the rules."""


@rules.command("list")
@rules_option
@user_errors
def rules_list(rule_paths: Sequence[str]) -> None:
    """One line per rule: id, severity, title."""
    loaded = load_rules(rule_paths)
    # Rule files are input too: their text is escaped like any other.
    rows = [[printable(str(cell)) for cell in
             (r.id, r.severity.value, r.select.artifact_names, r.title)]
            for r in loaded.rules]
    click.echo(grid(rows, ["id", "severity", "reads", "title"], tablefmt="simple"))


@rules.command("show")
@click.argument("rule_id")
@rules_option
@user_errors
def rules_show(rule_id: str, rule_paths: Sequence[str]) -> None:
    """Everything about one rule: what it checks, why, and how to fix it."""
    loaded = load_rules(rule_paths)
    rule = loaded.by_id.get(rule_id)
    if rule is None:
        raise UsageError(f"no rule with id '{rule_id}' (see `awgcheck rules list`)")
    selected = "every key" if rule.select.all_params else ", ".join(rule.select.params)
    reads = f"{rule.select.artifact_names}, [{rule.select.section}], {selected}"
    if rule.select.compose is not None:
        reads = f"compose: {rule.select.compose.describe()}"
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
    click.echo("\n".join(printable(part) for line in lines for part in line.split("\n")))
