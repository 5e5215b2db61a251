"""Triage's verdict: the likely cause, whether the evidence fits it, and the fix.

Pure functions over the rows (:mod:`awgcheck.triage.rows`) and the gathered
evidence; nothing here reads a node. The likely cause is the difference
whose symptom (the one table, :mod:`awgcheck.symptoms`) the evidence
supports (:mod:`awgcheck.triage.cause`); every other difference is listed
with its own symptom, and the fix (:mod:`awgcheck.triage.fix`) starts with
the cause's.

Two verdicts are not about the node: a source of truth that fails its own
rules (its fix is on the source: copying its values would spread the
fault, the reason ``fix`` refuses), and a source that could not be read
(nothing says what the node should run: not checked, never "clean").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from awgcheck.model import Finding, ParamValue
from awgcheck.symptoms import OVERLAP, SIDE_LOCAL, Expect, MismatchClass, class_of
from awgcheck.triage.cause import Candidate, rank
from awgcheck.triage.edge import EdgeFault
from awgcheck.triage.evidence import Evidence, data_flows, describe, health
from awgcheck.triage.fix import (
    ONLY_RESTART,
    SYNCCONF,
    Fix,
    FixStep,
    build_fix,
    restart,
    safe_raw,
)
from awgcheck.triage.rows import (
    FILE_ONLY,
    NOT_APPLIED,
    SOURCE_NOT_APPLIED,
    STILL_ACTIVE,
    UNAPPLIED,
    Row,
    Sides,
    overlapping,
    shown,
)


@dataclass(frozen=True)
class Also:
    """A param that differs on the wire besides the cause, with its own
    symptom and whether the evidence matches it."""

    param: str
    here: str  # what the node runs (or its file says)
    there: str  # what the source says
    cause: str  # its MismatchClass id
    symptom: str
    matches: bool | None  # True, False, or None when the evidence cannot tell
    policy: bool = False  # side-local: a policy difference, no data-plane effect

    @property
    def text(self) -> str:
        """One line for the report."""
        if self.policy:
            return (f"{self.param} ({self.here} vs {self.there}): policy only, "
                    f"{self.symptom}.")
        fit = {True: "matches what we see", False: "does not match what we see",
               None: "the evidence cannot tell"}[self.matches]
        return f"{self.param} ({self.here} vs {self.there}): {self.symptom} ({fit})."


MISMATCH = "mismatch"  # the node differs (from the source, or file from runtime)
SOURCE_BROKEN = "source-broken"  # the source fails its own rules: the fix is on it
UNCHECKED = "unchecked"  # no source was read and nothing else differs: not a pass
CLEAN = "clean"  # compared with the source: nothing differs

SOURCE_RULES = "source-rules"
"""The cause of a :data:`SOURCE_BROKEN` verdict."""


@dataclass(frozen=True)
class Verdict:
    status: str  # MISMATCH, SOURCE_BROKEN, UNCHECKED or CLEAN
    cause: str | None  # a MismatchClass id, "file-vs-runtime", SOURCE_RULES, or None
    headline: str
    evidence: str
    details: tuple[str, ...]
    next_steps: tuple[str, ...]
    fix: Fix | None
    also: tuple[Also, ...] = ()  # other params that differ on the wire, by likelihood

    @property
    def failed(self) -> bool:
        """Something is wrong: on the node, or in the source itself."""
        return self.status in (MISMATCH, SOURCE_BROKEN)


def decide(sides: Sides, rows: list[Row], evidence: Evidence,
           faults: Sequence[EdgeFault] = (), broken: Sequence[Finding] = ()) -> Verdict:
    """The likely cause, whether the evidence fits it, the other
    differences with their own symptoms, and the fix (the cause's first).
    ``faults`` are those of the mesh edge to the source (:mod:`.edge`);
    ``broken`` what the source fails of its own rules
    (:func:`awgcheck.fix.run.source_faults`): then the verdict is about
    the source, and nothing is copied from it."""
    if broken:
        return _broken_source(sides, broken, evidence)
    wire_rows = [r for r in rows if r.wire_differs]
    file_rows = [r for r in rows if r.verdict in (FILE_ONLY, UNAPPLIED)]
    overlaps = _overlaps(sides, rows)
    ranked = rank(wire_rows, bool(overlaps), health(evidence), faults)
    if ranked:
        return _mismatch(sides, rows, ranked, evidence, overlaps)
    if file_rows:
        return _file_only(sides, rows, file_rows, evidence)
    if sides.source is None:
        return _unchecked(sides, evidence)
    return _clean(sides, evidence)


def _overlaps(sides: Sides, rows: list[Row]) -> list[str]:
    found = []
    wire = {r.param: r.wire for r in rows}
    for a, b in overlapping(wire):
        found.append(f"{a} and {b} overlap on {sides.node} ({wire[a]} / {wire[b]})")
    src = {r.param: r.source_effective for r in rows if r.source_known}
    for a, b in overlapping(src):
        found.append(f"{a} and {b} overlap on {sides.source_name} ({src[a]} / {src[b]})")
    return found


def _here(row: Row) -> str:
    return shown(row.wire, row.runtime if row.runtime_known else row.file)


def _there(row: Row) -> str:
    return shown(row.source_effective, row.source)


def _mismatch(sides: Sides, rows: list[Row], ranked: list[Candidate], evidence: Evidence,
              overlaps: list[str]) -> Verdict:
    cause = ranked[0]
    if cause.fault is not None:
        return _edge_mismatch(sides, rows, ranked, evidence, overlaps)
    details = []
    if cause.row is None:
        headline = f"{overlaps[0]}: {OVERLAP.symptom}."
        details.extend(overlaps[1:])
    else:
        headline = _headline(sides, cause.cls, cause.row)
        details.extend(_row_details(cause.row))
        details.extend(f"Also: {text} (partial or intermittent loss)." for text in overlaps)
    # The cause's own row already says its source is not applied.
    stale = [r for r in rows if r.source_stale and not (
        r is cause.row and r.verdict == SOURCE_NOT_APPLIED)]
    if stale:
        details.append(f"{sides.source_name} is not applied: its file says "
                       + ", ".join(f"{r.param} = {_there(r)}" for r in stale)
                       + " but it runs " + ", ".join(
                           f"{r.param} = {shown(r.source_runtime_effective, r.source_runtime)}"
                           for r in stale)
                       + ": its interface was not recreated after the edit.")
    details.extend(f"Also: {c.fault.headline}." for c in ranked[1:] if c.fault is not None)
    also = tuple(_also(sides, c) for c in ranked[1:] if c.row is not None)
    ordered = [c.row for c in ranked if c.row is not None]
    ordered += [r for r in rows if r not in ordered]
    fix = build_fix(sides, ordered)
    if cause.row is None:
        fix = Fix((*_overlap_steps(sides, rows), *fix.steps),
                  fix.command or restart(sides.interface, sides.sudo), fix.note)
    # Edge faults the evidence supports less: their fixes after the cause's.
    fix = Fix((*fix.steps, *(s for c in ranked if c.fault for s in c.fault.steps)),
              fix.command, fix.note)
    return Verdict(MISMATCH, cause.cls.id, headline, _fit(cause.cls, evidence),
                   tuple(details), (), fix, also)


def _edge_mismatch(sides: Sides, rows: list[Row], ranked: list[Candidate], evidence: Evidence,
                   overlaps: list[str]) -> Verdict:
    """The cause is a fault of the mesh edge: its fix first, on the side
    that is wrong, then the param fixes; the node restarts only when its
    file changes (a fix on the partner is applied there)."""
    faults = [c.fault for c in ranked if c.fault is not None]
    cause = faults[0]
    details = [f"Also: {f.headline}." for f in faults[1:]]
    details.extend(f"Also: {text} (partial or intermittent loss)." for text in overlaps)
    steps = [step for fault in faults for step in fault.steps]
    command = restart(sides.interface, sides.sudo) if any(f.on_node for f in faults) else None
    ordered = [c.row for c in ranked if c.row is not None]
    if ordered or any(r.file_differs for r in rows):
        params_fix = build_fix(sides, [*ordered, *(r for r in rows if r not in ordered)])
        steps.extend(s for s in params_fix.steps if s.action != ONLY_RESTART)
        command = params_fix.command or command
    also = tuple(_also(sides, c) for c in ranked if c.row is not None)
    return Verdict(MISMATCH, ranked[0].cls.id, cause.headline + ".",
                   _fit(ranked[0].cls, evidence), tuple(details), (),
                   Fix(tuple(steps), command, SYNCCONF if command else ""), also)


def _headline(sides: Sides, cls: MismatchClass, row: Row) -> str:
    if row.verdict == SOURCE_NOT_APPLIED:
        running = shown(row.source_runtime_effective, row.source_runtime)
        return (f"{row.param} differs on the wire: {sides.node} runs {_here(row)}, "
                f"{sides.source_name} runs {running} although its file says {_there(row)} "
                f"({sides.source_name} is not applied): {cls.symptom}.")
    return f"{row.param} differs ({_here(row)} vs {_there(row)}): {cls.symptom}."


def _row_details(row: Row) -> list[str]:
    details = []
    if row.verdict == NOT_APPLIED:
        details.append(f"The file already says {row.param} = {row.file_effective}: the "
                       "interface was not recreated after the edit (edited but not applied).")
    elif row.verdict == STILL_ACTIVE:
        details.append(f"{row.param} was removed from the file but is still active: awg "
                       "syncconf never clears a removed param.")
    if not row.runtime_known:
        details.append("Compared from the file: the running state could not be read, so "
                       "what the kernel runs is not confirmed.")
    return details


def _also(sides: Sides, candidate: Candidate) -> Also:
    row = candidate.row
    assert row is not None
    there = _there(row)
    if row.verdict == SOURCE_NOT_APPLIED:
        # The node agrees with the source's file; the tunnel sees what runs.
        there = (f"{shown(row.source_runtime_effective, row.source_runtime)} running on "
                 f"{sides.source_name}, whose file says {there}")
    return Also(row.param, _here(row), there, candidate.cls.id, candidate.cls.symptom,
                candidate.matches, candidate.policy)


def _overlap_steps(sides: Sides, rows: list[Row]) -> list[FixStep]:
    return [FixStep(sides.edit_path, _line(r), f"`{r.param} = {r.file.raw}`: choose H1-H4 "
                    "ranges that do not overlap, the same in the source and on every node")
            for r in rows if r.param in ("H1", "H2", "H3", "H4") and r.file is not None]


def _line(row: Row) -> int | None:
    location = row.file.location if row.file is not None else None
    return location.line if location is not None else None


def _file_only(sides: Sides, rows: list[Row], file_rows: list[Row],
               evidence: Evidence) -> Verdict:
    row = file_rows[0]
    cls = class_of(row.param) or SIDE_LOCAL
    headline = (f"The file and the running interface differ: {row.param} = "
                f"{shown(row.file_effective, row.file)} in the file, "
                f"{shown(row.runtime_effective, row.runtime)} running"
                + (f" (= {sides.source_name})." if row.source_known else "."))
    if not row.source_known:
        return _unapplied(sides, headline, file_rows, evidence)
    details = [f"The tunnel runs the right value now; the next restart (or reboot) applies "
               f"the file, and then: {cls.symptom}."]
    others = [r.param for r in file_rows[1:]]
    if others:
        details.append(f"Also differing between file and runtime: {', '.join(others)}.")
    fit = _seen(evidence)
    fix = build_fix(sides, [*file_rows, *(r for r in rows if r not in file_rows)])
    fix = Fix(fix.steps, None, "No restart needed: the running interface already has the "
              "right values. Correct the file so the next restart keeps them.")
    return Verdict(MISMATCH, "file-vs-runtime", headline, fit, tuple(details), (), fix)


def _unapplied(sides: Sides, headline: str, file_rows: list[Row],
               evidence: Evidence) -> Verdict:
    """File and runtime differ and no source says which is right."""
    others = [r.param for r in file_rows[1:]]
    details = [f"{_no_source(sides)}, so which side is right is unknown; "
               f"{_get_source(sides)} to find out."]
    if others:
        details.append(f"Also differing between file and runtime: {', '.join(others)}.")
    fit = _seen(evidence)
    fix = Fix((FixStep(sides.edit_path, None, "make the file say what should run"),),
              restart(sides.interface, sides.sudo), SYNCCONF)
    return Verdict(MISMATCH, "file-vs-runtime", headline, fit, tuple(details), (), fix)


def _no_source(sides: Sides) -> str:
    """Why no source was compared with: none named, or it could not be read."""
    if sides.source_named:
        return f"{sides.source_name} (the source of truth) could not be read"
    return "No source of truth was named"


def _get_source(sides: Sides) -> str:
    if sides.source_named:
        return ("make the source readable (Missing evidence says why it is not, and how) "
                "and run triage again")
    return "pass --against SOURCE (a conf file, or a node of --inventory)"


def _unchecked(sides: Sides, evidence: Evidence) -> Verdict:
    """No source was read and the node's own sides agree: nothing was
    compared with what the node should run, so this is no pass."""
    compared = ("its file and running interface agree" if sides.state is not None
                else "only its file was read")
    headline = (f"{_no_source(sides)}, so {sides.node} was not compared with "
                f"{'it' if sides.source_named else 'one'}; {compared}.")
    steps = [f"To check {sides.node}, {_get_source(sides)}."]
    if sides.state is None:
        steps.append(_RUNTIME_UNKNOWN)
    fit = _seen(evidence)
    return Verdict(UNCHECKED, None, headline, fit, (), tuple(steps), None)


def _broken_source(sides: Sides, broken: Sequence[Finding], evidence: Evidence) -> Verdict:
    """The source fails its own rules: say where and why, and fix it there;
    never tell the node to copy a value the tools reject."""
    source = sides.source_name
    said = [_source_fault(sides, finding) for finding in broken]
    # A source file is named by its path already; a source node by its name too.
    named = f" {source}" if source != _fault_path(sides, broken[0]) else ""
    headline = (f"The source of truth{named} is broken: {said[0][0]}; copying its values "
                f"to {sides.node} would spread the fault.")
    details = [f"Also broken in the source: {where}." for where, _ in said[1:]]
    details.append(f"The table compares {sides.node} with the source as it is; where the "
                   "source is wrong, its value is no guide.")
    # The path names the source's file (``host:/path`` on an SSH source).
    steps = tuple(FixStep(_fault_path(sides, finding), _fault_line(finding), action)
                  for finding, (_, action) in zip(broken, said, strict=True))
    note = (f"Nothing is copied from the source while it fails its own rules; once it "
            f"passes them, compare {sides.node} with it again.")
    fit = _seen(evidence)
    return Verdict(SOURCE_BROKEN, SOURCE_RULES, headline, fit, tuple(details), (),
                   Fix(steps, None, note))


def _source_fault(sides: Sides, finding: Finding) -> tuple[str, str]:
    """Where the source breaks ``finding``'s rule and why (for the verdict),
    and what to do about it there (for the fix)."""
    where = _fault_path(sides, finding) or sides.source_name
    line = _fault_line(finding)
    if line is not None:
        where += f" line {line}"
    stated = _stated(sides, finding)
    shown = f"`{stated.key} = {safe_raw(stated)}`" if stated is not None else None
    if shown is not None:
        where += f" ({shown})"
    said = f"{where} fails {finding.rule}: {finding.message}"
    action = f"{shown or 'the source'} fails {finding.rule}: " + (finding.remediation or
                                                  f"make it pass {finding.rule}")
    return said, action


def _stated(sides: Sides, finding: Finding) -> ParamValue | None:
    """The source's value the finding is about: its param, else the one
    on the line it names (``conf-loads`` names a line, not a param)."""
    stated = sides.source.params() if sides.source is not None else {}
    if finding.param is not None and finding.param in stated:
        return stated[finding.param]
    line = _fault_line(finding)
    return next((v for v in stated.values()
                 if line is not None and v.location is not None and v.location.line == line),
                None)


def _fault_path(sides: Sides, finding: Finding) -> str | None:
    if finding.location is not None and finding.location.path:
        return finding.location.path
    return sides.source.path if sides.source is not None else None


def _fault_line(finding: Finding) -> int | None:
    return finding.location.line if finding.location is not None else None


def _clean(sides: Sides, evidence: Evidence) -> Verdict:
    headline = _clean_headline(sides)
    fit = _seen(evidence)
    return Verdict(CLEAN, None, headline, fit, (), tuple(_next_steps(sides, evidence)), None)


def _clean_headline(sides: Sides) -> str:
    compared = "the file, the running interface and " if sides.state is not None \
        else "the file and "
    hub = (f" ({sides.source_name}'s running interface too)"
           if sides.source_state is not None else "")
    return (f"No param differs: {compared}{sides.source_name}{hub} agree on every "
            "obfuscation param.")


_RUNTIME_UNKNOWN = ("The running state is unknown: the kernel may still run old values "
                    "(see Missing evidence).")


def _next_steps(sides: Sides, evidence: Evidence) -> list[str]:
    """Where to look when the params agree: the path, not the params."""
    return ([_RUNTIME_UNKNOWN] if sides.state is None else []) + path_steps(evidence)


def path_steps(evidence: Evidence) -> list[str]:
    """Where to look when the params agree, by what the evidence shows:
    the path (endpoint, firewall, keys, AllowedIPs, MTU), not the params."""
    steps = []
    peer = evidence.peer
    flows = data_flows(evidence)
    endpoint = f" ({peer.endpoint})" if peer is not None and peer.endpoint else ""
    if peer is not None and not peer.handshake_recent:
        steps.append(f"No recent handshake: look at the path, not the params. Is the "
                     f"peer's UDP endpoint{endpoint} reachable from the node (firewall, NAT, "
                     "the server's ListenPort)? Do the public keys and PresharedKey match "
                     "on both sides?")
    elif flows is False:
        steps.append("Handshakes work but data does not flow: check AllowedIPs on both "
                     "sides, routing on the node, and the MTU (ping with a smaller size).")
    elif flows is True:
        steps.append("The tunnel carries data: the problem is probably beyond it (the "
                     "partner's LAN, DNS, the application).")
    else:
        steps.append("Run triage with --probe to see whether data flows; then look at the "
                     "path: endpoint reachability, firewall, MTU.")
    return steps


def _fit(cls: MismatchClass, evidence: Evidence) -> str:
    """Whether what we see matches what this mismatch class predicts."""
    seen = describe(evidence)
    if not seen:
        return _no_evidence(evidence)
    observed = ", ".join(seen)
    fits = cls.explains(health(evidence))
    if fits is True:
        return f"This matches what we see: {observed}."
    if fits is False:
        hint = (f" {cls.id} does not explain a broken tunnel: look at the path too."
                if cls.expects in (Expect.HEALTHY, Expect.INVISIBLE)
                else " Look for a second cause as well.")
        return f"This does not match what we see: {observed}.{hint}"
    more = "" if evidence.probed else " Run with --probe to confirm."
    return f"Consistent so far: {observed}.{more}"


def _seen(evidence: Evidence) -> str:
    """``What we see: ...``, or why there is nothing to see: the evidence
    of a verdict that predicts no health of its own."""
    seen = describe(evidence)
    return ("What we see: " + ", ".join(seen) + ".") if seen else _no_evidence(evidence)


def _no_evidence(evidence: Evidence) -> str:
    if evidence.missing:
        return ("No health evidence: "
                + "; ".join(m.why for m in evidence.missing) + ".")
    return "No health evidence."
