"""Rule metadata for the formats that describe rules (SARIF, and which
rules are drift for Prometheus).

A renderer only sees the report, so the caller attaches the loaded rules'
metadata to it (:func:`with_rules`). Without it, the rules are described
from what the findings themselves say.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from awgcheck.model import Report, RuleMeta
from awgcheck.ruleset.load import Rule


def describe(rule: Rule) -> RuleMeta:
    return RuleMeta(rule.id, rule.title, rule.severity, rule.description, rule.remediation,
                    tuple(rule.tags), rule.is_drift)


def with_rules(report: Report, rules: Sequence[Rule],
               also: Sequence[RuleMeta] = ()) -> Report:
    """The same report, carrying the metadata of ``rules``, then ``also``
    (ids no rule file declares, such as the waiver findings')."""
    return dataclasses.replace(report, rules=(*(describe(r) for r in rules), *also))


def rule_metadata(report: Report) -> list[RuleMeta]:
    """Metadata of every rule to describe: the attached ones, plus any rule a
    finding names that they lack (a finding must always have its rule)."""
    found: dict[str, RuleMeta] = {}
    for meta in report.rules:
        found.setdefault(meta.id, meta)
    for finding in report.findings:
        if finding.rule not in found:
            found[finding.rule] = RuleMeta(finding.rule, finding.rule, finding.severity,
                                           finding.rule, finding.remediation or "")
    return list(found.values())
