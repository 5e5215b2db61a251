"""``awgcheck merge``: the reports of parts of one fleet (``check --shard``
runs, or ``--node`` and ``--group`` runs) as the one report a run over all
of them would have given.

A node may be in more than one part (two ``--node`` runs that both name
it): it is kept once when its results are the same in each. The source
node's may differ (the source changed between the parts' runs): the first
part's are kept, with a warning. Any other node's may not: that is not one
fleet cut in parts. Shards of one count that leave some shard out are
merged, with a warning that the report covers part of the fleet. A source of truth that
one part could not read was not compared with on that part's nodes, so
the merged report says it could not be read (and why, as the first such
part says), with a warning when other parts could read it.

A run lists nodes in inventory order, findings node by node, then the
findings about no node by place (:func:`awgcheck.audit.audit`); the parts'
nodes carry their inventory ``index``, so the merged report puts them back
in that order (nodes without one, from an older report, follow in the
order the parts give them). A waiver one part found unused is unused in
the merged run only if no part used it, and how many checked nodes it
names is counted again over all of them.

The parts must agree on what makes them one run: the source of truth,
``--profile``, ``--fail-on``, the awgcheck version and the rules, and the
baseline they were compared with, if any. The merged run started when its
earliest part started (the ``first_seen`` of its new findings) and ended
when its last part ended. The exit code is the merged report's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from awgcheck import waivers
from awgcheck.audit import by_place
from awgcheck.errors import UsageError
from awgcheck.model import (
    BaselineState,
    Finding,
    NodeResult,
    Report,
    RuleMeta,
    RunMeta,
    SourceFailure,
)
from awgcheck.report.runinfo import utc_stamp


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


# --- what makes parts of one run ---------------------------------------------------------


def _differ(what: str, first: Part, part: Part, mine: object, theirs: object) -> MergeError:
    return MergeError(f"{part.name}: {what} {mine}, but {first.name}: {theirs}; {ONE_RUN}")


def _agree(first: Part, part: Part) -> None:
    """Raise unless ``part`` could be a part of the same run as ``first``."""
    one, other = first.report, part.report
    # A source node's path is how the run saw it (its conf as read, or as
    # the inventory names it when it could not be read): the node names it.
    pairs: list[tuple[str, object, object]] = [
        ("source of truth", other.source_node or other.source_path,
         one.source_node or one.source_path),
        ("--profile", other.profile, one.profile),
        ("--fail-on", other.fail_on.value, one.fail_on.value)]
    if one.shard is not None and other.shard is not None:
        pairs.append(("is a shard of", other.shard.count, one.shard.count))
    if one.run is not None and other.run is not None:
        pairs += [("ran awgcheck", other.run.version, one.run.version),
                  ("ran rules", other.run.rules_digest, one.run.rules_digest)]
    mine_use, theirs_use = other.baseline, one.baseline
    pairs.append(("--baseline", "given" if mine_use else "not given",
                  "given" if theirs_use else "not given"))
    if mine_use is not None and theirs_use is not None:
        pairs += [("compared with the baseline of", mine_use.previous_run,
                   theirs_use.previous_run),
                  ("--fail-on-new", mine_use.fail_on_new, theirs_use.fail_on_new)]
    for what, mine, theirs in pairs:
        if mine != theirs:
            raise _differ(what, first, part, mine, theirs)
    if one.rules and other.rules and one.rules != other.rules:
        raise MergeError(f"{part.name}: ran other rules than {first.name} "
                         f"({_rules_difference(one, other)}); {ONE_RUN}")


def _rules_difference(one: Report, other: Report) -> str:
    ids, other_ids = {r.id for r in one.rules}, {r.id for r in other.rules}
    if other_ids - ids:
        return f"{', '.join(sorted(other_ids - ids))} only there"
    if ids - other_ids:
        return f"{', '.join(sorted(ids - other_ids))} not there"
    changed = [b.id for a, b in zip(one.rules, other.rules, strict=True) if a != b]
    return f"{', '.join(changed)} described otherwise" if changed else "in another order"


# --- what the merged run says once ----------------------------------------------------------


def _run(parts: Sequence[Part]) -> RunMeta | None:
    """From the earliest start to the latest finish, on the first part's
    inventory (the parts agree on version and rules)."""
    runs = [p.report.run for p in parts if p.report.run is not None]
    if not runs:
        return None
    return replace(runs[0], started_at=min(r.started_at for r in runs),
                   finished_at=max(r.finished_at for r in runs))


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


def _missing_shards(parts: Sequence[Part]) -> list[str]:
    """A warning when the parts are shards of N but not all N of them."""
    shards = [p.report.shard for p in parts if p.report.shard is not None]
    if not shards:
        return []
    count = shards[0].count
    missing = sorted(set(range(1, count + 1)) - {s.index for s in shards})
    if not missing:
        return []
    named = ", ".join(f"{index}/{count}" for index in missing)
    noun = "shard" if len(missing) == 1 else "shards"
    return [f"{noun} {named} missing: the merged report covers only part of the fleet"]


def _restamped(report: Report, run: RunMeta | None) -> Report:
    """``report`` with its new findings first seen when the merged run started."""
    if run is None or report.baseline is None:
        return report
    started = utc_stamp(run.started_at)
    return replace(report, findings=tuple(
        replace(f, first_seen=started) if f.baseline_state is BaselineState.NEW else f
        for f in report.findings))


# --- nodes, and findings about no node --------------------------------------------------


def _split(report: Report) -> tuple[dict[str, _NodePart], list[Finding]]:
    """Each node of ``report`` with its findings, and the findings about no
    node of it."""
    listed = {node.name for node in report.nodes}
    findings: dict[str, list[Finding]] = {}
    resolved: dict[str, list[Finding]] = {}
    loose: list[Finding] = []
    for finding in report.findings:
        if finding.node in listed:
            findings.setdefault(finding.node, []).append(finding)
        else:
            loose.append(finding)
    for finding in report.resolved:
        resolved.setdefault(finding.node, []).append(finding)
    nodes = {node.name: _NodePart(node, tuple(findings.get(node.name, ())),
                                  tuple(resolved.get(node.name, ())))
             for node in report.nodes}
    return nodes, loose


def _loose(found: Sequence[Finding], every: Sequence[Finding], nodes: Sequence[NodeResult],
           today: dt.date) -> tuple[Finding, ...]:
    """The findings about no node of the merged run, from the parts' ones:
    each once; a waiver's ``waiver-unused`` dropped when a part used it
    (``every``: all the parts' findings), else said again over all the
    ``nodes``; by place."""
    used = {f.waiver for f in every if f.waiver is not None and f.rule != waivers.WAIVER_UNUSED}
    kept: list[Finding] = []
    for finding in dict.fromkeys(found):
        waiver = finding.waiver
        if finding.rule != waivers.WAIVER_UNUSED or waiver is None:
            kept.append(finding)
        elif waiver not in used and not any(f.waiver == waiver for f in kept):
            again = waivers.apply([], [waiver], today=today,
                                  fleet={n.name: n.groups for n in nodes},
                                  checked={n.name for n in nodes if n.read})
            # Compared with a baseline, each part found it as the same finding.
            kept.extend(replace(f, baseline_state=finding.baseline_state,
                                first_seen=finding.first_seen) for f in again)
    return tuple(sorted(kept, key=by_place))


def merge(parts: Sequence[Part]) -> Merged:
    """One report of ``parts`` (at least one), as a single run would give it."""
    first = parts[0]
    for part in parts[1:]:
        _agree(first, part)
    run = _run(parts)
    rules = next((p.report.rules for p in parts if p.report.rules), ())
    source_failure, warnings = _source_failure(parts, rules)
    warnings += _missing_shards(parts)
    kept: dict[str, _NodePart] = {}
    kept_from: dict[str, str] = {}
    loose: list[Finding] = []
    for part in parts:
        report = _restamped(part.report, run)
        by_name, about_no_node = _split(report)
        loose.extend(about_no_node)
        for name, node in by_name.items():
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
    nodes = [n.result for n in order]
    today = (run.started_at if run is not None else dt.datetime.now(dt.UTC)).date()
    every = [f for p in parts for f in p.report.findings]
    # As a part that read the source names it (an empty shard read nothing).
    source_path = next((p.report.source_path for p in parts
                        if p.report.nodes and p.report.source_failure is None),
                       first.report.source_path)
    report = replace(
        first.report, source_path=source_path, shard=None, nodes=tuple(nodes),
        findings=(*(f for n in order for f in n.findings), *_loose(loose, every, nodes, today)),
        resolved=tuple(f for n in order for f in n.resolved), baseline=first.report.baseline,
        rules=rules, source_failure=source_failure, run=run,
        # A part that left its passes out cannot give them back: none is listed.
        omit_passes=any(p.report.omit_passes for p in parts))
    return Merged(report, tuple(warnings))
