"""The one escaping rule for text that leaves awgcheck (every output format,
every message the CLI prints).

Values come from files and hosts awgcheck does not trust. Their bytes are
decoded with ``surrogateescape`` (:mod:`awgcheck.parse.awgconf`,
:mod:`awgcheck.collect.runtime`), so a byte that is not UTF-8 travels as a
lone surrogate; a control character travels as itself. Printed raw, the
first makes the output unencodable (no report at all) and the second
drives the reader's terminal (ESC, OSC 52 clipboard writes) or breaks a
format (XML 1.0 forbids most C0 controls even as references).

:func:`printable` turns any text into text that is valid UTF-8, holds no
control character and still shows every byte, unambiguously:

- a byte that is not UTF-8: ``\\xff``;
- a C0 control or DEL: ``\\x1b`` (tab and line breaks too: ``\\x09``,
  ``\\x0a``, ``\\x0d``, so a value can never start a line of its own);
- any other character that prints nothing (C1 controls, bidi overrides,
  zero-width and format characters, odd spaces, line separators,
  unassigned code points): ``\\u009b``, ``\\u202e``, ``\\U000e0001``;
- a backslash that would otherwise read as the start of one of these
  (followed by ``x``, ``u``, ``U`` or a backslash): ``\\\\``.

So ``18\\xff`` in a report is the byte 0xff; the four characters
``\\xff`` written in a file show as ``\\\\xff``; ``^\\d+$`` stays as
written. Text is escaped once, where it leaves (:func:`printable_fields`
on what a renderer receives), never where it is read, so nothing is
escaped twice.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

T = TypeVar("T")

# surrogateescape maps byte 0x80..0xff to U+DC80..U+DCFF.
_BYTE_LOW, _BYTE_HIGH = 0xDC80, 0xDCFF
_ESCAPE_STARTS = frozenset("xuU\\")


def _escape_char(ch: str) -> str | None:
    """The escape for one character, or None when it prints as itself."""
    code = ord(ch)
    if _BYTE_LOW <= code <= _BYTE_HIGH:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if ch == " " or ch.isprintable():
        return None
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every byte visible and nothing a terminal or a format
    would act on (see the module docstring for the rule)."""
    if text.isprintable() and "\\" not in text:
        return text  # the common case, unchanged
    out: list[str] = []
    for index, ch in enumerate(text):
        if ch == "\\":
            following = text[index + 1:index + 2]
            ambiguous = following in _ESCAPE_STARTS or (
                following != "" and _escape_char(following) is not None)
            out.append("\\\\" if ambiguous else "\\")
            continue
        escaped = _escape_char(ch)
        out.append(ch if escaped is None else escaped)
    return "".join(out)


# Exactly the escapes printable writes (lower-case hex), leftmost first, so
# an escaped backslash is taken before the letters that follow it.
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _unescape_one(match: re.Match[str]) -> str:
    body = match.group(1)
    if body == "\\":
        return "\\"
    code = int(body[1:], 16)
    if body[0] == "x":
        return chr(_BYTE_LOW - 0x80 + code) if code >= 0x80 else chr(code)
    return chr(code) if code <= 0x10FFFF else match.group(0)


def unprintable(text: str) -> str:
    """The text :func:`printable` was given, from what it returned: its
    inverse, for text read back from a report awgcheck wrote (``merge``,
    ``--baseline``), so that it is escaped again exactly once where it
    leaves. A backslash that starts no escape :func:`printable` writes is
    kept as it is."""
    return _ESCAPE.sub(_unescape_one, text) if "\\" in text else text


def printable_fields(value: T, keep: tuple[type, ...] = ()) -> T:
    """``value`` with :func:`printable` applied to every string in it: the
    fields of (frozen) dataclasses, and the items and keys of tuples, lists
    and dicts, recursively. Enum members and other types are left alone, as
    are instances of ``keep`` (a renderer that needs a value's bytes, for
    hex, escapes that value itself)."""
    return _walk(value, keep)  # type: ignore[no-any-return]


def _walk(value: Any, keep: tuple[type, ...]) -> Any:
    if type(value) is str:  # exactly str: a StrEnum member is kept as it is
        return printable(value)
    if keep and isinstance(value, keep):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _walk(getattr(value, f.name), keep)
                   for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_walk(v, keep) for v in value)
    if isinstance(value, list):
        return [_walk(v, keep) for v in value]
    if isinstance(value, dict):
        return {_walk(k, keep): _walk(v, keep) for k, v in value.items()}
    return value
