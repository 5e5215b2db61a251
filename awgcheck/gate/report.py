"""How the gate renders: every report format, plus the change summary in
the terminal table (the other formats read it from ``extra["gate"]``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from awgcheck.model import Report
from awgcheck.report import FORMATS, render
from awgcheck.report import table as table_format
from awgcheck.ruleset.load import Rule


def base_name(base: Mapping[str, Any]) -> str:
    """``origin/main (0123456789ab)``, or the short commit when it was named
    by its hash."""
    ref, commit = str(base.get("ref")), str(base.get("commit"))
    return commit[:12] if commit.startswith(ref) else f"{ref} ({commit[:12]})"


def _summary_lines(summary: Mapping[str, Any]) -> Iterator[str]:
    base = summary.get("base")
    since = f" since {base_name(base)}" if isinstance(base, Mapping) else ""
    changes = summary.get("changes") or []
    if changes:
        yield f"Change{since} in {summary.get('source')}:"
        for change in changes:
            yield f"  - {change['text']}"
    elif base is not None:
        yield f"No param of {summary.get('source')} changed{since}."
    for warning in summary.get("warnings") or []:
        yield f"WARNING: {warning}"
    impact = summary.get("impact")
    if isinstance(impact, Mapping) and impact.get("message"):
        yield f"Fleet impact: {impact['message']}"
    for note in summary.get("notes") or []:
        yield f"Note: {note}"


def render_table(report: Report) -> str:
    """The check table, then what the change does during rollout."""
    text = table_format.render(report)
    summary = report.extra.get("gate")
    if isinstance(summary, Mapping):
        lines = list(_summary_lines(summary))
        if lines:
            text += "\n" + "\n".join(lines) + "\n"
    return text


def render_gate(fmt: str, report: Report, rules: Sequence[Rule]) -> str:
    if fmt == "table":
        return render_table(report)
    return render(fmt, report, rules)


FORMAT_NAMES = sorted(FORMATS)
