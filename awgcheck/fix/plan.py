"""What ``awgcheck fix`` changes in one conf, line by line.

Pure: (the conf's bytes, its parse, the source of truth, the params to
bring to it) -> a :class:`Plan`. Four kinds of edit, each on whole lines:

- a drifted param is set to the source's effective value on the line the
  tools read (the last one), or added after the last ``[Interface]`` key,
  or removed when the source does not state it;
- earlier duplicates of a single-valued key are removed: the last line is
  the one ``awg setconf`` applies, so it is the one kept;
- a line not written canonically (``s4=18``, ``H3 = 1 `` with a trailing
  blank, ``S4 = 018``) is rewritten ``Key = value``, its comment kept;
- nothing else: every other line, blank and byte stays.

A line holding a secret is never edited (it would have to be printed):
what it needs is listed as :class:`Manual` work instead, named by key and
line only.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from awgcheck import params
from awgcheck.compare import compare
from awgcheck.fix import text
from awgcheck.model import ParamDocument, ParamValue
from awgcheck.parse.awgconf import AwgConf, Entry

_RESPELLED_KINDS = (params.Kind.U16, params.Kind.U32_RANGE, params.Kind.U16_RANGE,
                    params.Kind.BOOL)
"""Kinds whose value is rewritten in the tool's own rendering when written
otherwise (``018``, ``1 0``, ``+18``: the number-format and inner-whitespace
rules' findings). Other values keep their text: only their spacing is fixed."""



class Action(enum.StrEnum):
    SET = "set"  # the value changes to the source's
    ADD = "add"  # a line the source states and the node lacks
    REMOVE = "remove"  # a param the source does not state
    DROP_DUPLICATE = "drop-duplicate"  # an earlier line the tool overrides
    RESPELL = "respell"  # same value, canonical spelling


@dataclass(frozen=True)
class Edit:
    """One line edit. ``line`` is the line changed or removed, or for ADD
    the line the new one follows. ``old``/``new`` are whole lines without
    their terminator; never a secret."""

    action: Action
    param: str
    line: int
    old: str | None
    new: str | None
    why: str


@dataclass(frozen=True)
class Manual:
    """What fix will not do and a person must: named by key and line only."""

    param: str
    line: int | None
    why: str


@dataclass(frozen=True)
class Plan:
    edits: tuple[Edit, ...]
    manual: tuple[Manual, ...]
    before: tuple[text.RawLine, ...]
    after: tuple[text.RawLine, ...]
    ops: tuple[Op, ...] = field(repr=False)
    safe: frozenset[int] = field(repr=False)

    @property
    def data(self) -> bytes:
        """The conf with every edit made."""
        return text.join(self.after)

    @property
    def changes(self) -> bool:
        return bool(self.edits)

    @property
    def changes_values(self) -> bool:
        """Does the tool apply other values after it (not only other text)?"""
        return any(e.action in (Action.SET, Action.ADD, Action.REMOVE) for e in self.edits)


@dataclass(frozen=True)
class Op:
    """One step from the old lines to the new: an old line kept (``old``
    and ``new`` both set, the same), removed (``new`` None), replaced (both,
    different) or a new line inserted (``old`` None). ``number`` is the old
    line's number, or for an insertion the old line it follows."""

    number: int
    old: text.RawLine | None
    new: text.RawLine | None

    @property
    def kept(self) -> bool:
        return self.old is not None and self.old == self.new


def targets(profile: str) -> tuple[str, ...]:
    """The params brought to the source's value under ``profile``: the
    must-match set always; the side-local set too under ``strict``, where
    fleet policy wants them equal (``protocol`` lets them differ)."""
    if profile == "strict":
        return params.MUST_MATCH_PARAMS + params.SIDE_LOCAL_PARAMS
    return params.MUST_MATCH_PARAMS


def plan(data: bytes, conf: AwgConf, source: ParamDocument,
         names: Sequence[str]) -> Plan:
    """The edits that bring ``conf`` (parsed from ``data``) to ``source``
    for ``names``, its duplicates removed and its spelling made canonical."""
    builder = _Builder(data, conf)
    builder.drift(source.params(), names)
    builder.duplicates()
    builder.spelling()
    return builder.build()


class _Builder:
    def __init__(self, data: bytes, conf: AwgConf) -> None:
        self.conf = conf
        self.lines = text.split(data)
        self.hidden = text.hidden(self.lines, conf)
        self.safe = text.shown_safely(self.lines, self.hidden)
        self.eol = b"\r\n" if conf.facts.crlf else b"\n"
        self.edits: list[Edit] = []
        self.manual: list[Manual] = []
        self.replaced: dict[int, str | None] = {}  # None: removed
        self.added: dict[int, list[str]] = {}

    # -- the three passes --------------------------------------------------

    def drift(self, source: Mapping[str, ParamValue], names: Iterable[str]) -> None:
        here = self.conf.params()
        for name in names:
            there = source.get(name)
            if not compare(name, here.get(name), there).differs:
                continue
            spec = params.spec(name)
            assert spec is not None  # names come from the catalog
            lines = self._interface(name)
            if spec.secret:
                self._manual(name, lines[-1].line if lines else None, _by_hand(there))
            elif there is None:
                for entry in lines:
                    self._remove(entry, Action.REMOVE, "the source does not set it")
            elif not _writable(there.effective):
                self._manual(name, None, "the source's value cannot be written on a conf "
                             "line as it is")
            else:
                wanted = f"{name} = {there.effective}"
                why = f"the source has {there.effective}"
                if lines:
                    *earlier, last = lines
                    self._replace(last, Action.SET, wanted, why)
                    for entry in earlier:
                        self._remove(entry, Action.DROP_DUPLICATE,
                                     f"line {last.line} sets {name} too, and the last one wins")
                else:
                    self._add(name, wanted, why)

    def duplicates(self) -> None:
        """As the duplicate-keys rule groups them: the whole [Interface]
        (a second one applies on top of the first) and each [Peer]."""
        groups: dict[tuple[int | str | None, str], list[Entry]] = {}
        for entry in self.conf.entries:
            if entry.name is None or params.accumulates(entry.name):
                continue
            place: int | str | None = entry.section
            if entry.section is not None and \
                    self.conf.sections[entry.section].name == "Interface":
                place = "Interface"
            groups.setdefault((place, entry.name), []).append(entry)
        for entries in groups.values():
            *earlier, last = entries
            for entry in earlier:
                if entry.line not in self.replaced:
                    self._remove(entry, Action.DROP_DUPLICATE,
                                 f"line {last.line} sets {entry.name} too, and the last one wins")

    def spelling(self) -> None:
        for entry in self.conf.entries:
            if entry.name is None or entry.line in self.replaced or entry.error is not None:
                continue
            value = entry.raw
            spec = params.spec(entry.name)
            if spec is not None and spec.kind in _RESPELLED_KINDS and entry.effective:
                value = entry.effective
            canonical = f"{entry.name} = {value}"
            if _body(entry.text.rstrip("\r")) != canonical:
                self._replace(entry, Action.RESPELL, canonical, "not written canonically")

    # -- edits -------------------------------------------------------------

    def _interface(self, name: str) -> list[Entry]:
        return [e for e in self.conf.entries if e.name == name and e.section is not None
                and self.conf.sections[e.section].name == "Interface"]

    def _manual(self, name: str, line: int | None, why: str) -> None:
        self.manual.append(Manual(name, line, why))

    def _editable(self, entry: Entry, why: str) -> bool:
        if entry.line in self.safe:
            return True
        self._manual(entry.name or entry.key, entry.line,
                     f"{why}; {self.hidden[entry.line]}: change it by hand")
        return False

    def _old(self, number: int) -> str:
        return self.lines[number - 1].body.decode("utf-8", "surrogateescape")

    def _replace(self, entry: Entry, action: Action, canonical: str, why: str) -> None:
        if not self._editable(entry, why):
            return
        old = self._old(entry.line)
        before, hash_mark, comment = old.partition("#")
        new = canonical
        if hash_mark:
            new += before[len(before.rstrip(" \t")):] + hash_mark + comment
        if new == old:
            return
        self.replaced[entry.line] = new
        self.edits.append(Edit(action, entry.name or entry.key, entry.line, old, new, why))

    def _remove(self, entry: Entry, action: Action, why: str) -> None:
        if not self._editable(entry, why):
            return
        self.replaced[entry.line] = None
        self.edits.append(Edit(action, entry.name or entry.key, entry.line,
                               self._old(entry.line), None, why))

    def _add(self, name: str, new: str, why: str) -> None:
        after = self._insertion_point()
        if after is None:
            self._manual(name, None, f"{why}, but the conf has no [Interface] section "
                         "to add it to")
            return
        self.added.setdefault(after, []).append(new)
        self.edits.append(Edit(Action.ADD, name, after, None, new, why))

    def _insertion_point(self) -> int | None:
        """After the last key line of ``[Interface]`` that can be shown and
        ends with a newline (the diff shows the line a new one follows
        only as context), else right after the ``[Interface]`` header."""
        interface = [s for s in self.conf.sections if s.name == "Interface"]
        if not interface:
            return None
        for section in reversed(interface):
            for entry in reversed(section.entries):
                if entry.line in self.safe and self.lines[entry.line - 1].end:
                    return entry.line
        return interface[0].line

    # -- the result --------------------------------------------------------

    def build(self) -> Plan:
        ops: list[Op] = []
        for number, line in enumerate(self.lines, start=1):
            added = self.added.get(number, ())
            # Only the last line lacks a newline; lines added after it get
            # one before them, and the last of them goes without.
            end = line.end or (self.eol if added else b"")
            if number not in self.replaced:
                ops.append(Op(number, line, text.RawLine(line.body, end)))
            elif (change := self.replaced[number]) is None:
                ops.append(Op(number, line, None))
            else:
                ops.append(Op(number, line, text.RawLine(_encode(change), end)))
            for index, new in enumerate(added, start=1):
                last = index == len(added) and not line.end
                ops.append(Op(number, None, text.RawLine(_encode(new), b"" if last else end)))
        ops = self._final_newline(ops)
        after = tuple(op.new for op in ops if op.new is not None)
        edits = sorted(self.edits, key=lambda e: (e.line, e.action is Action.ADD))
        return Plan(tuple(edits), tuple(self.manual), tuple(self.lines), after,
                    tuple(ops), self.safe)

    def _final_newline(self, ops: list[Op]) -> list[Op]:
        """A file without a final newline keeps lacking one when its last
        line is removed: the line now last loses its newline, unless it
        holds a secret (then the file gains one rather than print it)."""
        if not self.lines or self.lines[-1].end:
            return ops
        remaining = [i for i, op in enumerate(ops) if op.new is not None]
        if not remaining:
            return ops
        index = remaining[-1]
        op = ops[index]
        assert op.new is not None
        if not op.new.end or (op.kept and op.number not in self.safe):
            return ops
        ops[index] = Op(op.number, op.old, text.RawLine(op.new.body, b""))
        return ops


def _by_hand(there: ParamValue | None) -> str:
    """What to do about a secret that differs from the source's."""
    if there is None or not _states_a_value(there):
        return ("the source does not set it; awgcheck never prints or writes a secret: "
                "delete the line by hand")
    return ("differs from the source; awgcheck never writes a secret: copy it from the "
            "source by hand")


def _states_a_value(value: ParamValue) -> bool:
    """Whether a stated value needs a line (the all-zero key means unset)."""
    spec = params.spec(value.key)
    return spec is None or not (spec.zero_is_unset and spec.reads_as_absent(value.effective))


def _body(line: str) -> str:
    """A line as the canonical-spelling rule judges it: without its comment
    and the blanks before one (a value never holds a '#'). The parsed text
    is judged, where a secret's value is its digest on both sides."""
    body, hash_mark, _ = line.partition("#")
    return body.rstrip(" \t") if hash_mark else body


def _encode(line: str) -> bytes:
    return line.encode("utf-8", "surrogateescape")


def _writable(value: str | None) -> bool:
    """Can ``value`` be written on one conf line as is? Not with a '#' (cut
    off as a comment) or any character that is not plain printable text
    (a line break would forge a new line)."""
    return value is not None and "#" not in value and \
        all(ch == "\t" or ch.isprintable() for ch in value)
