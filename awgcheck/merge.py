"""``awgcheck merge``: the reports of parts of one fleet (``check --node``
runs, shards) as the one report a run over all of them would have given.

Every part reads the source of truth, so the source node is in every part,
and a node may be in more than one: it is kept once when its results are
the same in each. The source node's may differ (the source changed between
the parts' runs): the first part's are kept, with a warning. Any other
node's may not: that is not one fleet cut in parts. A source of truth that
one part could not read was not compared with on that part's nodes, so
the merged report says it could not be read (and why, as the first such
part says), with a warning when other parts could read it.

A run lists nodes in inventory order and findings node by node
(:func:`awgcheck.audit.audit`); the parts' nodes carry their inventory
``index``, so the merged report puts them back in that order (nodes without
one, from an older report, follow in the order the parts give them).

The parts must agree on what makes them one run: the source of truth,
``--profile``, ``--fail-on``, the rules (when they list them) and the
baseline they were compared with, if any. The merged run started when its
earliest part started: that is its ``this_run``, and the ``first_seen`` of
its new findings. The exit code is the merged report's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from awgcheck.errors import UsageError
from awgcheck.model import (
    BaselineState,
    BaselineUse,
    Finding,
    NodeResult,
    Report,
    RuleMeta,
    SourceFailure,
)


class MergeError(UsageError):
    """Reports that are not parts of one run."""


ONE_RUN = "merge combines reports of one run, cut in parts"
"""How every refusal ends: what merge is for."""


@dataclass(frozen=True)
class Part:
    """One report to merge, and how to name it in messages (its file)."""

    name: str
    report: Report


@dataclass(frozen=True)
class Merged:
    """The merged report, and what to warn about (the run goes on)."""

    report: Report
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _NodePart:
    """One node as one part reports it: what must be the same in two parts."""

    result: NodeResult
    findings: tuple[Finding, ...]
    resolved: tuple[Finding, ...]


def _differ(what: str, first: Part, part: Part, mine: object, theirs: object) -> MergeError:
    return MergeError(f"{part.name}: {what} {mine}, but {first.name}: {theirs}; {ONE_RUN}")


def _agree(first: Part, part: Part) -> None:
    """Raise unless ``part`` could be a part of the same run as ``first``."""
    one, other = first.report, part.report
    # A source node's path is how the run saw it (its conf as read, or as
    # the inventory names it when it could not be read): the node names it.
    for what, mine, theirs in (
            ("source of truth", other.source_node or other.source_path,
             one.source_node or one.source_path),
            ("--profile", other.profile, one.profile),
            ("--fail-on", other.fail_on.value, one.fail_on.value)):
        if mine != theirs:
            raise _differ(what, first, part, mine, theirs)
    if one.rules and other.rules and one.rules != other.rules:
        raise MergeError(f"{part.name}: ran other rules than {first.name} "
                         f"({_rules_difference(one, other)}); {ONE_RUN}")
    mine_use, theirs_use = other.baseline, one.baseline
    if (mine_use is None) != (theirs_use is None):
        raise _differ("--baseline", first, part, "given" if mine_use else "not given",
                      "given" if theirs_use else "not given")
    if mine_use is not None and theirs_use is not None:
        if mine_use.previous_run != theirs_use.previous_run:
            raise _differ("compared with the baseline of", first, part,
                          mine_use.previous_run, theirs_use.previous_run)
        if mine_use.fail_on_new != theirs_use.fail_on_new:
            raise _differ("--fail-on-new", first, part, mine_use.fail_on_new,
                          theirs_use.fail_on_new)


def _rules_difference(one: Report, other: Report) -> str:
    ids, other_ids = {r.id for r in one.rules}, {r.id for r in other.rules}
    if other_ids - ids:
        return f"{', '.join(sorted(other_ids - ids))} only there"
    if ids - other_ids:
        return f"{', '.join(sorted(ids - other_ids))} not there"
    changed = [b.id for a, b in zip(one.rules, other.rules, strict=True) if a != b]
    return f"{', '.join(changed)} described otherwise" if changed else "in another order"


def _baseline(parts: Sequence[Part]) -> BaselineUse | None:
    """The first part's baseline, as the earliest part's run started."""
    uses = [p.report.baseline for p in parts if p.report.baseline is not None]
    if not uses:
        return None
    earliest = min((u.this_run for u in uses), key=datetime.fromisoformat)
    return replace(uses[0], this_run=earliest)


def _source_failure(parts: Sequence[Part],
                    rules: Sequence[RuleMeta]) -> tuple[SourceFailure | None, list[str]]:
    """The source of truth could not be read if any part could not read it
    (the rules that compare with it did not run on that part's nodes): the
    first part's reason, with every part's rules not evaluated, in the
    order the rules ran."""
    failed = [p for p in parts if p.report.source_failure is not None]
    if not failed:
        return None, []
    failures = [p.report.source_failure for p in failed if p.report.source_failure]
    ran = {meta.id: i for i, meta in enumerate(rules)}
    not_evaluated = tuple(sorted(dict.fromkeys(r for f in failures for r in f.not_evaluated),
                                 key=lambda rule: ran.get(rule, len(ran))))
    warnings = [] if len(failed) == len(parts) else [
        f"the source of truth could not be read in {', '.join(p.name for p in failed)} "
        "but could in the other reports: the merged report says it could not be read"]
    return replace(failures[0], not_evaluated=not_evaluated), warnings


def _restamped(report: Report, use: BaselineUse | None) -> Report:
    """``report`` with its new findings first seen when the merged run started."""
    if use is None:
        return report
    return replace(report, findings=tuple(
        replace(f, first_seen=use.this_run) if f.baseline_state is BaselineState.NEW else f
        for f in report.findings))


def _by_node(part: Part, report: Report) -> dict[str, _NodePart]:
    listed = {node.name for node in report.nodes}
    findings: dict[str, list[Finding]] = {}
    resolved: dict[str, list[Finding]] = {}
    for group, found in ((findings, report.findings), (resolved, report.resolved)):
        for finding in found:
            if finding.node not in listed:
                raise MergeError(f"{part.name}: a finding of node {finding.node}, which the "
                                 "report does not list: not a report of check")
            group.setdefault(finding.node, []).append(finding)
    return {node.name: _NodePart(node, tuple(findings.get(node.name, ())),
                                 tuple(resolved.get(node.name, ())))
            for node in report.nodes}


def merge(parts: Sequence[Part]) -> Merged:
    """One report of ``parts`` (at least one), as a single run would give it."""
    first = parts[0]
    for part in parts[1:]:
        _agree(first, part)
    use = _baseline(parts)
    rules = next((p.report.rules for p in parts if p.report.rules), ())
    source_failure, warnings = _source_failure(parts, rules)
    kept: dict[str, _NodePart] = {}
    kept_from: dict[str, str] = {}
    for part in parts:
        report = _restamped(part.report, use)
        for name, node in _by_node(part, report).items():
            earlier = kept.setdefault(name, node)
            source = kept_from.setdefault(name, part.name)
            if earlier == node:
                continue
            if name != report.source_node:
                raise MergeError(f"{part.name}: node {name} is also in {source}, with other "
                                 f"results: {ONE_RUN}")
            warnings.append(f"{part.name}: the source node {name} has other results than in "
                            f"{source} (did it change between the runs?); kept those of "
                            f"{source}")
    arrival = {name: i for i, name in enumerate(kept)}
    order = sorted(kept.values(), key=lambda n: (n.result.index is None, n.result.index or 0,
                                                 arrival[n.result.name]))
    report = replace(
        first.report, nodes=tuple(n.result for n in order),
        findings=tuple(f for n in order for f in n.findings),
        resolved=tuple(f for n in order for f in n.resolved), baseline=use,
        rules=rules, source_failure=source_failure)
    return Merged(report, tuple(warnings))
