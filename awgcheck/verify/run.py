"""One ``verify`` run: read the source, check this machine, judge.

The flow is triage's on this machine (:func:`awgcheck.triage.run.triage`
with the :mod:`~awgcheck.collect.machine` transport), plus the shipped
rules on the file, ended by one outcome with its own exit code: the first
of could not check (the conf or the source could not be read, or the
source fails its own rules: it is named as the fault, never copied),
drift (the file against the source, or a rule the file breaks), could not
check (the running interface), not applied (the running interface against
the file), no traffic (``--probe``: nothing came back through the
tunnel), else OK.
"""

from __future__ import annotations

import enum
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from awgcheck import engine, exitcodes, nodes
from awgcheck.collect.machine import ROOT, needs_sudo, open_machine
from awgcheck.collect.runtime import Missing
from awgcheck.documents.conf import read_conf
from awgcheck.documents.params import read_named
from awgcheck.errors import CollectError, ParseError
from awgcheck.inventory import DEFAULT_CONF, DEFAULT_INTERFACE, Node
from awgcheck.model import ArtifactKind, Finding, Severity, Status
from awgcheck.parse.awgconf import AwgConf
from awgcheck.parse.paramsdoc import ParamsDoc
from awgcheck.ruleset.load import RuleSet
from awgcheck.triage.evidence import describe
from awgcheck.triage.rows import NOT_APPLIED, STILL_ACTIVE, UNAPPLIED
from awgcheck.triage.run import SourceRead, TriageOptions, TriageReport, judge_source, triage
from awgcheck.triage.verdict import SOURCE_BROKEN, path_steps
from awgcheck.verify.target import Target, derive

DEFAULT_TIMEOUT = 5.0
"""Seconds the whole run may take: an installer waits for it."""

WINDOW = 0.5
"""Seconds after the ping before the second dump: the rx growth then
covers the ping's replies and a moment more."""


class Outcome(enum.StrEnum):
    OK = "OK"
    DRIFT = "DRIFT"
    NOT_APPLIED = "NOT APPLIED"
    NO_TRAFFIC = "NO TRAFFIC"
    UNCHECKED = "COULD NOT CHECK"


EXIT_CODES = {
    Outcome.OK: exitcodes.OK,
    Outcome.DRIFT: exitcodes.VERIFY_DRIFT,
    Outcome.NOT_APPLIED: exitcodes.VERIFY_NOT_APPLIED,
    Outcome.NO_TRAFFIC: exitcodes.VERIFY_NO_TRAFFIC,
    Outcome.UNCHECKED: exitcodes.UNCHECKED,
}


@dataclass(frozen=True)
class VerifyOptions:
    conf: str = DEFAULT_CONF
    interface: str = DEFAULT_INTERFACE
    probe: bool = False
    ping: Target | None = None  # --ping; None: derived (awgcheck.verify.target)
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class VerifyReport:
    """The outcome, the line that says it, and what it rests on."""

    outcome: Outcome
    headline: str
    evidence: str = ""  # what the tunnel showed, when that matters
    fix: tuple[str, ...] = ()  # the edits, one a line ("path line N: change ...")
    command: str | None = None  # what applies them (recreating the interface)
    hints: tuple[str, ...] = ()  # where to look, or how to make the check possible
    findings: tuple[Finding, ...] = ()  # the shipped rules' failures on the file
    target: Target | None = None
    triage: TriageReport | None = None
    source: str | None = None

    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]


# --------------------------------------------------------------------------
# the source


def read_against(spec: str | None, stdin: BinaryIO) -> SourceRead:
    """``--against``: a conf or params document file, or ``-`` for one on
    stdin (told apart by content); what cannot be read is missing."""
    if spec is None:
        return SourceRead(None, None)
    try:
        name, doc = read_named(spec, stdin)
        if not doc.params():
            raise ParseError(f"{name}: states no params at all")
    except (CollectError, ParseError) as exc:
        return SourceRead(spec, None, Missing("source", f"the source could not be read: {exc}",
                                              "pass --against the params the server issued"))
    if isinstance(doc, ParamsDoc) and doc.epoch is not None:
        return SourceRead(f"epoch {doc.epoch} ({name})", doc)
    return SourceRead(name, doc)


# --------------------------------------------------------------------------
# the run


def this_node(options: VerifyOptions) -> Node:
    """This machine as a node: its conf, interface, and sudo unless root."""
    return Node(name=socket.gethostname() or "this node", local=ROOT,
                conf=os.path.abspath(options.conf), interface=options.interface,
                sudo=needs_sudo())


def verify(source: SourceRead, options: VerifyOptions, rules: RuleSet, *,
           now: Callable[[], float] = time.time,
           sleep: Callable[[float], None] = time.sleep) -> VerifyReport:
    """Check this machine's conf and interface against ``source``."""
    node = this_node(options)
    run = nodes.RunOptions(timeout=options.timeout,
                           expires_at=time.monotonic() + options.timeout)
    if source.missing is not None:
        return _unchecked(source.name, source.missing)
    try:
        conf = read_conf(open_machine(node, run.connect), node)
    except (CollectError, ParseError) as exc:
        return _unchecked(source.name, Missing(
            "conf", f"the conf could not be read: {exc}",
            "pass --conf with the path the installer wrote"))
    source = judge_source(source, rules.rules)
    findings = _rule_failures(rules, node, conf, source)
    target = options.ping or derive(conf, source.doc)
    report = triage(node, source, TriageOptions(
        options.probe, WINDOW, run, target.address if target is not None else None,
        ping_first=True), factory=lambda n, o: open_machine(n, o.connect), now=now, sleep=sleep)
    return _judge(report, findings, options, target)


def _rule_failures(rules: RuleSet, node: Node, conf: AwgConf,
                   source: SourceRead) -> tuple[Finding, ...]:
    """What the shipped rules (drift, constraints, loads) fail on the file."""
    docs = engine.NodeDocuments(node.name, {ArtifactKind.CONF: conf})
    found = engine.evaluate(rules.rules, [docs], engine.Source(source.name or "none", source.doc))
    return tuple(f for f in found
                 if f.status is Status.FAIL and f.severity.at_least(Severity.ERROR))


def _unchecked(source: str | None, missing: Missing) -> VerifyReport:
    return VerifyReport(Outcome.UNCHECKED, missing.why, hints=(missing.how,), source=source)


# --------------------------------------------------------------------------
# the judgement


def _judge(report: TriageReport, findings: tuple[Finding, ...], options: VerifyOptions,
           target: Target | None) -> VerifyReport:
    def said(outcome: Outcome, headline: str, evidence: str = "", fix: tuple[str, ...] = (),
             command: str | None = None, hints: tuple[str, ...] = ()) -> VerifyReport:
        return VerifyReport(outcome, headline, evidence, fix, command, hints, findings,
                            target, report, report.source.name)

    verdict = report.verdict
    if report.unreachable is not None or verdict is None:
        return said(Outcome.UNCHECKED, report.unreachable or "the node could not be read")
    if verdict.status == SOURCE_BROKEN:
        # Compared with a broken source, the file's differences are no
        # guide: only the fault on the source is said, and its fix.
        edits, _ = _fix(report)
        note = verdict.fix.note if verdict.fix is not None else ""
        return said(Outcome.UNCHECKED, verdict.headline, verdict.evidence, edits,
                    hints=(note,) if note else ())
    file_rows = [r for r in report.rows if r.file_differs]
    if file_rows:
        return said(Outcome.DRIFT, verdict.headline, verdict.evidence, *_fix(report))
    if findings:
        first = findings[0]
        fix = (first.remediation,) if first.remediation else ()
        return said(Outcome.DRIFT, f"{first.rule}: {first.message}", fix=fix)
    if report.runtime is None:
        unread = next((m for m in report.missing if m.what == "runtime"), None)
        return said(Outcome.UNCHECKED, "the running interface could not be read"
                    + (f": {unread.why}" if unread else ""),
                    hints=(unread.how,) if unread else ())
    if any(r.verdict in (NOT_APPLIED, STILL_ACTIVE, UNAPPLIED) for r in report.rows):
        detail = f" {verdict.details[0]}" if verdict.details else ""
        return said(Outcome.NOT_APPLIED, verdict.headline + detail, verdict.evidence,
                    *_fix(report))
    if options.probe:
        return _probed(report, target, options.timeout, said)
    return said(Outcome.OK, _agreement(report, options.interface)
                + "; no probe (add --probe to ping through the tunnel)")


def _probed(report: TriageReport, target: Target | None, timeout: float,
            said: Callable[..., VerifyReport]) -> VerifyReport:
    evidence = report.evidence
    ping = evidence.ping
    if target is None:
        return said(Outcome.UNCHECKED, "no address to ping: neither the source nor the conf "
                    "names the hub's mesh address",
                    hints=("pass --ping ADDR (the hub's address inside the tunnel)",))
    if ping is None or ping.loss is None:
        why = next((m for m in evidence.missing if m.what == "ping"), None)
        # The reader's advice is for a node over SSH; here the ping is ours.
        return said(Outcome.UNCHECKED, f"the ping to {target.address} could not be run"
                    + (f": {why.why}" if why else ""),
                    hints=(f"run it by hand to see why; or raise --timeout (it was "
                           f"{timeout:g} s; a ping with no reply takes about 4 s)",))
    seen = ", ".join(describe(evidence))
    if ping.loss >= 100:
        assert report.verdict is not None
        return said(Outcome.NO_TRAFFIC, f"the params agree, but nothing came back through "
                    f"{report.interface}: ping {target.address}: "
                    f"{ping.summary or f'exit {ping.exit_status}'}",
                    f"What we see: {seen}.", hints=tuple(path_steps(evidence)))
    replies = (f"{ping.received}/{ping.transmitted} replies" if ping.transmitted
               else f"{ping.loss:g}% loss")
    rest = [x for x in describe(evidence) if not x.startswith("ping ")]  # said just before
    return said(Outcome.OK, f"{_agreement(report, report.interface)}; ping {target.address}: "
                + ", ".join([replies, *rest]))


def _agreement(report: TriageReport, interface: str) -> str:
    compared = len(report.rows)
    if report.source.doc is None:
        return (f"{interface} runs what {report.conf_path} says ({compared} params); no "
                "--against, so not compared with a source")
    return (f"{interface} runs what {report.conf_path} says, and it matches "
            f"{report.source.name} on {compared} params")


def _fix(report: TriageReport) -> tuple[tuple[str, ...], str | None]:
    """Triage's fix: the edits, one a line, and the command that applies them."""
    verdict = report.verdict
    if verdict is None or verdict.fix is None:
        return (), None
    lines = []
    for step in verdict.fix.steps:
        where = (step.path or "the conf") + (f" line {step.line}" if step.line else "")
        lines.append(f"{where}: {step.action}")
    return tuple(lines), verdict.fix.command
