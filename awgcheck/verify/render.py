"""``verify`` output: one line for the installer's log, or JSON for scripts.

``mesh: OK (...)`` when everything agrees; otherwise ``mesh: OUTCOME:``
and the likely cause, then an indented line each for what the tunnel
showed, each fix step, and what else the shipped rules found. Text is
escaped by :data:`FORMATS` (secrets only ever reach here as digests).
"""

from __future__ import annotations

import json
from typing import Any

from awgcheck.model import ParamValue
from awgcheck.report.registry import Formats
from awgcheck.triage.render import as_dict as triage_dict
from awgcheck.verify.run import Outcome, VerifyReport

SCHEMA = "awgcheck.verify/v1"

_OTHERS = 5  # more rule findings than this are in the JSON only


def render_text(report: VerifyReport) -> str:
    if report.outcome is Outcome.OK:
        return f"mesh: OK ({report.headline})\n"
    lines = [f"mesh: {report.outcome}: {report.headline}"]
    if report.evidence:
        lines.append(f"  seen: {report.evidence}")
    lines.extend(f"  fix: {step}" for step in report.fix)
    if report.command:
        lines.append(f"  then: {report.command}")
    lines.extend(f"  hint: {hint}" for hint in report.hints)
    shown = report.headline
    others = [f for f in report.findings if f.param is None or f.param not in shown]
    lines.extend(f"  also: {f.rule}: {f.message}" for f in others[:_OTHERS])
    if len(others) > _OTHERS:
        lines.append(f"  also: {len(others) - _OTHERS} more (--format json lists them)")
    return "\n".join(lines) + "\n"


def as_dict(report: VerifyReport) -> dict[str, Any]:
    """The JSON document (schema ``awgcheck.verify/v1``)."""
    target = report.target
    return {
        "schema": SCHEMA,
        "outcome": report.outcome.name.lower(),
        "exit_code": report.exit_code(),
        "headline": report.headline,
        "evidence": report.evidence or None,
        "fix": list(report.fix),
        "command": report.command,
        "hints": list(report.hints),
        "source": report.source,
        "target": None if target is None else {"address": target.address,
                                               "chosen_by": target.chosen_by},
        "findings": [{"rule": f.rule, "severity": f.severity.value, "param": f.param,
                      "message": f.message,
                      "line": f.location.line if f.location is not None else None}
                     for f in report.findings],
        "triage": None if report.triage is None else triage_dict(report.triage),
    }


def render_json(report: VerifyReport) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"


FORMATS: Formats[VerifyReport] = Formats({"text": render_text, "json": render_json},
                                         default="text", keep=(ParamValue,))
