"""Human report: failing findings grouped by node, then a summary line.

Written for a terminal at 3 a.m.: the worst thing first, the symptom and
the fix next to it, and nodes that could not be checked said plainly.
"""

from __future__ import annotations

from tabulate import tabulate

from awgcheck.model import Finding, Report, Status


def _value(text: str | None) -> str:
    return "-" if text is None else text


def _node_rows(findings: list[Finding]) -> list[list[str]]:
    rows = []
    for f in sorted(findings, key=lambda f: -f.severity.rank):
        where = str(f.location) if f.location else ""
        rows.append([f.severity.value.upper(), f.rule, _value(f.param), f.message, where])
    return rows


def render(report: Report) -> str:
    out: list[str] = []
    source = report.source_node or report.source_path
    out.append(f"awgcheck: {len(report.nodes)} nodes, source of truth: {source}, "
               f"profile {report.profile}")
    for node in report.nodes:
        if node.status is Status.ERROR and node.error_class != "rule_error":
            out.append(f"\n== {node.name}: COULD NOT CHECK ({node.error_class}) ==")
            out.append(f"   {node.error}")
            continue
        failing = [f for f in report.findings if f.node == node.name
                   and f.status in (Status.FAIL, Status.ERROR)]
        if not failing:
            continue
        out.append(f"\n== {node.name}: {node.status.value.upper()} ==")
        out.append(tabulate(_node_rows(failing),
                            headers=["severity", "rule", "param", "finding", "where"],
                            tablefmt="simple", maxcolwidths=[None, None, None, 70, None]))
        notes = []
        for f in failing:
            if f.symptom and f.symptom not in notes:
                notes.append(f.symptom)
        for note in notes:
            out.append(f"   symptom: {note}")
        fixes = dict.fromkeys(f.remediation for f in failing
                              if f.remediation and f.severity.at_least(report.fail_on))
        for fix in fixes:
            out.append(f"   fix: {fix}")
    out.append("")
    out.append(_summary(report))
    return "\n".join(out) + "\n"


def _summary(report: Report) -> str:
    passed = sum(1 for n in report.nodes if n.status is Status.PASS)
    failed = sum(1 for n in report.nodes if n.status is Status.FAIL)
    unchecked = len(report.unchecked())
    counts: dict[str, int] = {}
    for f in report.findings:
        if f.failed:
            counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    detail = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no findings"
    verdict = "FAIL" if report.exit_code() else "PASS"
    return (f"{verdict}: {passed} passed, {failed} failed, {unchecked} could not be checked "
            f"({detail}; --fail-on {report.fail_on.value}); exit code {report.exit_code()}")
