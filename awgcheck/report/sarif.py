"""SARIF 2.1.0, for code scanning (GitHub ``upload-sarif``, GitLab, IDEs).

One ``run`` with awgcheck as ``tool.driver``: a ``rules`` entry per
awgcheck rule (every loaded rule when the caller attached their metadata
as ``report.rules``, else the rules that appear in findings), one
``result`` per failed or waived finding with its file and line (a waived
one with an external, accepted ``suppression`` that gives the waiver's
reason and place), and nodes that could not be checked (and a source of
truth that could not be read) as tool execution notifications, since they
have no place in a file. The invocation says when the run started and
ended, on what inventory and rules.

Compared with a baseline (``check --baseline``), each result carries its
``baselineState`` (``new``, ``unchanged``, ``updated``) and, among its
properties, ``first_seen``. Resolved findings are not written as
``absent`` results: GitHub code scanning does not document reading
``baselineState``, so each would risk an alert for something fixed; the
JSON report lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from awgcheck import __version__
from awgcheck.model import Finding, Location, Report, RuleMeta, Severity, Status, Waiver
from awgcheck.report import json_text
from awgcheck.report.rulemeta import rule_metadata
from awgcheck.report.runinfo import utc_stamp
from awgcheck.report.source import statement

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

LEVELS: Mapping[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}


def _sarif_name(rule_id: str) -> str:
    """SARIF wants a readable PascalCase name beside the opaque id."""
    return "".join(part.capitalize() for part in rule_id.replace("_", "-").split("-"))


def _rule(meta: RuleMeta) -> dict[str, Any]:
    description = meta.description or meta.title or meta.id
    help_text = f"{description}\n\nFix: {meta.remediation}" if meta.remediation else description
    entry: dict[str, Any] = {
        "id": meta.id,
        "name": _sarif_name(meta.id),
        "shortDescription": {"text": meta.title or meta.id},
        "fullDescription": {"text": description},
        "help": {"text": help_text, "markdown": help_text.replace("\n\nFix: ", "\n\n**Fix:** ")},
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
    }
    if meta.tags:
        entry["properties"] = {"tags": list(meta.tags)}
    return entry


def uri(path: str) -> str:
    """A URI reference for a report path: relative paths stay relative (code
    scanning resolves them against the checkout); absolute ones become
    ``file://`` URIs; ``host:/path`` forms are percent-encoded so the host
    is not mistaken for a URI scheme."""
    if path.startswith("/"):
        return "file://" + quote(path)
    return quote(path.replace("\\", "/"), safe="/")


def _physical(location: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri(location.place)}}
    if location.line is not None and location.line >= 1:
        physical["region"] = {"startLine": location.line}
    return {"physicalLocation": physical}


def _location(finding: Finding) -> list[dict[str, Any]]:
    return [] if finding.location is None else [_physical(finding.location)]


def _suppression(waiver: Waiver) -> dict[str, Any]:
    """A waiver as SARIF has it: accepted outside the analysed file."""
    properties: dict[str, Any] = {"expires": waiver.expires.isoformat()}
    if waiver.owner:
        properties["owner"] = waiver.owner
    return {"kind": "external", "status": "accepted", "justification": waiver.reason,
            "location": _physical(waiver.location), "properties": properties}


def _message(finding: Finding) -> str:
    text = finding.message
    if finding.location is None or finding.node != finding.location.place:
        text = f"{finding.node}: {text}"
    if finding.symptom:
        text += f" Symptom: {finding.symptom}."
    return text


def _result(finding: Finding, index: Mapping[str, int]) -> dict[str, Any]:
    properties = {key: value for key, value in (
        ("node", finding.node), ("severity", finding.severity.value),
        ("param", finding.param), ("expected", finding.expected),
        ("actual", finding.actual), ("symptom", finding.symptom),
        ("remediation", finding.remediation), ("first_seen", finding.first_seen))
        if value is not None}
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": _location(finding),
        "properties": properties,
    }
    if finding.related is not None:  # the other end of a mesh edge
        result["relatedLocations"] = [{
            "id": 1, **_physical(finding.related.location),
            "message": {"text": f"{finding.related.node}: the other end"}}]
    if finding.status is Status.WAIVED and finding.waiver is not None:
        result["suppressions"] = [_suppression(finding.waiver)]
    if finding.baseline_state is not None:
        result["baselineState"] = finding.baseline_state.value
    return result


def _notifications(report: Report) -> list[dict[str, Any]]:
    said = statement(report)
    notes = [] if said is None else [{"level": "error", "message": {"text": said}}]
    notes += [{"level": "error", "message": {"text": f"{node.name}: could not be checked "
                                                    f"({node.error_class}): {node.error}"}}
              for node in report.unchecked() if not report.is_failed_source(node)]
    notes += [{"level": "error", "message": {"text": f"{f.node}: {f.message}"}}
              for f in report.findings if f.status is Status.ERROR]
    return notes


def _invocation(report: Report) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.unchecked() and report.source_failure is None,
        "exitCode": report.exit_code(),
        "toolExecutionNotifications": _notifications(report),
    }
    run = report.run
    if run is not None:
        invocation["startTimeUtc"] = utc_stamp(run.started_at)
        invocation["endTimeUtc"] = utc_stamp(run.finished_at)
        invocation["properties"] = {"inventory": run.inventory,
                                    "rulesDigest": run.rules_digest,
                                    "durationSeconds": run.duration_s}
    return invocation


def as_dict(report: Report) -> dict[str, Any]:
    metadata = rule_metadata(report)
    index = {meta.id: i for i, meta in enumerate(metadata)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "awgcheck",
                "version": report.run.version if report.run else __version__,
                "rules": [_rule(meta) for meta in metadata],
            }},
            "invocations": [_invocation(report)],
            "results": [_result(f, index) for f in report.findings
                        if f.failed or f.status is Status.WAIVED],
        }],
    }


def render(report: Report) -> str:
    return json_text.dumps(as_dict(report), end="\n")
