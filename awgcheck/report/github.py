"""GitHub Actions workflow commands: annotations on the exact file and line.

One ``::error``/``::warning``/``::notice`` line per failed finding (by
severity), a ``::notice`` per waived one (saying why and until when), one
``::error`` per node that could not be checked (the source of truth that
could not be read: one, saying what was not compared), and for the
CI gate the change summary: each changed param annotated on the source
line, and the rollout warnings. Values are escaped as the runner requires
(``%``, CR and LF in messages; also ``:`` and ``,`` in properties), so a
message can never end the command early or forge another one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from awgcheck.model import Finding, GateSummary, Report, Severity, Status
from awgcheck.report.source import statement

COMMANDS: Mapping[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    """Escape a command's message (toolkit/core ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (toolkit/core ``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    """``::name key=value,...::message`` with every part escaped."""
    props = ",".join(f"{key}={escape_property(str(value))}"
                     for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _finding(finding: Finding) -> str:
    message = finding.message
    if finding.location is None or finding.node != finding.location.place:
        message = f"{finding.node}: {message}"
    if finding.symptom:
        message += f"\nSymptom: {finding.symptom}"
    name, title = COMMANDS[finding.severity], finding.rule
    waiver = finding.waiver
    if finding.status is Status.WAIVED and waiver is not None:
        # Accepted: shown where it is, never as an error or a warning.
        owner = f", owner {waiver.owner}" if waiver.owner else ""
        message += (f"\nWaived until {waiver.expires.isoformat()}{owner} "
                    f"({waiver.location}): {waiver.reason}")
        name, title = "notice", f"{finding.rule} (waived)"
    elif finding.remediation:
        message += f"\nFix: {finding.remediation}"
    location = finding.location
    return command(name, message,
                   file=location.place if location else None,
                   line=location.line if location else None,
                   title=title)


def _gate(summary: GateSummary) -> Iterator[str]:
    for change in summary.changes:
        where = change.location
        yield command("warning" if change.must_match else "notice", change.text,
                      file=where.place if where else None, line=where.line if where else None,
                      title=f"{change.role.value} change: {change.param}")
    for warning in summary.warnings:
        yield command("warning", warning, title="awgcheck gate: rollout")
    if summary.impact is not None and summary.impact.message:
        yield command("warning", summary.impact.message, title="awgcheck gate: fleet impact")
    for note in summary.notes:
        yield command("notice", note, title="awgcheck gate")


def render(report: Report) -> str:
    lines = [_finding(f) for f in report.findings
             if f.failed or f.status is Status.WAIVED]
    said = statement(report)
    if said is not None and report.source_failure is not None:
        lines.append(command("error", said, title="awgcheck: source of truth could not be "
                             f"read ({report.source_failure.error_class})"))
    lines += [command("error", f"{node.name}: {node.error}",
                      title=f"awgcheck: could not check ({node.error_class})")
              for node in report.unchecked() if not report.is_failed_source(node)]
    if report.gate is not None:
        lines.extend(_gate(report.gate))
    return "".join(line + "\n" for line in lines)
