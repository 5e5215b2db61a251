"""Human report: failing findings grouped by node, then a summary line.

Written for a terminal at 3 a.m.: the verdict in one line first (and
again last, for ``tail -1``), the worst thing next, the symptom and
the fix next to it, waived failures last with why and until when, and
nodes that could not be checked said plainly. For the CI gate, what the
change does during rollout follows the summary line; the line above it
says which awgcheck ran, when, on what inventory and rules. Compared with
a baseline, what is new comes first: nodes with a new finding, then nodes
with an updated one, and in each node new, updated, then unchanged
findings; the findings resolved since follow the nodes. Every line fits
the layout's width (:mod:`awgcheck.report.layout`); severities and
verdicts are coloured when it allows (:mod:`awgcheck.report.colour`).
"""

from __future__ import annotations

from collections.abc import Iterator

from awgcheck.errors import ErrorClass
from awgcheck.model import (
    TEMPLATE_PLACEHOLDERS,
    BaselineState,
    Finding,
    GateSummary,
    NodeResult,
    Report,
    Status,
)
from awgcheck.report.colour import paint_word
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import PLAIN, Layout, wrap_all
from awgcheck.report.runinfo import footer
from awgcheck.report.source import consequence, source_name
from awgcheck.report.verdict import verdict
from awgcheck.wording import count


def _value(text: str | None) -> str:
    return "-" if text is None else text


_SHOWN = (Status.FAIL, Status.ERROR, Status.WAIVED)

_STATE_ORDER = {BaselineState.NEW: 0, BaselineState.UPDATED: 1}
"""New findings first, then updated; unchanged ones (and a run without a
baseline) after, in the order they rank by severity."""
_LAST = len(_STATE_ORDER)


def _news(finding: Finding) -> int:
    if finding.baseline_state is None:
        return _LAST
    return _STATE_ORDER.get(finding.baseline_state, _LAST)


def _node_rows(findings: list[Finding], compared: bool) -> list[list[str]]:
    rows = []
    for f in sorted(findings, key=_rank):
        where = str(f.location) if f.location else ""
        shown = "WAIVED" if f.status is Status.WAIVED else f.severity.value.upper()
        state = [_value(f.baseline_state)] if compared else []
        rows.append([*state, shown, _value(f.param), f.rule, f.message, where])
    return rows


def _rank(finding: Finding) -> tuple[bool, int, int]:
    """Waived findings after every live one; new, then updated, then the
    rest; worst first."""
    return finding.status is Status.WAIVED, _news(finding), -finding.severity.rank


def _in_order(report: Report) -> list[NodeResult]:
    """The nodes in report order; compared with a baseline, those with a
    new live finding first, then those with an updated one."""
    news: dict[str, int] = {}
    for f in report.findings:
        if f.status in (Status.FAIL, Status.ERROR):
            news[f.node] = min(news.get(f.node, _LAST), _news(f))
    return sorted(report.nodes, key=lambda n: news.get(n.name, _LAST))


def render(report: Report, view: Layout = PLAIN) -> str:
    """The report for people, drawn to ``view``."""
    out: list[str] = [str(verdict(report))]
    shard = f" (shard {report.shard.index}/{report.shard.count})" if report.shard else ""
    out.append(f"awgcheck: {count(len(report.nodes), 'node')}{shard}, source of truth: "
               f"{source_name(report)}, profile {report.profile}")
    out.extend(_source_failure(report))
    by_node: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.status in _SHOWN:
            by_node.setdefault(finding.node, []).append(finding)
    for node in _in_order(report):
        if report.is_failed_source(node):
            continue  # said above, once
        if node.status is Status.ERROR and node.error_class is not ErrorClass.RULE_ERROR:
            out.append(f"\n== {node.name}: COULD NOT CHECK ({node.error_class}) ==")
            out.append(f"   {node.error}")
            continue
        shown = by_node.get(node.name)
        if shown:
            out.extend(_block(f"{node.name}: {node.status.value.upper()}", shown, report, view))
    # Findings about no node (a waiver that matched nothing names its file).
    names = {node.name for node in report.nodes}
    for name, shown in by_node.items():
        if name not in names:
            out.extend(_block(name, shown, report, view))
    templates = [f for f in report.findings if f.rule == TEMPLATE_PLACEHOLDERS]
    if templates:
        # Once per template, whether or not it failed: what was left alone.
        out.append("\nNot compared (template placeholders):")
        out.extend(f"   {f.node}: {f.message}" for f in templates)
    if report.resolved:
        out.append(f"\nResolved since the baseline ({len(report.resolved)}):")
        out.extend(f"   {f.node}: {f.rule}{f' {f.param}' if f.param else ''} "
                   f"(first seen {f.first_seen})" for f in report.resolved)
    out.append("")
    gate = list(_gate(report.gate)) if report.gate is not None else []
    if gate:
        out += [*gate, ""]
    if report.run is not None:
        out.append(footer(report.run))
    out.append(_counts(report))
    out.append(str(verdict(report)))  # last, for `tail -1`
    lines = "\n".join(out).split("\n")
    return "\n".join(_painted(wrap_all(lines, view.width), view)) + "\n"


def _painted(lines: list[str], view: Layout) -> list[str]:
    """Titles and verdict lines with their verdict word coloured (table rows
    are coloured by :func:`~awgcheck.report.grid.grid`)."""
    if not view.colour:
        return lines
    return [paint_word(line, view) if line.startswith(("== ", "FAIL:", "PASS:", "INCOMPLETE:"))
            else line for line in lines]


def _source_failure(report: Report) -> Iterator[str]:
    failure = report.source_failure
    if failure is None:
        return
    yield f"\n== source of truth {source_name(report)}: COULD NOT READ ({failure.error_class}) =="
    yield f"   {failure.error}"
    yield f"   {consequence(report)}"


_COLUMNS = (Column("severity", Kind.NAME, coloured=True), Column("param", Kind.NAME),
            Column("rule", Kind.VALUE, under=True), Column("finding"),
            Column("where", Kind.PATH, under=True))
_BASELINE = Column("baseline", Kind.NAME)


def _block(title: str, shown: list[Finding], report: Report, view: Layout) -> list[str]:
    """One node's (or file's) table, with the symptoms, fixes and waivers under it."""
    lines = [f"\n== {title} =="]
    state = [_BASELINE] if report.baseline is not None else []
    lines.append(grid(_node_rows(shown, bool(state)), [*state, *_COLUMNS], view))
    lines.extend(_explanations([f for f in shown if f.status is not Status.WAIVED], report))
    lines.extend(_waivers(shown))
    return lines


def _waivers(shown: list[Finding]) -> list[str]:
    """Why each waived row is accepted, whose it is, until when."""
    lines = []
    for f in shown:
        if f.status is Status.WAIVED and f.waiver is not None:
            w = f.waiver
            owner = f"; owner {w.owner}" if w.owner else ""
            lines.append(f"   waived ({f.param or f.rule}): {w.reason}{owner}; until "
                         f"{w.expires.isoformat()} ({w.location})")
    return lines


def _gate(summary: GateSummary) -> Iterator[str]:
    since = f" since {summary.base.name}" if summary.base is not None else ""
    if summary.changes:
        yield f"Change{since} in {summary.source}:"
        yield from (f"  - {change.text}" for change in summary.changes)
    elif summary.base is not None:
        yield f"No param of {summary.source} changed{since}."
    yield from (f"WARNING: {warning}" for warning in summary.warnings)
    if summary.impact is not None and summary.impact.message:
        yield f"Fleet impact: {summary.impact.message}"
    yield from (f"Note: {note}" for note in summary.notes)


def _explanations(failing: list[Finding], report: Report) -> list[str]:
    """Symptom and fix under the table, worst first, each tied to its param
    or rule so the operator knows which line explains which row."""
    lines: list[str] = []
    ranked = sorted(failing, key=lambda f: -f.severity.rank)
    seen_symptoms: set[tuple[str | None, str]] = set()
    for f in ranked:
        if f.symptom and (f.param, f.symptom) not in seen_symptoms:
            seen_symptoms.add((f.param, f.symptom))
            lines.append(f"   symptom ({f.param or f.rule}): {f.symptom}")
    fixes = dict.fromkeys((f.rule, f.remediation) for f in ranked
                          if f.remediation and f.severity.at_least(report.fail_on))
    lines.extend(f"   fix ({rule}): {fix}" for rule, fix in fixes)
    return lines


def _counts(report: Report) -> str:
    """Every node counted, and what the run fails on: the line above the verdict."""
    passed = sum(1 for n in report.nodes if n.status is Status.PASS)
    failed = sum(1 for n in report.nodes if n.status is Status.FAIL)
    unchecked = len(report.unchecked())
    return (f"{passed} passed, {failed} failed, {unchecked} could not be checked "
            f"(--fail-on {report.fail_on.value}{_since(report)})")


def _since(report: Report) -> str:
    """``; since the baseline: 1 new, 0 updated, 3 unchanged, 1 resolved``."""
    if report.baseline is None:
        return ""
    states = [f.baseline_state for f in report.findings]
    counts = [f"{states.count(state)} {state.value}" for state in
              (BaselineState.NEW, BaselineState.UPDATED, BaselineState.UNCHANGED)]
    only = ", --fail-on-new" if report.baseline.fail_on_new else ""
    return f"; since the baseline: {', '.join(counts)}, {len(report.resolved)} resolved{only}"
