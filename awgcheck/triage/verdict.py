"""Triage's verdict: the likely cause, whether the evidence fits it, and the fix.

Pure functions over the rows (:mod:`awgcheck.triage.rows`) and the gathered
evidence; nothing here reads a node. The likely cause is the difference
whose symptom (the one table, :mod:`awgcheck.symptoms`) the evidence
supports (:mod:`awgcheck.triage.cause`); every other difference is listed
with its own symptom, and the fix (:mod:`awgcheck.triage.fix`) starts with
the cause's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from awgcheck.symptoms import OVERLAP, SIDE_LOCAL, Expect, MismatchClass, class_of
from awgcheck.triage.cause import Candidate, rank
from awgcheck.triage.edge import EdgeFault
from awgcheck.triage.evidence import Evidence, data_flows, describe, health
from awgcheck.triage.fix import ONLY_RESTART, SYNCCONF, Fix, FixStep, build_fix, restart
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


@dataclass(frozen=True)
class Verdict:
    status: str  # "mismatch" or "clean"
    cause: str | None  # a MismatchClass id, "file-vs-runtime", or None
    headline: str
    evidence: str
    details: tuple[str, ...]
    next_steps: tuple[str, ...]
    fix: Fix | None
    also: tuple[Also, ...] = ()  # other params that differ on the wire, by likelihood


def decide(sides: Sides, rows: list[Row], evidence: Evidence,
           faults: Sequence[EdgeFault] = ()) -> Verdict:
    """The likely cause, whether the evidence fits it, the other
    differences with their own symptoms, and the fix (the cause's first).
    ``faults`` are those of the mesh edge to the source (:mod:`.edge`)."""
    wire_rows = [r for r in rows if r.wire_differs]
    file_rows = [r for r in rows if r.verdict in (FILE_ONLY, UNAPPLIED)]
    overlaps = _overlaps(sides, rows)
    ranked = rank(wire_rows, bool(overlaps), health(evidence), faults)
    if ranked:
        return _mismatch(sides, rows, ranked, evidence, overlaps)
    if file_rows:
        return _file_only(sides, rows, file_rows, evidence)
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
    return Verdict("mismatch", cause.cls.id, headline, _fit(cause.cls, evidence),
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
    return Verdict("mismatch", ranked[0].cls.id, cause.headline + ".",
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
    seen = describe(evidence)
    fit = ("What we see: " + ", ".join(seen) + ".") if seen else _no_evidence(evidence)
    fix = build_fix(sides, [*file_rows, *(r for r in rows if r not in file_rows)])
    fix = Fix(fix.steps, None, "No restart needed: the running interface already has the "
              "right values. Correct the file so the next restart keeps them.")
    return Verdict("mismatch", "file-vs-runtime", headline, fit, tuple(details), (), fix)


def _unapplied(sides: Sides, headline: str, file_rows: list[Row],
               evidence: Evidence) -> Verdict:
    """File and runtime differ and no source says which is right."""
    others = [r.param for r in file_rows[1:]]
    details = ["No source of truth was read, so which side is right is unknown; pass "
               "--against SOURCE to find out."]
    if others:
        details.append(f"Also differing between file and runtime: {', '.join(others)}.")
    seen = describe(evidence)
    fit = ("What we see: " + ", ".join(seen) + ".") if seen else _no_evidence(evidence)
    fix = Fix((FixStep(sides.edit_path, None, "make the file say what should run"),),
              restart(sides.interface, sides.sudo), SYNCCONF)
    return Verdict("mismatch", "file-vs-runtime", headline, fit, tuple(details), (), fix)


def _clean(sides: Sides, evidence: Evidence) -> Verdict:
    headline = _clean_headline(sides)
    seen = describe(evidence)
    fit = ("What we see: " + ", ".join(seen) + ".") if seen else _no_evidence(evidence)
    return Verdict("clean", None, headline, fit, (), tuple(_next_steps(sides, evidence)),
                   None)


def _clean_headline(sides: Sides) -> str:
    if sides.source is None:
        if sides.state is None:
            return ("Nothing to compare: no source of truth and no running state could be "
                    "read; only the file was.")
        return ("The file and the running interface agree (no source of truth was read to "
                "compare them with).")
    compared = "the file, the running interface and " if sides.state is not None \
        else "the file and "
    hub = (f" ({sides.source_name}'s running interface too)"
           if sides.source_state is not None else "")
    return (f"No param differs: {compared}{sides.source_name}{hub} agree on every "
            "obfuscation param.")


def _next_steps(sides: Sides, evidence: Evidence) -> list[str]:
    """Where to look when the params agree: the path, not the params."""
    steps = []
    if sides.state is None:
        steps.append("The running state is unknown: the kernel may still run old values "
                     "(see the missing evidence below).")
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


def _no_evidence(evidence: Evidence) -> str:
    if evidence.missing:
        return ("No health evidence: "
                + "; ".join(m.why for m in evidence.missing) + ".")
    return "No health evidence."
