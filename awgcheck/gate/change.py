"""What a change to the source of truth does during rollout.

Compares the source of truth at the base commit with the working tree:
which params changed, their class (must-match or side-local), what a node
experiences until it applies the change (the symptom table),
and, given a previous ``check`` JSON report, which nodes of the fleet the
change will put into must-match drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from awgcheck import params, symptoms
from awgcheck.checks import CHECKS
from awgcheck.compare import Comparison, absent_text, compare, written_value
from awgcheck.gate.fleet import FleetReport
from awgcheck.model import (
    BaseCommit,
    FleetImpact,
    GateSummary,
    ParamChange,
    ParamDocument,
    ParamValue,
    Status,
)
from awgcheck.ruleset.load import Rule
from awgcheck.wording import count


def diff_params(before: ParamDocument | None, after: ParamDocument) -> list[ParamChange]:
    """Every obfuscation param whose effective value changed, in catalog order,
    with the symptom table's text for what a node not yet updated sees
    (their ``text`` is :func:`summary`'s, which knows the file's name)."""
    old = before.params() if before is not None else {}
    new = after.params()
    changes = []
    for name in params.OBFUSCATION_PARAMS:
        found = compare(name, old.get(name), new.get(name))
        if not _changed(found):
            continue
        was, now = found.here, found.there
        assert found.role is not None  # every obfuscation param has a role
        changes.append(ParamChange(
            param=name, role=found.role, before=was.raw if was else None,
            after=now.raw if now else None, symptom=symptoms.symptom_for(name),
            location=now.location if now and now.location else None,
            after_effective=found.there_effective))
    return changes


def _changed(found: Comparison) -> bool:
    """A different value applied; unchanged text is no change, even a value
    awg cannot read."""
    return found.differs and not found.same_text


def _shown(name: str, raw: str | None) -> str:
    return raw if raw is not None else absent_text(name)


def describe(change: ParamChange, source: str) -> str:
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


def warnings(changes: Sequence[ParamChange]) -> list[str]:
    """A warning when one change flips more than one must-match param."""
    flips = [c.param for c in changes if c.must_match]
    if len(flips) < 2:
        return []
    return [f"this change flips {len(flips)} must-match params at once "
            f"({', '.join(flips)}): each such flip should ship alone, server first, so a "
            "rollout that stalls breaks in one known way and can be rolled back"]


# --- impact on a fleet, from a previous check report -------------------------


def _reported(name: str, raw: str | None) -> ParamValue | None:
    """A value as a check report shows it (``actual``), read the way awg
    reads it; a secret is already its digest there and stays one."""
    spec = params.spec(name)
    if raw is None or spec is None:
        return None if raw is None else ParamValue(name, raw, raw)
    if spec.secret and raw.startswith("sha256:"):
        return ParamValue(name, raw, raw)
    return written_value(spec, raw)


def _drifts(change: ParamChange, known: Mapping[str, str | None]) -> bool:
    """Whether a node whose report shows ``known`` differs from the new source
    on ``change``'s param; a node with no value shown counts as drifting."""
    if change.param not in known:
        return True
    after = None if change.after is None else ParamValue(
        change.param, change.after, change.after_effective)
    return _changed(compare(change.param, _reported(change.param, known[change.param]), after))


def predict_impact(report: FleetReport, changes: Iterable[ParamChange],
                   rules: Sequence[Rule]) -> FleetImpact | None:
    """Which nodes of the report will differ from the new source on a
    changed must-match param. A node the report shows no value for is taken
    to equal the old source (the fleet was in sync), so it drifts too."""
    flips = [c for c in changes if c.must_match]
    if not flips:
        return None
    drift_rules = [r.id for r in rules if CHECKS[r.check.type].compares_with_source]
    drifting, unknown = [], []
    for node in report.nodes:
        if node.name == report.source:
            continue
        if node.status is Status.ERROR:
            unknown.append(node.name)
            continue
        known = node.values_of(drift_rules)
        if any(_drifts(c, known) for c in flips):
            drifting.append(node.name)
    message = (f"this change puts {count(len(drifting), 'node')} into must-match drift until they "
               f"are updated: {', '.join(drifting)}" if drifting else
               "no node of the fleet report would drift: each already has the new values")
    if unknown:
        message += (f"; {count(len(unknown), 'node')} could not be checked in that report: "
                    f"{', '.join(unknown)}")
    return FleetImpact(tuple(drifting), tuple(unknown), message)


def summary(changes: Sequence[ParamChange], source: str, base: BaseCommit | None,
            impact: FleetImpact | None, notes: Sequence[str]) -> GateSummary:
    """The change summary the report formats render (``Report.gate``)."""
    return GateSummary(
        source=source, base=base,
        changes=tuple(replace(c, text=describe(c, source)) for c in changes),
        warnings=tuple(warnings(changes)), impact=impact, notes=tuple(notes))
