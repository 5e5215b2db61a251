"""The one way awgcheck draws a text table, to a width.

Every table of the table formats goes through :func:`grid`. Each column
says what its cells are (:class:`Kind`), and that decides how it gives up
room when the table is wider than the terminal
(:mod:`awgcheck.report.layout`): names never shrink, prose wraps at
spaces, values wrap at any character, paths are shortened from the left.
Numbers in cells are never parsed, and a cell longer than
:data:`awgcheck.limits.MAX_CELL_CHARS` is cut, saying how much was left
out (a 1 MB value is not a table cell).

The shape is the one ``tabulate``'s "simple" format drew before::

    severity    rule              param
    ----------  ----------------  -------
    CRITICAL    must-match-drift  S4
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from awgcheck import limits
from awgcheck.report import layout
from awgcheck.report.colour import paint_word
from awgcheck.report.layout import PLAIN, Layout

GAP = "  "


class Kind(enum.Enum):
    """What a column holds, and so how it is made narrower."""

    NAME = "name"
    """A param, a severity, a rule id, a line number: never cut, and wrapped
    only when longer than half the width (a hostile key name)."""
    WORDS = "words"
    """Prose: wrapped at spaces (a word longer than the column is split)."""
    VALUE = "value"
    """A value: wrapped at any character, a space being one of them."""
    PATH = "path"
    """``file:line``: shortened from the left, the file name and line kept."""


@dataclass(frozen=True)
class Column:
    """One column: its header, what it holds, whether its words are coloured."""

    header: str
    kind: Kind = Kind.WORDS
    coloured: bool = False
    """The first styled word of each cell (a severity, a verdict) coloured
    (:mod:`awgcheck.report.colour`)."""
    under: bool = False
    """When the table is wider than the terminal, this column's cells go
    under the previous column's (a ``file:line`` under its message) rather
    than taking a column of their own."""


_SLIVER = 4
"""The narrowest any column is made, even on a terminal too narrow for the
table: beyond that a line is drawn too long rather than one character a line."""

_NARROWEST = {Kind.WORDS: 12, Kind.VALUE: 12, Kind.PATH: 16}
"""A flexible column is not made narrower than this (unless its text is
narrower), so a message is never one word a line."""


def clip(text: object, limit: int = limits.MAX_CELL_CHARS) -> str:
    """``text`` as a cell: at most ``limit`` characters plus a note."""
    shown = "" if text is None else str(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... ({len(shown) - limit:,} more characters)"


def grid(rows: Sequence[Sequence[object]], columns: Sequence[Column | str],
         view: Layout = PLAIN, indent: str = "", apart: bool = False) -> str:
    """``rows`` as a table under ``columns`` (a bare header is a column of
    words), as narrow as ``view.width`` allows; each line starts with
    ``indent``. A header too long for its column (a path) is shortened from
    the left, or wrapped. ``apart``: a blank line between rows, for rows of
    several lines each."""
    cols = [c if isinstance(c, Column) else Column(c) for c in columns]
    cells = [[clip(cell) for cell in row] for row in rows]
    room = view.width - len(indent)
    groups = _groups(cells, cols, room)
    widths = _widths(cells, cols, groups, room)
    headers = [_fit(" / ".join(cols[i].header for i in group),
                    Kind.PATH if "/" in cols[group[0]].header else Kind.WORDS, width)
               for group, width in zip(groups, widths, strict=True)]
    out = []
    for n in range(max(len(h) for h in headers)):
        out.append(GAP.join((h[n] if n < len(h) else "").ljust(w)
                            for h, w in zip(headers, widths, strict=True)))
    out.append(GAP.join("-" * w for w in widths))
    for number, row in enumerate(cells):
        if apart and number:
            out.append("")
        parts = [[line for i in group if i == group[0] or row[i]
                  for line in _fit(row[i], cols[i].kind, width)]
                 for group, width in zip(groups, widths, strict=True)]
        for n in range(max(len(p) for p in parts)):
            line = []
            for part, group, width in zip(parts, groups, widths, strict=True):
                padded = (part[n] if n < len(part) else "").ljust(width)
                coloured = n == 0 and cols[group[0]].coloured
                line.append(paint_word(padded, view, any_case=True) if coloured else padded)
            out.append(GAP.join(line))
    return "\n".join((indent + line).rstrip() for line in out)


def _natural(cells: list[list[str]], index: int, col: Column) -> int:
    return max([len(col.header),
                *(len(line) for row in cells for line in row[index].split("\n"))])


def _groups(cells: list[list[str]], cols: list[Column], room: int) -> list[list[int]]:
    """The columns drawn side by side: each alone when the table fits,
    else an ``under`` column with the one before it."""
    fits = sum(_natural(cells, i, c) for i, c in enumerate(cols)) \
        + len(GAP) * (len(cols) - 1) <= room
    groups: list[list[int]] = []
    for i, col in enumerate(cols):
        if col.under and groups and not fits:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _least(cells: list[list[str]], index: int, col: Column) -> int:
    """The narrowest a column may be made: a path's file name and ``:line``
    whole (``.../awg0.conf:13``), other flexible columns
    :data:`_NARROWEST`; never more than the column's natural width."""
    least = _NARROWEST.get(col.kind, 0)
    if col.kind is Kind.PATH:
        least = max([least, *(len(layout.shorten_path(line, 0)) for row in cells
                              for line in row[index].split("\n") if line)])
    return min(least, _natural(cells, index, col))


def _widths(cells: list[list[str]], cols: list[Column], groups: list[list[int]],
            room: int) -> list[int]:
    """Each group's width: its natural width when the table fits; else the
    other columns get at least their narrowest (:func:`_least`) and the
    names the rest, up to half the width each (a longer name wraps), and
    what is left is shared among the other columns, the narrowest needs
    first. When even that is too wide (a very narrow terminal), the other
    columns give up their least before a line is drawn too long."""
    # A group's header ("param / rule") is not broken when its cells are narrower.
    natural = [max(len(" / ".join(cols[i].header for i in g)),
                   *(_natural(cells, i, cols[i]) for i in g)) for g in groups]
    room -= len(GAP) * (len(groups) - 1)
    if sum(natural) <= room:
        return natural
    widths = list(natural)
    fixed = [n for n, g in enumerate(groups) if cols[g[0]].kind is Kind.NAME]
    flexible = [n for n in range(len(groups)) if n not in fixed]
    least = {n: max(_least(cells, i, cols[i]) for i in groups[n]) for n in flexible}
    half = max(room // 2, _NARROWEST[Kind.VALUE])
    for n in fixed:
        widths[n] = min(natural[n], half)
    # A column of names wider than its names that fit in half the width
    # (it holds a longer one, which wraps anyway) gives way, so a path
    # keeps its file name and line whole.
    over = sum(widths[n] for n in fixed) + sum(least.values()) - room
    for n in sorted(fixed, key=lambda n: -widths[n]):
        if over <= 0:
            break
        whole = max([_NARROWEST[Kind.VALUE], *(
            len(line) for i in groups[n] for row in cells for line in row[i].split("\n")
            if len(line) <= half)])
        give = min(over, max(0, widths[n] - whole))
        widths[n] -= give
        over -= give
    room -= sum(widths[n] for n in fixed)
    if sum(least.values()) > room:  # too narrow for that: best effort
        least = {n: min(natural[n], _NARROWEST[cols[groups[n][0]].kind]) for n in flexible}
    order = sorted(flexible, key=lambda n: natural[n])
    for k, n in enumerate(order):
        later = sum(least[m] for m in order[k + 1:])
        share = room // (len(order) - k)
        widths[n] = max(1, min(natural[n], max(share, least[n]), max(least[n], room - later)))
        room -= widths[n]
    # Still too wide (a very narrow terminal): the widest columns give up
    # the rest, names too (they wrap), down to a sliver each.
    over = -room
    while over > 0:
        n = max(range(len(widths)), key=lambda n: widths[n])
        give = min(over, widths[n] - _SLIVER)
        if give <= 0:
            break
        widths[n] -= give
        over -= give
    return widths


_HEXED = re.compile(r"(.+) (\([0-9a-f]{2}(?: [0-9a-f]{2})*\))")
"""A value followed by its bytes in hex, as :func:`awgcheck.diff.shown` writes it."""
_ELIDED_AFTER = re.compile(r"(.*?)(\.\.\.\(\d[\d,]* chars? after\))")
"""A value shortened at its end by :func:`awgcheck.excerpt.elided`."""


def _fit(text: str, kind: Kind, width: int) -> list[str]:
    """A cell as the lines it takes in a column ``width`` wide."""
    lines: list[str] = []
    for part in text.split("\n"):
        if len(part) <= width:
            lines.append(part)
        elif kind is Kind.WORDS:
            lines.extend(layout.wrap(part, width))
        elif kind is Kind.PATH:
            lines.extend(layout.chunks(layout.shorten_path(part, width), width))
        elif hexed := _HEXED.fullmatch(part):
            # The value is cut anywhere (its characters all count); its
            # bytes in hex only between bytes, so no byte is split in two.
            lines.extend(_value_lines(hexed.group(1), width))
            lines.extend(layout.wrap(hexed.group(2), width))
        else:
            lines.extend(_value_lines(part, width))
    return lines


def _cut(text: str, width: int) -> int:
    """Where a value longer than ``width`` is cut: before the arrow of a
    change (``... 1766607868`` / ``-> 153455700-602611811``), else after a
    ``-`` in the second half of the line (``1020325451-`` / ``1020325461``:
    an H range stays two numbers), else anywhere but inside an arrow."""
    half = width // 2
    arrow = text.rfind(" ->", 1, width + 2)
    if arrow != -1:
        return arrow + 1  # the space stays at the end of the line
    end = width
    while (dash := text.rfind("-", half, end)) != -1:
        if text[dash + 1:dash + 2] != ">":
            return dash + 1
        end = dash
    return max(1, width - 1) if text[width - 1:width + 1] == "->" else width


def _value_lines(text: str, width: int) -> list[str]:
    """A value cut into lines where :func:`_cut` says; an elision note
    (``...(69 chars after)``) is prose and wraps at its spaces."""
    head, note = text, ""
    if (elided := _ELIDED_AFTER.fullmatch(text)) and len(elided.group(1)) > 0:
        head, note = elided.group(1), elided.group(2)
    lines: list[str] = []
    while len(head) > width:
        size = _cut(head, width)
        lines.append(head[:size])
        head = head[size:]
    if note and len(head) + len(note) > width:
        lines.append(head)
        lines.extend(layout.wrap(note, width))
    else:
        lines.append(head + note)
    return lines
