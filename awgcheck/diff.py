"""Side-by-side comparison of two param documents, with the bytes in hex.

``S4 | 18 (31 38) | 17 (31 37) | DRIFT``: the hex makes invisible
differences (a trailing blank, a non-breaking space, a Cyrillic letter)
visible at a glance. Text is escaped as everywhere
(:func:`awgcheck.text.printable`): :data:`FORMATS` escapes the view, and
each :class:`ParamValue` is escaped here, after taking its bytes for the hex.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from awgcheck import compare as comparing
from awgcheck import excerpt, params
from awgcheck.compare import Relation
from awgcheck.model import ParamDocument, ParamValue
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import PLAIN, Layout, wrap
from awgcheck.report.registry import Formats, ForPeople
from awgcheck.text import printable

SAME, DRIFT, SPELLING, ABSENT = "same", "DRIFT", "SPELLING", "ABSENT"
# A side states a value awg setconf (or awg-quick) refuses: that file does not
# load at all, which matters more than what the other side says.
REJECTED = "REJECTED"
QUIRK = "QUIRK"  # a runtime stores another value than the file, by design
PER_NODE = "differs (per node)"


@dataclass(frozen=True)
class DiffRow:
    param: str
    left: ParamValue | None
    right: ParamValue | None
    verdict: str
    note: str = ""


def hex_of(value: ParamValue | None) -> str:
    """The value's bytes in hex (``31 38``); empty for a secret's digest."""
    return _hex(value)


def _hex(value: ParamValue | None, part: slice = slice(None)) -> str:
    """The hex of ``value``'s characters ``part`` (all of them by default)."""
    if value is None:
        return ""
    if value.raw.startswith("sha256:") and params.is_secret(value.key):
        return ""  # a digest's bytes say nothing
    return " ".join(f"{b:02x}" for b in value.raw[part].encode("utf-8", "surrogateescape"))


LONG = 48
"""A value longer than this (an I1 tag string of 2,000 characters) is shown
in part: where it differs from the other side's, with its hex, and how
much was left out before and after."""


def shown(value: ParamValue, other: ParamValue | None, with_hex: bool) -> str:
    """``value`` as a cell: escaped, with its bytes in hex when ``with_hex``;
    a long one only around where it differs from ``other`` (its start when
    nothing differs), so the bytes that differ are always on screen."""
    raw = value.raw
    if len(raw) <= LONG:
        first, last = 0, len(raw)
    elif with_hex:
        first, last = excerpt.window(raw, other.raw if other is not None else "", LONG)
    else:
        first, last = 0, LONG
    text = excerpt.elided(raw, first, last, printable(raw[first:last]))
    hexed = _hex(value, slice(first, last)) if with_hex else ""
    return f"{text} ({hexed})" if hexed else text


def _order(name: str) -> tuple[int, str]:
    names = [s.name for s in params.INTERFACE_SETCONF_KEYS + params.AWG_QUICK_KEYS]
    return (names.index(name), name) if name in names else (len(names), name)


def compare(left: ParamDocument, right: ParamDocument) -> list[DiffRow]:
    """One row per param stated on either side, in the tool's key order."""
    mine, theirs = left.params(), right.params()
    quirks = comparing.quirks_between(left, right)
    return [_row(comparing.compare(name, mine.get(name), theirs.get(name), quirks=quirks))
            for name in sorted(set(mine) | set(theirs), key=_order)]


def _row(found: comparing.Comparison) -> DiffRow:
    """The core's answer in this table's words."""
    name, a, b = found.name, found.here, found.there
    spec = params.spec(name)
    rejected = _rejected_note(a, b)
    if rejected:
        return DiffRow(name, a, b, REJECTED, rejected)
    if spec is None or not spec.obfuscation:
        # Keys, addresses, peers: expected to differ between two nodes.
        return DiffRow(name, a, b, SAME if found.same_text else PER_NODE)
    relation = found.relation
    if found.same_text or relation is Relation.SAME:
        return DiffRow(name, a, b, SAME)
    if relation is Relation.QUIRK:
        # A runtime side that differs from a conf side only by a known quirk
        # (Jmax + 1, H <= 4 replaced by the default) is not drift.
        return DiffRow(name, a, b, QUIRK, found.quirk or "")
    if a is not None and b is not None:
        if relation is Relation.SPELLING:
            return DiffRow(name, a, b, SPELLING, "same effective value")
        return DiffRow(name, a, b, DRIFT)
    note = _absent_note(a, found.default)
    if relation is Relation.ABSENT:
        return DiffRow(name, a, b, ABSENT, note)
    return DiffRow(name, a, b, f"{DRIFT} (absent)", note)


def _rejected_note(a: ParamValue | None, b: ParamValue | None) -> str:
    """Which side(s) state a value the tool refuses, and why; "" for none."""
    notes = [f"the {side} value is rejected by awg setconf ({v.error}): that file does "
             "not load"
             for side, v in (("left", a), ("right", b))
             if v is not None and v.effective is None and v.error is not None]
    return "; ".join(notes)


def _absent_note(a: ParamValue | None, default: str | None) -> str:
    side = "left" if a is None else "right"
    implied = f"means {default}" if default is not None else "unset"
    return f"absent on the {side} ({implied})"


def _cell(value: ParamValue | None, other: ParamValue | None, with_hex: bool) -> str:
    if value is None:
        return "(absent)"
    text = shown(value, other, with_hex)
    if value.effective is None and value.error is not None:
        # Never an empty cell: say that the tool refuses what is written.
        return f"{text or '(empty)'} [rejected]"
    return text


def render_table(rows: list[DiffRow], left_name: str, right_name: str,
                 only_differences: bool = False, view: Layout = PLAIN) -> str:
    table = []
    for r in rows:
        if only_differences and r.verdict == SAME:
            continue
        # Bytes in hex only where obfuscation values differ: that is where an
        # invisible character hides.
        with_hex = r.verdict not in (SAME, PER_NODE)
        table.append([r.param, _cell(r.left, r.right, with_hex),
                      _cell(r.right, r.left, with_hex),
                      r.verdict + (f": {r.note}" if r.note else "")])
    drift = sum(1 for r in rows if r.verdict.startswith("DRIFT"))
    rejected = sum(1 for r in rows if r.verdict == REJECTED)
    # The sides are named above the table: two paths as headers would take
    # the columns' room, or be shortened to the same file name.
    sides = [*wrap(left_name, view.width, "left:  ", "       "),
             *wrap(right_name, view.width, "right: ", "       ")]
    text = grid(table, [Column("param", Kind.NAME), Column("left", Kind.VALUE),
                        Column("right", Kind.VALUE), Column("verdict", coloured=True)],
                view)
    text = "\n".join(sides) + "\n\n" + text
    tail = f", {rejected} rejected (that file does not load)" if rejected else ""
    drifting = "param drifts" if drift == 1 else "params drift"
    spelled = sum(1 for r in rows if r.verdict == SPELLING)
    summary = f"{drift} {drifting}, {spelled} spelled differently{tail}"
    return f"{text}\n\n" + "\n".join(wrap(summary, view.width, hanging="    ")) + "\n"


def as_dict(rows: list[DiffRow]) -> list[dict[str, object]]:
    return [
        {"param": r.param, "left": printable(r.left.raw) if r.left else None,
         "right": printable(r.right.raw) if r.right else None, "verdict": r.verdict,
         "note": r.note}
        for r in rows
    ]


@dataclass(frozen=True)
class DiffView:
    """What ``awgcheck diff`` shows: the rows, and the names of both sides."""

    left: str
    right: str
    rows: tuple[DiffRow, ...]
    only_differences: bool = False

    @property
    def drifts(self) -> bool:
        """Some param has different effective values, or a side does not
        load (exit code 1)."""
        return any(r.verdict.startswith(DRIFT) or r.verdict == REJECTED for r in self.rows)


def _render_table(diff: DiffView, view: Layout) -> str:
    return render_table(list(diff.rows), diff.left, diff.right, diff.only_differences, view)


def _render_json(view: DiffView) -> str:
    # --only-differences shapes the table only: the JSON always lists every param.
    return json.dumps({"left": view.left, "right": view.right,
                       "params": as_dict(list(view.rows))}, indent=2) + "\n"


FORMATS: Formats[DiffView] = Formats({"table": ForPeople(_render_table), "json": _render_json},
                                     keep=(ParamValue,))
