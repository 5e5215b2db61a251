"""How human output fits a terminal: the width, and the few ways a text is
made narrower without losing what matters.

Every table (:mod:`awgcheck.report.grid`) and every line of prose in the
table formats goes through here. The rules, in order of preference:

* prose (a finding's message, a symptom, a fix) is wrapped at spaces, with
  a hanging indent, so every word is still there;
* a path is shortened from the left (``.../amneziawg/awg0.conf:13``): the
  file name and the line number are what an operator acts on, the node's
  folder is in the block's title;
* a value is wrapped at any character, never cut: its bytes are the
  evidence (a very long one is shown around where it differs by
  :mod:`awgcheck.excerpt`, before it reaches a table);
* a name (a param, a severity, a rule id) is never cut, and wrapped only
  when longer than half the width (a hostile key name).

Widths count what the terminal shows: colour codes
(:mod:`awgcheck.report.colour`) take no column.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from awgcheck.excerpt import ELLIPSIS

DEFAULT_WIDTH = 100
"""The width when no terminal says otherwise (a pipe, a file, CI logs)."""
MIN_WIDTH = 40
"""Narrower than this, a table's names alone would not fit: the width used
instead of a smaller one."""


_SGR = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Layout:
    """The width a human format is drawn to, and whether it may use colour."""

    width: int = DEFAULT_WIDTH
    colour: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", max(self.width, MIN_WIDTH))


PLAIN = Layout()
"""The layout of text that goes to a file or a pipe."""


def visible(text: str) -> int:
    """Columns ``text`` takes on a terminal: its colour codes take none.
    (Renderers only ever receive escaped text, so the only ESC in it is one
    :mod:`awgcheck.report.colour` wrote.)"""
    return len(_SGR.sub("", text)) if "\x1b" in text else len(text)


def wrap(text: str, width: int, indent: str = "", hanging: str = "") -> list[str]:
    """``text`` as lines of at most ``width`` columns: the first starts with
    ``indent``, the others with ``hanging``. Broken at spaces; a word longer
    than a line (a value, a path) is split, never cut."""
    if not text:
        return [indent.rstrip()]
    room = max(width - max(len(indent), len(hanging)), 8)
    lines = textwrap.wrap(text, room, break_on_hyphens=False, break_long_words=True,
                          drop_whitespace=True)
    return [f"{indent if i == 0 else hanging}{line}" for i, line in enumerate(lines)]


def wrap_all(lines: list[str], width: int, hanging: str = "    ") -> list[str]:
    """Each of ``lines`` wrapped to ``width``, its continuation indented past
    its own indent by ``hanging``."""
    out: list[str] = []
    for line in lines:
        if visible(line) <= width:
            out.append(line)
            continue
        body = line.lstrip(" ")
        indent = line[:len(line) - len(body)]
        out.extend(wrap(body, width, indent, indent + hanging))
    return out


def chunks(text: str, width: int) -> list[str]:
    """``text`` cut into pieces of ``width`` characters: for a value, where
    every character counts and a space is one of them."""
    if len(text) <= width:
        return [text]
    return [text[i:i + width] for i in range(0, len(text), width)]


_LINE = re.compile(r":\d+$")


def shorten_path(path: str, width: int) -> str:
    """``path`` in at most ``width`` columns, shortened from the left at a
    ``/``: ``.../amneziawg/awg0.conf:13``. The file name and a ``:line``
    suffix are never cut; a name longer than ``width`` is kept whole (the
    caller wraps it)."""
    if len(path) <= width:
        return path
    tail = path
    while "/" in tail:
        tail = tail.split("/", 1)[1]
        candidate = f"{ELLIPSIS}/{tail}"
        if len(candidate) <= width:
            return candidate
    return f"{ELLIPSIS}/{tail}" if tail != path else path
