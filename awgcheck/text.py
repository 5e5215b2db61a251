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
    hex, escapes that value itself).

    A dataclass or tuple none of whose strings needed escaping is returned
    as it is, not copied: a report of 70,000 findings is mostly clean text,
    and copying each one cost more than rendering it."""
    return _Walker(keep).walk(value)  # type: ignore[no-any-return]


class _Walker:
    """One walk, with what each type is (a leaf, a dataclass and its init
    fields, a container) worked out once per type rather than per value."""

    def __init__(self, keep: tuple[type, ...]) -> None:
        self.keep = keep
        self.kinds: dict[type, tuple[str, ...] | str] = {}

    def _kind(self, kind: type) -> tuple[str, ...] | str:
        if self.keep and issubclass(kind, self.keep):
            found: tuple[str, ...] | str = "leaf"
        elif dataclasses.is_dataclass(kind):
            found = tuple(f.name for f in dataclasses.fields(kind) if f.init)
        elif issubclass(kind, tuple) and not hasattr(kind, "_fields"):
            found = "tuple"
        elif issubclass(kind, list):
            found = "list"
        elif issubclass(kind, dict):
            found = "dict"
        else:  # enum members, numbers, bytes, dates, None
            found = "leaf"
        self.kinds[kind] = found
        return found

    def walk(self, value: Any) -> Any:
        if type(value) is str:  # exactly str: a StrEnum member is kept as it is
            return printable(value)
        kind = self.kinds.get(type(value))
        if kind is None:
            kind = self._kind(type(value))
        if kind == "leaf":
            return value
        if kind == "tuple":
            items = tuple(self.walk(v) for v in value)
            same = all(new is old for new, old in zip(items, value, strict=True))
            return value if same else items
        if kind == "list":
            return [self.walk(v) for v in value]
        if kind == "dict":
            return {self.walk(k): self.walk(v) for k, v in value.items()}
        assert isinstance(kind, tuple)
        changes = {}
        for name in kind:
            old = getattr(value, name)
            if old is None:
                continue
            if type(old) is str:  # inlined: most fields are text, and most of it clean
                if old.isprintable() and "\\" not in old:
                    continue
                new = printable(old)
            else:
                new = self.walk(old)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
