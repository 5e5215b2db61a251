"""The JSON report (schema ``awgcheck.report/v2``).

Later versions may add fields, never remove or rename these: scripts and
the CI gate's impact prediction read them. v2 took a location's host and
port out of its path (v1 wrote ``"path": "host:2222:/etc/..."`` for a file
on an SSH node); readers take either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from awgcheck.model import (
    BaselineState,
    BaselineUse,
    Finding,
    GateSummary,
    Location,
    NodeResult,
    Report,
    RuleMeta,
    RunMeta,
    Status,
    Waiver,
)
from awgcheck.report import json_text
from awgcheck.report.runinfo import utc_stamp

SCHEMA = "awgcheck.report/v2"
SCHEMA_V1 = "awgcheck.report/v1"
"""The schema before locations had a host and port of their own."""
READABLE = (SCHEMA, SCHEMA_V1)


def _node(node: NodeResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": node.name, "status": node.status.value, "error": node.error,
                             "error_class": node.error_class}
    if node.index is not None:  # a node of an inventory, not a file of the gate
        entry["index"] = node.index
    if node.groups:
        entry["groups"] = list(node.groups)
    entry["passes"] = node.passes
    return entry


def _location(location: Location | None) -> dict[str, Any] | None:
    """Where a file is: ``path`` and ``line``, after ``host`` and ``port``
    for a file on an SSH node (a local file has neither key)."""
    if location is None:
        return None
    place = {} if location.host is None else {"host": location.host, "port": location.port}
    return {**place, "path": location.path, "line": location.line}


def _finding(finding: Finding) -> dict[str, Any]:
    entry = _finding_fields(finding)
    if finding.related is not None:  # a finding about two nodes (a mesh edge)
        entry["related"] = {"node": finding.related.node,
                            "location": _location(finding.related.location)}
    return entry


def _finding_fields(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "node": finding.node,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "param": finding.param,
        "expected": finding.expected,
        "actual": finding.actual,
        "location": _location(finding.location),
        "message": finding.message,
        "symptom": finding.symptom,
        "remediation": finding.remediation,
        "waiver": _waiver(finding.waiver),
        "baseline_state": finding.baseline_state,
        "first_seen": finding.first_seen,
    }


def _waiver(waiver: Waiver | None) -> dict[str, Any] | None:
    if waiver is None:
        return None
    return {"reason": waiver.reason, "owner": waiver.owner,
            "expires": waiver.expires.isoformat(), "nodes": list(waiver.nodes),
            "rule": waiver.rule, "param": waiver.param,
            "location": _location(waiver.location)}


def _run(run: RunMeta) -> dict[str, Any]:
    return {"version": run.version, "started_at": utc_stamp(run.started_at),
            "finished_at": utc_stamp(run.finished_at), "duration_s": run.duration_s,
            "inventory": run.inventory, "rules_digest": run.rules_digest}


def _gate(summary: GateSummary) -> dict[str, Any]:
    """The gate's change summary; its keys are part of the v1 contract."""
    base, impact = summary.base, summary.impact
    return {
        "base": None if base is None else {"ref": base.ref, "commit": base.commit},
        "source": summary.source,
        "changes": [{"param": c.param, "class": c.role.value, "before": c.before,
                     "after": c.after, "symptom": c.symptom, "text": c.text,
                     "location": _location(c.location)} for c in summary.changes],
        "warnings": list(summary.warnings),
        "impact": None if impact is None else {"nodes": list(impact.nodes),
                                               "unknown": list(impact.unknown),
                                               "message": impact.message},
        "notes": list(summary.notes),
    }


def _source(report: Report) -> dict[str, Any]:
    """The source of truth; ``error``, ``error_class`` and ``not_evaluated``
    (the rules that compare with it) say, once, why it could not be read."""
    failure = report.source_failure
    return {"node": report.source_node, "path": report.source_path,
            "error": None if failure is None else failure.error,
            "error_class": None if failure is None else failure.error_class,
            "not_evaluated": [] if failure is None else list(failure.not_evaluated)}


def _rule(meta: RuleMeta) -> dict[str, Any]:
    return {"id": meta.id, "title": meta.title, "severity": meta.severity.value,
            "description": meta.description, "remediation": meta.remediation,
            "tags": list(meta.tags), "drift": meta.drift}


def _baseline(use: BaselineUse) -> dict[str, Any]:
    return {"path": use.path, "previous_run": use.previous_run, "fail_on_new": use.fail_on_new}


def _baseline_counts(report: Report) -> dict[str, int]:
    """How many findings are new, updated, unchanged, and resolved."""
    states = [f.baseline_state for f in report.findings]
    counts = {state.value: states.count(state) for state in
              (BaselineState.NEW, BaselineState.UPDATED, BaselineState.UNCHANGED)}
    return {**counts, "resolved": len(report.resolved)}


def _counts(report: Report) -> dict[str, int]:
    """Findings by status; passes counted from the nodes when they are not
    listed (``--omit-passes``)."""
    counts = dict.fromkeys((s.value for s in Status), 0)
    for finding in report.findings:
        counts[finding.status.value] += 1
    if report.omit_passes:
        counts[Status.PASS.value] = sum(n.passes for n in report.nodes)
    return counts


def as_dict(report: Report, *, lazy: bool = False) -> dict[str, Any]:
    """The report as JSON data; ``lazy``: its findings as an iterator, each
    made when written (a fleet's findings as dicts were most of the peak
    memory of a run)."""
    checked = [n for n in report.nodes if n.status is not Status.ERROR]
    listed = (report.findings if not report.omit_passes
              else [f for f in report.findings if f.status is not Status.PASS])
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "source": _source(report),
        "profile": report.profile,
        "fail_on": report.fail_on.value,
        "summary": {
            "nodes": len(report.nodes),
            "checked": len(checked),
            "failed": sum(1 for n in report.nodes if n.status is Status.FAIL),
            "errors": len(report.unchecked()),
            "exit_code": report.exit_code(),
            "findings": _counts(report),
        },
        "nodes": [_node(n) for n in report.nodes],
        "findings": map(_finding, listed) if lazy else [_finding(f) for f in listed],
        "omitted": [Status.PASS.value] if report.omit_passes else [],
    }
    if report.gate is not None:
        document["gate"] = _gate(report.gate)
    if report.shard is not None:
        document["shard"] = {"index": report.shard.index, "count": report.shard.count}
    if report.baseline is not None:
        document["summary"].update(_baseline_counts(report))
        document["baseline"] = _baseline(report.baseline)
        document["resolved"] = [_finding(f) for f in report.resolved]
    if report.mesh_diagram:  # a mesh rule failed: the Markdown's diagram, rendered again
        document["mesh_diagram"] = list(report.mesh_diagram)
    document["rules"] = [_rule(meta) for meta in report.rules]
    if report.run is not None:
        document["run"] = _run(report.run)
    return document


def render(report: Report) -> str:
    return "".join(pieces(report))


def pieces(report: Report) -> Iterator[str]:
    """:func:`render`'s text a finding at a time, to be written as it is made."""
    return json_text.chunks(as_dict(report, lazy=True), end="\n")
