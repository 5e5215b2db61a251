"""A run compared with a baseline: the report of an earlier run
(``check --baseline PREVIOUS.json``).

Only findings that ask for attention take part: status ``fail``, ``error``,
``waived`` (any status but ``pass`` and ``skip``). Two findings are *the
same finding* when they have the same :func:`identity`: node, rule, param
and the path of the file they point at (and, for a finding about a
waiver, that waiver's nodes, rule and param), never the message or the
line, which change when a file is edited; the n-th finding of an identity
in this run is the n-th of that identity in the baseline. Then each finding of this
run is

- ``new``: the baseline has no such finding; first seen by this run;
- ``unchanged``: it has, with the same status, severity, expected and
  actual value (:data:`COMPARED`);
- ``updated``: it has, and one of those differs (a value drifted again, a
  warning became critical, a failure became an error);

and a baseline finding this run no longer has is *resolved* (``absent``) if
this run could tell: its node was read, its rule ran and did not end in an
error on that node. A node that could not be checked, or was not in this
run (``--node``, another shard), or a rule that was not run (one that
compares with a source of truth that could not be read), leaves its
findings unknown: neither resolved nor carried over.

``first_seen`` is carried over from the baseline finding; a baseline
written without ``--baseline`` has none, and its run's start stands for it
(:func:`previous_run`). A new finding was first seen when this run started.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from awgcheck.errors import UsageError
from awgcheck.model import BaselineState, BaselineUse, Finding, Report, Status
from awgcheck.report.runinfo import utc_stamp

Identity = tuple[str, str, str | None, str | None, tuple[object, ...] | None]

COMPARED = ("status", "severity", "expected", "actual")
"""The fields whose change makes a finding ``updated``."""

_QUIET = (Status.PASS, Status.SKIP)


def identity(finding: Finding) -> Identity:
    """What makes two findings of two runs the same finding. One about a
    waiver (``waiver-expired``, ``waiver-unused``) sits at the waiver's
    line, so the waiver's nodes, rule and param tell it apart from one
    about another waiver of the same file."""
    about = finding.waiver if finding.status is not Status.WAIVED else None
    return (finding.node, finding.rule, finding.param,
            finding.location.place if finding.location is not None else None,
            None if about is None else (about.nodes, about.rule, about.param))


def takes_part(finding: Finding) -> bool:
    """A finding that asks for attention: not a pass, not a skip."""
    return finding.status not in _QUIET


def previous_run(previous: Report, path: Path) -> str:
    """When the baseline run found what it found: when that run started, as
    its report says (``run.started_at``), else (a report from before reports
    said it) the time the file was last written."""
    if previous.run is not None:
        return utc_stamp(previous.run.started_at)
    try:
        written = os.stat(path).st_mtime
    except OSError as exc:  # gone since it was read
        raise UsageError(f"--baseline {path}: {exc.strerror}") from None
    return utc_stamp(datetime.fromtimestamp(written, UTC))


Key = tuple[Identity, int]


def _key(finding: Finding, seen: dict[Identity, int]) -> Key:
    """The finding's identity and its rank among the findings of that
    identity so far (a rule may report one param twice in one file)."""
    same = identity(finding)
    seen[same] = seen.get(same, 0) + 1
    return same, seen[same]


def _state(now: Finding, then: Finding) -> BaselineState:
    changed = any(getattr(now, name) != getattr(then, name) for name in COMPARED)
    return BaselineState.UPDATED if changed else BaselineState.UNCHANGED


def compare(report: Report, previous: Report, use: BaselineUse, seen_at: str) -> Report:
    """``report`` with each finding's ``baseline_state`` and ``first_seen``
    (``seen_at``, when this run started, for a new one), and the baseline's
    findings it resolved."""
    seen: dict[Identity, int] = {}
    before = {_key(f, seen): f for f in previous.findings if takes_part(f)}
    seen.clear()
    matched: set[Key] = set()
    findings: list[Finding] = []
    for finding in report.findings:
        if takes_part(finding):
            key = _key(finding, seen)
            then = before.get(key)
            matched.add(key)
            finding = (replace(finding, baseline_state=BaselineState.NEW, first_seen=seen_at)
                       if then is None else
                       replace(finding, baseline_state=_state(finding, then),
                               first_seen=then.first_seen or use.previous_run))
        findings.append(finding)
    gone = [replace(then, baseline_state=BaselineState.ABSENT,
                    first_seen=then.first_seen or use.previous_run)
            for key, then in before.items() if key not in matched]
    return replace(report, findings=tuple(findings), baseline=use,
                   resolved=_resolved(report, gone))


def _resolved(report: Report, gone: list[Finding]) -> tuple[Finding, ...]:
    """The findings of ``gone`` this run could tell are resolved, node by
    node in this run's order, each node's in the baseline's order."""
    ran = {meta.id for meta in report.rules}
    if report.source_failure is not None:  # the rules that compare with it did not run
        ran -= set(report.source_failure.not_evaluated)
    broken = {(f.node, f.rule) for f in report.findings if f.status is Status.ERROR}
    by_node: dict[str, list[Finding]] = {}
    for finding in gone:
        if (not ran or finding.rule in ran) and (finding.node, finding.rule) not in broken:
            by_node.setdefault(finding.node, []).append(finding)
    read = [n.name for n in report.nodes if n.read]
    return tuple(f for name in read for f in by_node.get(name, ()))


def differences(report: Report, previous: Report) -> list[str]:
    """What makes the baseline a poor one to compare with: another source
    of truth or profile (its findings were judged against something else)."""
    found = []
    if (previous.source_node, previous.source_path) != (report.source_node, report.source_path):
        found.append(f"its source of truth is {previous.source_node or previous.source_path}, "
                     f"this run's is {report.source_node or report.source_path}: findings "
                     "compared with another source show as new or updated")
    if previous.profile != report.profile:
        found.append(f"it was checked with profile {previous.profile}, this run with "
                     f"{report.profile}: severities differ, so findings show as updated")
    return found
