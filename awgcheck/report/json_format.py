"""The JSON report (schema ``awgcheck.report/v1``).

Later versions may add fields, never remove or rename these: scripts and
the CI gate's impact prediction read them.
"""

from __future__ import annotations

import json
from typing import Any

from awgcheck.model import Finding, NodeResult, Report, Status

SCHEMA = "awgcheck.report/v1"


def _node(node: NodeResult) -> dict[str, Any]:
    return {"name": node.name, "status": node.status.value, "error": node.error,
            "error_class": node.error_class}


def _finding(finding: Finding) -> dict[str, Any]:
    location = finding.location
    return {
        "rule": finding.rule,
        "node": finding.node,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "param": finding.param,
        "expected": finding.expected,
        "actual": finding.actual,
        "location": None if location is None else {"path": location.path,
                                                   "line": location.line},
        "message": finding.message,
        "symptom": finding.symptom,
        "remediation": finding.remediation,
    }


def as_dict(report: Report) -> dict[str, Any]:
    checked = [n for n in report.nodes if n.status is not Status.ERROR]
    return {
        "schema": SCHEMA,
        "source": {"node": report.source_node, "path": report.source_path},
        "profile": report.profile,
        "fail_on": report.fail_on.value,
        "summary": {
            "nodes": len(report.nodes),
            "checked": len(checked),
            "failed": sum(1 for n in report.nodes if n.status is Status.FAIL),
            "errors": len(report.unchecked()),
            "exit_code": report.exit_code(),
        },
        "nodes": [_node(n) for n in report.nodes],
        "findings": [_finding(f) for f in report.findings],
        **report.extra,
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
