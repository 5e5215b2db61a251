"""Triage's side-by-side rows: each obfuscation param as the node's file,
the node's running interface and the source state it, and how they relate.

"On the wire" means the running interface when it could be read (what the
kernel runs is what the tunnel does), else the file. When the source is an
SSH node its own running interface is read too: a source whose interface
was not recreated after its file changed runs what the tunnel sees.
Pure functions over parsed documents; nothing here reads a node.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from awgcheck import params
from awgcheck.compare import Comparison, Quirks, Relation, compare
from awgcheck.model import ParamDocument, ParamValue
from awgcheck.parse.awgconf import AwgConf
from awgcheck.parse.runtime import RuntimeState

SAME = "same"
DIFFERS = "DIFFERS"  # the wire disagrees with the source
NOT_APPLIED = "NOT APPLIED"  # the file was edited, the interface still runs the old value
STILL_ACTIVE = "STILL ACTIVE"  # removed from the file, still running
FILE_ONLY = "FILE DIFFERS"  # the wire is right, the file is not: the next restart breaks it
UNAPPLIED = "FILE != RUNTIME"  # they differ and no source says which is right
SOURCE_NOT_APPLIED = "SOURCE NOT APPLIED"  # the node runs the source's file; the source does not
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
    # The source's own running interface (when the source is an SSH node
    # whose runtime was read): what the tunnel's other end really runs.
    source_runtime: ParamValue | None = None
    source_runtime_effective: str | None = None
    source_runtime_known: bool = False
    source_stale: bool = False  # the source runs another value than its file says

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
        return self.verdict in (DIFFERS, NOT_APPLIED, STILL_ACTIVE, SOURCE_NOT_APPLIED)



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
    source_state: RuntimeState | None = None  # the source's own running interface
    source_interface: str = "awg0"
    source_sudo: bool = False
    source_named: bool = True  # False: no source was named at all (else it could not be read)

    @property
    def edit_path(self) -> str | None:
        return self.file_path or (self.conf.path if self.conf is not None else None)


# --------------------------------------------------------------------------
# rows


def build_rows(conf: AwgConf | None, state: RuntimeState | None,
               source: ParamDocument | None, source_state: RuntimeState | None = None,
               source_name: str = "the source") -> list[Row]:
    """A row for every obfuscation param any side states or disagrees on.
    ``source_state`` is the source's own running interface, when read."""
    stated_file = conf.params() if conf is not None else {}
    stated_source = source.params() if source is not None else {}
    rows = []
    for name in params.OBFUSCATION_PARAMS:
        row = _row(name, conf, stated_file.get(name), state, stated_source.get(name), source)
        if source_state is not None and source is not None:
            row = _with_source_runtime(row, source_state, source, source_name)
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


def _with_source_runtime(row: Row, source_state: RuntimeState, source: ParamDocument,
                         source_name: str) -> Row:
    """``row`` with what the source itself runs: a source whose interface
    was not recreated after its file changed runs another value than the
    file the node is compared with, and the tunnel sees that value."""
    hub_running = source_state.get(row.param)
    hub = compare(row.param, hub_running, row.source, quirks=Quirks(source_state, source))
    row = replace(row, source_runtime=hub_running, source_runtime_effective=hub.here_effective,
                  source_runtime_known=True, source_stale=hub.differs)
    if not hub.differs:
        return row
    running = shown(hub.here_effective, hub_running)
    stale = f"{source_name} runs {running}: its file was not applied"
    if row.verdict in (SAME, SPELLING, QUIRK, FILE_ONLY):
        # The node has what the source's file says; the source does not.
        note = stale + (f"; {row.note}" if row.verdict == FILE_ONLY else "")
        return replace(row, verdict=SOURCE_NOT_APPLIED, note=note)
    return replace(row, note="; ".join(x for x in (row.note, stale) if x))


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


def shown(value: str | None, stated: ParamValue | None) -> str:
    """A value for a sentence: ``17``, ``0 (absent)``, ``0x12 (unreadable)``."""
    if value is None:
        return f"{stated.raw} (unreadable)" if stated is not None else "unset"
    return value if stated is not None else f"{value} (absent)"
