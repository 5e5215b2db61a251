"""What a change to the source of truth does during rollout.

Compares the source of truth at the base commit with the working tree:
which params changed, their class (must-match or side-local), what a node
experiences until it applies the change (the symptom table),
and, given a previous ``check`` JSON report, which nodes of the fleet the
change will put into must-match drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awgcheck import params, symptoms
from awgcheck.checks import CHECKS
from awgcheck.compare import Comparison, absent_text, compare, written_value
from awgcheck.errors import UsageError
from awgcheck.model import (
    BaseCommit,
    FleetImpact,
    GateSummary,
    Location,
    ParamChange,
    ParamDocument,
    ParamValue,
)
from awgcheck.ruleset.load import Rule

REPORT_SCHEMA = "awgcheck.report/v1"


@dataclass(frozen=True)
class Change:
    """One param whose effective value differs between base and head."""

    param: str
    role: params.Role
    before: str | None  # raw text at the base, None when absent
    after: str | None  # raw text now, None when absent
    after_effective: str | None
    location: Location | None
    symptom: str | None

    @property
    def must_match(self) -> bool:
        return self.role is params.Role.MUST_MATCH


def diff_params(before: ParamDocument | None, after: ParamDocument) -> list[Change]:
    """Every obfuscation param whose effective value changed, in catalog order,
    with the symptom table's text for what a node not yet updated sees."""
    old = before.params() if before is not None else {}
    new = after.params()
    changes = []
    for name in params.OBFUSCATION_PARAMS:
        found = compare(name, old.get(name), new.get(name))
        if not _changed(found):
            continue
        was, now = found.here, found.there
        assert found.role is not None  # every obfuscation param has a role
        changes.append(Change(
            param=name, role=found.role, before=was.raw if was else None,
            after=now.raw if now else None, after_effective=found.there_effective,
            location=now.location if now and now.location else None,
            symptom=symptoms.symptom_for(name)))
    return changes


def _changed(found: Comparison) -> bool:
    """A different value applied; unchanged text is no change, even a value
    awg cannot read."""
    return found.differs and not found.same_text


def _shown(name: str, raw: str | None) -> str:
    return raw if raw is not None else absent_text(name)


def describe(change: Change, source: str) -> str:
    """One sentence for annotations: the change, and what it does in rollout."""
    text = (f"{change.param} ({change.role.value}) changes from "
            f"{_shown(change.param, change.before)} to {_shown(change.param, change.after)} "
            f"in {source}.")
    if change.must_match:
        text += (" Until every node applies it, the tunnels between updated and "
                 f"not-yet-updated nodes: {change.symptom or 'break'}. Roll it out server "
                 "first, then every node.")
    elif change.symptom:
        text += f" Nodes not yet updated: {change.symptom}."
    return text


def warnings(changes: Sequence[Change]) -> list[str]:
    """A warning when one change flips more than one must-match param."""
    flips = [c.param for c in changes if c.must_match]
    if len(flips) < 2:
        return []
    return [f"this change flips {len(flips)} must-match params at once "
            f"({', '.join(flips)}): each such flip should ship alone, server first, so a "
            "rollout that stalls breaks in one known way and can be rolled back"]


# --- impact on a fleet, from a previous check report -------------------------


def load_fleet_report(data: object, where: str) -> Mapping[str, Any]:
    """Validate a parsed ``check --format json`` report just enough to use it."""
    if (not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA
            or not isinstance(data.get("nodes"), list)
            or not isinstance(data.get("findings"), list)):
        raise UsageError(f"--fleet-report {where}: not an awgcheck JSON report "
                         f"(schema {REPORT_SCHEMA}; write one with check --format json)")
    return data


def read_fleet_report(path: Path) -> Mapping[str, Any]:
    """A previous ``check --format json`` report, read from ``path``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--fleet-report {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--fleet-report {path}: cannot read a JSON report: {exc}") from None
    return load_fleet_report(data, str(path))


def _reported(name: str, raw: str | None) -> ParamValue | None:
    """A value as a check report shows it (``actual``), read the way awg
    reads it; a secret is already its digest there and stays one."""
    spec = params.spec(name)
    if raw is None or spec is None:
        return None if raw is None else ParamValue(name, raw, raw)
    if spec.secret and raw.startswith("sha256:"):
        return ParamValue(name, raw, raw)
    return written_value(spec, raw)


def _drifts(change: Change, known: Mapping[str, str | None]) -> bool:
    """Whether a node whose report shows ``known`` differs from the new source
    on ``change``'s param; a node with no value shown counts as drifting."""
    if change.param not in known:
        return True
    after = None if change.after is None else ParamValue(
        change.param, change.after, change.after_effective)
    return _changed(compare(change.param, _reported(change.param, known[change.param]), after))


def _node_values(report: Mapping[str, Any],
                 drift_rules: set[str]) -> dict[str, dict[str, str | None]]:
    """node -> param -> raw value, from the drift findings (pass or fail)."""
    values: dict[str, dict[str, str | None]] = {}
    for finding in report["findings"]:
        if not isinstance(finding, dict) or finding.get("rule") not in drift_rules:
            continue
        if finding.get("status") not in ("pass", "fail") or not finding.get("param"):
            continue
        node = values.setdefault(str(finding.get("node")), {})
        node[str(finding["param"])] = finding.get("actual")
    return values


def predict_impact(report: Mapping[str, Any], changes: Iterable[Change],
                   rules: Sequence[Rule]) -> FleetImpact | None:
    """Which nodes of the report will differ from the new source on a
    changed must-match param. A node the report shows no value for is taken
    to equal the old source (the fleet was in sync), so it drifts too."""
    flips = [c for c in changes if c.must_match]
    if not flips:
        return None
    drift_rules = {r.id for r in rules if CHECKS[r.check.type].compares_with_source}
    values = _node_values(report, drift_rules)
    source = (report.get("source") or {}).get("node")
    drifting, unknown = [], []
    for node in report["nodes"]:
        name = str(node.get("name")) if isinstance(node, dict) else str(node)
        if name == source:
            continue
        if not isinstance(node, dict) or node.get("status") == "error":
            unknown.append(name)
            continue
        known = values.get(name, {})
        if any(_drifts(c, known) for c in flips):
            drifting.append(name)
    message = (f"this change puts {len(drifting)} node(s) into must-match drift until they "
               f"are updated: {', '.join(drifting)}" if drifting else
               "no node of the fleet report would drift: each already has the new values")
    if unknown:
        message += (f"; {len(unknown)} node(s) could not be checked in that report: "
                    f"{', '.join(unknown)}")
    return FleetImpact(tuple(drifting), tuple(unknown), message)


def summary(changes: Sequence[Change], source: str, base: BaseCommit | None,
            impact: FleetImpact | None, notes: Sequence[str]) -> GateSummary:
    """The change summary the report formats render (``Report.gate``)."""
    return GateSummary(
        source=source, base=base,
        changes=tuple(ParamChange(c.param, c.role, c.before, c.after, c.symptom,
                                  describe(c, source), c.location) for c in changes),
        warnings=tuple(warnings(changes)), impact=impact, notes=tuple(notes))
