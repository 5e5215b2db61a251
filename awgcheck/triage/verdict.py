"""Triage analysis: file, runtime and source side by side, and the verdict.

Pure functions over parsed documents and gathered evidence; nothing here
reads a node. The likely cause comes from the symptom table
(docs/triage.md): each mismatch class predicts what the tunnel looks like, and
the verdict says whether the evidence matches that prediction.

"On the wire" means the running interface when it could be read (what the
kernel runs is what the tunnel does), else the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from awgcheck import params
from awgcheck.compare import Comparison, Quirks, Relation, compare
from awgcheck.model import ParamDocument, ParamValue
from awgcheck.parse.awgconf import AwgConf
from awgcheck.parse.runtime import RuntimeState
from awgcheck.symptoms import CLASSES, OVERLAP, SIDE_LOCAL, Expect, MismatchClass, class_of
from awgcheck.triage.evidence import (
    Evidence,
    data_flows,
    describe,
    partial_loss,
)

SAME = "same"
DIFFERS = "DIFFERS"  # the wire disagrees with the source
NOT_APPLIED = "NOT APPLIED"  # the file was edited, the interface still runs the old value
STILL_ACTIVE = "STILL ACTIVE"  # removed from the file, still running
FILE_ONLY = "FILE DIFFERS"  # the wire is right, the file is not: the next restart breaks it
UNAPPLIED = "FILE != RUNTIME"  # they differ and no source says which is right
QUIRK = "quirk"
SPELLING = "spelling"  # same effective value, other bytes (`018` vs `18`): not a mismatch


@dataclass(frozen=True)
class Row:
    """One param as the file, the running interface and the source state it."""

    param: str
    role: str
    file: ParamValue | None
    runtime: ParamValue | None
    source: ParamValue | None
    runtime_effective: str | None  # None when the runtime is unknown
    runtime_known: bool
    source_known: bool
    # The file against the source (against nothing when no source was
    # read): what each applies, and whether they differ.
    file_vs_source: Comparison
    verdict: str
    note: str = ""

    @property
    def file_effective(self) -> str | None:
        """What the file applies (absent -> the default)."""
        return self.file_vs_source.here_effective

    @property
    def source_effective(self) -> str | None:
        """What the source applies; None when no source was read."""
        return self.file_vs_source.there_effective if self.source_known else None

    @property
    def file_differs(self) -> bool:
        """The file applies something else than the source (or one of them
        states a value awg cannot read)."""
        return self.source_known and self.file_vs_source.differs

    @property
    def wire(self) -> str | None:
        return self.runtime_effective if self.runtime_known else self.file_effective

    @property
    def wire_differs(self) -> bool:
        return self.verdict in (DIFFERS, NOT_APPLIED, STILL_ACTIVE)


@dataclass(frozen=True)
class FixStep:
    path: str | None
    line: int | None
    action: str


@dataclass(frozen=True)
class Fix:
    steps: tuple[FixStep, ...]
    command: str | None
    note: str


@dataclass(frozen=True)
class Verdict:
    status: str  # "mismatch" or "clean"
    cause: str | None  # a MismatchClass id, "file-vs-runtime", or None
    headline: str
    evidence: str
    details: tuple[str, ...]
    next_steps: tuple[str, ...]
    fix: Fix | None


# --------------------------------------------------------------------------
# rows


def build_rows(conf: AwgConf | None, state: RuntimeState | None,
               source: ParamDocument | None) -> list[Row]:
    """A row for every obfuscation param any side states or disagrees on."""
    stated_file = conf.params() if conf is not None else {}
    stated_source = source.params() if source is not None else {}
    rows = []
    for name in params.OBFUSCATION_PARAMS:
        row = _row(name, conf, stated_file.get(name), state, stated_source.get(name), source)
        interesting = any(v is not None for v in (row.file, row.runtime, row.source))
        if interesting or row.verdict != SAME:
            rows.append(row)
    return rows


def _row(name: str, conf: AwgConf | None, file: ParamValue | None,
         state: RuntimeState | None, source_value: ParamValue | None,
         source: ParamDocument | None) -> Row:
    spec = params.spec(name)
    assert spec is not None
    running = state.get(name) if state is not None else None
    # The wire is the running interface when it was read, else the file.
    wire = compare(name, running if state is not None else file, source_value,
                   quirks=Quirks(state, source) if state is not None else None)
    vs_file = compare(name, running, file, quirks=Quirks(state, conf)) \
        if state is not None and conf is not None else None
    vs_source = compare(name, file, source_value)
    verdict, note = _row_verdict(file, state is None, wire if source is not None else None,
                                 vs_file)
    if verdict == SAME and vs_source.relation is Relation.SPELLING:
        verdict, note = SPELLING, "same effective value, written differently"
    run_eff = wire.here_effective if state is not None else None
    return Row(name, spec.role.value, file, running, source_value, run_eff,
               state is not None, source is not None, vs_source, verdict, note)


def _row_verdict(file: ParamValue | None, no_runtime: bool, wire: Comparison | None,
                 vs_file: Comparison | None) -> tuple[str, str]:
    """How file, runtime and source relate for one param (see the verdict
    constants), from the two comparisons that matter: what is on the wire
    against the source, and the runtime against the file (either None when
    that side was not read). Runtime quirks are not differences."""
    wire_vs_source = wire is not None and wire.differs
    runtime_vs_file = vs_file is not None and vs_file.differs
    if file is not None and file.effective is None:
        note = f"awg cannot read the file's value ({file.error}): the next awg-quick up fails"
        return (DIFFERS if wire_vs_source or no_runtime else FILE_ONLY), note
    if wire_vs_source and runtime_vs_file:
        assert vs_file is not None and wire is not None
        if vs_file.there_effective == wire.there_effective:
            kind = STILL_ACTIVE if file is None else NOT_APPLIED
            return kind, "the file is right; the running interface was not recreated"
        return DIFFERS, "the file, the running interface and the source all disagree"
    if wire_vs_source:
        return DIFFERS, ""
    if runtime_vs_file and wire is None:
        return UNAPPLIED, "no source of truth says which one is right"
    if runtime_vs_file:
        return FILE_ONLY, ("the running value is right; the file differs, so the next "
                           "restart breaks the tunnel")
    for found in (vs_file, wire):
        if found is not None and found.relation is Relation.QUIRK:
            return QUIRK, found.quirk or ""
    return SAME, ""


# --------------------------------------------------------------------------
# overlap


def overlapping(values: dict[str, str | None]) -> list[tuple[str, str]]:
    """Pairs of magic headers whose ranges overlap (``H1 = 5-10``, ``H2 = 8``)."""
    ranges = []
    for name in ("H1", "H2", "H3", "H4"):
        text = values.get(name)
        bounds = params.parse_range(text) if text else None
        if bounds is not None:
            ranges.append((name, bounds))
    pairs = []
    for i, (name, (lo, hi)) in enumerate(ranges):
        for other, (olo, ohi) in ranges[:i]:
            if lo <= ohi and olo <= hi:
                pairs.append((other, name))
    return pairs


# --------------------------------------------------------------------------
# verdict


@dataclass(frozen=True)
class Sides:
    """What the verdict is about, named for the sentences it writes."""

    node: str
    interface: str
    conf: AwgConf | None
    state: RuntimeState | None
    source: ParamDocument | None
    source_name: str
    sudo: bool = False
    file_path: str | None = None  # the conf as the operator edits it (path on the node)

    @property
    def edit_path(self) -> str | None:
        return self.file_path or (self.conf.path if self.conf is not None else None)


def decide(sides: Sides, rows: list[Row], evidence: Evidence) -> Verdict:
    """The likely cause, whether the evidence fits it, and the fix."""
    wire_rows = [r for r in rows if r.wire_differs]
    file_rows = [r for r in rows if r.verdict in (FILE_ONLY, UNAPPLIED)]
    overlaps = _overlaps(sides, rows)
    cls, row = _likely(wire_rows)
    if cls is not None and row is not None:
        return _mismatch(sides, rows, cls, row, wire_rows, evidence, overlaps)
    if overlaps:
        return _overlap_verdict(sides, rows, overlaps, evidence)
    if file_rows:
        return _file_only(sides, rows, file_rows, evidence)
    return _clean(sides, evidence)


def _likely(wire_rows: list[Row]) -> tuple[MismatchClass | None, Row | None]:
    by_param = {r.param: r for r in wire_rows}
    for cls in CLASSES:
        for name in cls.params:
            if name in by_param:
                return cls, by_param[name]
    side = [r for r in wire_rows if r.role == params.Role.SIDE_LOCAL.value]
    if side:
        return SIDE_LOCAL, side[0]
    return None, None


def _overlaps(sides: Sides, rows: list[Row]) -> list[str]:
    found = []
    wire = {r.param: r.wire for r in rows}
    for a, b in overlapping(wire):
        found.append(f"{a} and {b} overlap on {sides.node} ({wire[a]} / {wire[b]})")
    src = {r.param: r.source_effective for r in rows if r.source_known}
    for a, b in overlapping(src):
        found.append(f"{a} and {b} overlap on {sides.source_name} ({src[a]} / {src[b]})")
    return found


def _shown(value: str | None, stated: ParamValue | None) -> str:
    if value is None:
        return f"{stated.raw} (unreadable)" if stated is not None else "unset"
    return value if stated is not None else f"{value} (absent)"


def _mismatch(sides: Sides, rows: list[Row], cls: MismatchClass, row: Row,
              wire_rows: list[Row], evidence: Evidence, overlaps: list[str]) -> Verdict:
    here = _shown(row.wire, row.runtime if row.runtime_known else row.file)
    there = _shown(row.source_effective, row.source)
    headline = f"{row.param} differs ({here} vs {there}): {cls.symptom}."
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
    others = [r.param for r in wire_rows if r is not row]
    if others:
        details.append(f"Also differing: {', '.join(others)}.")
    details.extend(f"Also: {text} (partial or intermittent loss)." for text in overlaps)
    return Verdict("mismatch", cls.id, headline, _fit(cls, evidence), tuple(details),
                   (), _fix(sides, rows))


def _overlap_verdict(sides: Sides, rows: list[Row], overlaps: list[str],
                     evidence: Evidence) -> Verdict:
    headline = f"{overlaps[0]}: {OVERLAP.symptom}."
    steps = []
    for r in rows:
        if r.param in ("H1", "H2", "H3", "H4") and r.file is not None:
            steps.append(FixStep(sides.edit_path, _line(r.file),
                                 f"`{r.param} = {r.file.raw}`: choose H1-H4 ranges that do not "
                                 "overlap, the same in the source and on every node"))
    fix = Fix(tuple(steps), _restart(sides), _SYNCCONF)
    return Verdict("mismatch", OVERLAP.id, headline, _fit(OVERLAP, evidence),
                   tuple(overlaps[1:]), (), fix)


def _file_only(sides: Sides, rows: list[Row], file_rows: list[Row],
               evidence: Evidence) -> Verdict:
    row = file_rows[0]
    cls = class_of(row.param) or SIDE_LOCAL
    headline = (f"The file and the running interface differ: {row.param} = "
                f"{_shown(row.file_effective, row.file)} in the file, "
                f"{_shown(row.runtime_effective, row.runtime)} running"
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
    fix = _fix(sides, rows)
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
              _restart(sides), _SYNCCONF)
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
    return f"No param differs: {compared}{sides.source_name} agree on every obfuscation param."


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
    peer = evidence.peer
    recent = peer.handshake_recent if peer is not None else None
    flows = data_flows(evidence)
    fits: bool | None
    if cls.expects is Expect.NO_HANDSHAKE:
        fits = None if recent is None else not recent
    elif cls.expects is Expect.UP_BUT_DEAD:
        fits = _up_but_dead(recent, flows)
    elif cls.expects is Expect.DEAD:
        fits = None if flows is None else not flows
    elif cls.expects is Expect.PARTIAL:
        fits = True if partial_loss(evidence) else None
    elif cls.expects is Expect.INVISIBLE:
        fits = flows is not False  # a dead tunnel needs another explanation
    else:  # healthy
        fits = flows is not False
    if fits is True:
        return f"This matches what we see: {observed}."
    if fits is False:
        hint = (f" {cls.id} does not explain a broken tunnel: look at the path too."
                if cls.expects in (Expect.HEALTHY, Expect.INVISIBLE)
                else " Look for a second cause as well.")
        return f"This does not match what we see: {observed}.{hint}"
    more = "" if evidence.probed else " Run with --probe to confirm."
    return f"Consistent so far: {observed}.{more}"


def _up_but_dead(recent: bool | None, flows: bool | None) -> bool | None:
    """S4/H4: handshakes refresh while data is dropped."""
    if recent is False or flows is True:
        return False
    if recent and flows is False:
        return True
    return None


def _no_evidence(evidence: Evidence) -> str:
    if evidence.missing:
        return ("No health evidence: "
                + "; ".join(m.why for m in evidence.missing) + ".")
    return "No health evidence."


# --------------------------------------------------------------------------
# fix

_SYNCCONF = ("awg syncconf does not clear a param removed from the file: recreate the "
             "interface rather than syncconf.")


def _restart(sides: Sides) -> str:
    iface = sides.interface
    prefix = "sudo " if sides.sudo else ""
    return f"{prefix}awg-quick down {iface} && {prefix}awg-quick up {iface}"


def _fix(sides: Sides, rows: list[Row]) -> Fix:
    """File edits that make the file equal the source, and the restart."""
    steps = [step for r in rows if (step := _step(sides, r)) is not None]
    command = _restart(sides)
    if not steps:
        steps.append(FixStep(sides.edit_path, None,
                             "the file is already right; only recreate the interface"))
    return Fix(tuple(steps), command, _SYNCCONF)


def _step(sides: Sides, row: Row) -> FixStep | None:
    if not row.file_differs:
        return None
    path = sides.edit_path
    spec = params.spec(row.param)
    secret = spec is not None and spec.secret
    wanted = f"{row.param} = <the key from {_source_where(sides, row)}>" if secret \
        else f"{row.param} = {row.source.raw if row.source else row.source_effective}"
    if row.file is not None and row.source is None:
        return FixStep(path, _line(row.file), f"delete `{row.param} = "
                       f"{_safe_raw(row.file)}` ({sides.source_name} does not set it)")
    if row.file is not None:
        return FixStep(path, _line(row.file),
                       f"change `{row.param} = {_safe_raw(row.file)}` to `{wanted}`")
    after = _interface_end(sides.conf)
    return FixStep(path, after, f"add `{wanted}` in [Interface]"
                   + (f" (after line {after})" if after else ""))


def _safe_raw(value: ParamValue) -> str:
    spec = params.spec(value.key)
    return "<key>" if spec is not None and spec.secret else value.raw


def _source_where(sides: Sides, row: Row) -> str:
    location = row.source.location if row.source is not None else None
    return str(location) if location is not None else sides.source_name


def _line(value: ParamValue) -> int | None:
    return value.location.line if value.location is not None else None


def _interface_end(conf: AwgConf | None) -> int | None:
    if conf is None:
        return None
    section = conf.interface()
    if section is None:
        return None
    lines = [e.line for e in section.entries]
    return max(lines) if lines else section.line
