"""Rule metadata for the formats that describe rules (SARIF).

A renderer only sees the report, so the caller puts the loaded rules'
metadata in ``report.extra["rules"]`` (:func:`with_rules`); plain,
JSON-ready dicts, so any format may carry them as is. Without it, the rules
are described from what the findings themselves say.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from awgcheck.model import Report
from awgcheck.ruleset.load import Rule

RULES_KEY = "rules"


def describe(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "title": rule.title, "severity": rule.severity.value,
            "description": rule.description, "remediation": rule.remediation,
            "tags": list(rule.tags)}


def with_rules(report: Report, rules: Sequence[Rule]) -> Report:
    """The same report, carrying the metadata of ``rules``."""
    extra = {**report.extra, RULES_KEY: [describe(r) for r in rules]}
    return dataclasses.replace(report, extra=extra)


def rule_metadata(report: Report) -> list[dict[str, Any]]:
    """Metadata of every rule to describe: the attached ones, plus any rule a
    finding names that they lack (a finding must always have its rule)."""
    attached = report.extra.get(RULES_KEY)
    found: dict[str, dict[str, Any]] = {}
    if isinstance(attached, list):
        for meta in attached:
            if isinstance(meta, dict) and isinstance(meta.get("id"), str):
                found.setdefault(meta["id"], meta)
    for finding in report.findings:
        if finding.rule not in found:
            found[finding.rule] = {"id": finding.rule, "title": finding.rule,
                                   "severity": finding.severity.value,
                                   "description": finding.rule,
                                   "remediation": finding.remediation or ""}
    return list(found.values())
