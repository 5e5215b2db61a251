"""A long value shown in part: around where it differs from another.

Two I1 tag strings of 2,000 characters that differ in one byte are
unreadable in full and useless cut at the end: the byte that differs may
be the 1,003rd. An excerpt keeps the part where the values differ, with a
little context, and says how many characters it left out on each side:
``(999 chars before)...abab<d>cccc...(994 chars after)``. Every text shown (a finding's
message, a ``diff`` or ``triage`` cell) uses it, so the differing bytes
are always on screen and the rest is accounted for.
"""

from __future__ import annotations

ELLIPSIS = "..."
"""Marks what was left out (here, and where a path is shortened): ASCII,
one column per character everywhere."""
LIMIT = 64
"""A value longer than this is shown as an excerpt in a finding's message."""
_CONTEXT = 4


def window(text: str, other: str, width: int) -> tuple[int, int]:
    """Where ``text`` differs from ``other``, as ``text[first:last]`` with a
    little context, at most ``width`` characters; all of ``text`` when it
    is no longer than ``width``."""
    if len(text) <= width:
        return 0, len(text)
    start = _common_prefix(text, other)
    end = _common_prefix(text[start:][::-1], other[start:][::-1])
    first = max(min(start, len(text)) - _CONTEXT, 0)
    last = len(text) - max(end - _CONTEXT, 0)
    if last - first < width:  # room to spare: more context on both sides
        spare = width - (last - first)
        first = max(first - spare // 2, 0)
        last = min(first + width, len(text))
    return first, min(last, first + width)  # a long difference: its start


def around(text: str, other: str, width: int = LIMIT) -> str:
    """``text`` in about ``width`` characters, keeping the part where it
    differs from ``other`` (two long I1 values that differ in one byte):
    what is left out at the start and at the end is said, with its length."""
    first, last = window(text, other, width)
    return elided(text, first, last, text[first:last])


def _chars(number: int) -> str:
    return "char" if number == 1 else "chars"


def elided(text: str, first: int, last: int, shown: str) -> str:
    """``shown`` (``text[first:last]`` as it is to be shown), saying how many
    characters of ``text`` were left out before and after it."""
    after = len(text) - last
    head = f"({first:,} {_chars(first)} before){ELLIPSIS}" if first else ""
    tail = f"{ELLIPSIS}({after:,} {_chars(after)} after)" if after > 0 else ""
    return f"{head}{shown}{tail}"


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count
