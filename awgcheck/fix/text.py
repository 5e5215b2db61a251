"""A conf's bytes as lines that keep their own terminators, so that every
line an edit does not touch comes back byte for byte (CRLF, a missing
final newline, invalid UTF-8 and all)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from awgcheck.parse import awgconf
from awgcheck.parse.awgconf import AwgConf
from awgcheck.secrecy import scrub


@dataclass(frozen=True)
class RawLine:
    """One line as stored: its text and the terminator after it (``\\n``,
    ``\\r\\n`` or nothing, for a last line without a newline)."""

    body: bytes
    end: bytes

    @property
    def data(self) -> bytes:
        return self.body + self.end


def split(data: bytes) -> list[RawLine]:
    """``data`` as lines, numbered as the parser numbers them (line 1 is
    index 0): a line ends at ``\\n``; a ``\\r`` before it belongs to the
    terminator."""
    lines: list[RawLine] = []
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start)
        if cut < 0:
            lines.append(RawLine(data[start:], b""))
            break
        body = data[start:cut]
        if body.endswith(b"\r"):
            lines.append(RawLine(body[:-1], b"\r\n"))
        else:
            lines.append(RawLine(body, b"\n"))
        start = cut + 1
    return lines


def join(lines: Sequence[RawLine]) -> bytes:
    return b"".join(line.data for line in lines)


SECRET = "the line holds a secret, which awgcheck never prints or writes"
CONTROL = ("the line holds a control character, which awgcheck never prints or writes "
           "(it could drive the terminal the diff is shown on)")
NOT_UTF8 = "the line holds bytes that are not UTF-8, which awgcheck never prints or writes"


def hidden(lines: Sequence[RawLine], conf: AwgConf) -> dict[int, str]:
    """The line numbers whose bytes may not be printed, each with why
    (:data:`SECRET`, :data:`CONTROL`, :data:`NOT_UTF8`).

    A key line is shown only if the parser kept it as written: it replaces
    every secret (a PrivateKey's value, a key pasted into a PostUp, a line
    naming a password) by its digest at the door, so a line it stored
    otherwise than read holds one. A comment only if
    :func:`awgcheck.secrecy.scrub` finds nothing to hide in it (the parser
    keeps comments as they are, and a commented-out old ``# PrivateKey =
    ...`` is still a key). Any line only if it is plain text: a control
    character or a byte that is not UTF-8 (in a comment, say) would drive
    the terminal the diff is shown on. Hidden lines are never shown,
    changed or used as diff context."""
    stored: Mapping[int, awgconf.Line] = {line.number: line for line in conf.lines}
    found: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        kept = stored.get(number)
        if kept is None or kept.raw != line.body + line.end.removesuffix(b"\n"):
            found[number] = SECRET
            continue
        try:
            decoded = line.body.decode("utf-8")
        except UnicodeDecodeError:
            found[number] = NOT_UTF8
            continue
        if not all(ch == "\t" or ch.isprintable() for ch in decoded):
            found[number] = CONTROL  # a tab is fine
        elif kept.kind is not awgconf.LineKind.KEY and scrub(decoded) != decoded:
            found[number] = SECRET
    return found


def shown_safely(lines: Sequence[RawLine], hide: Mapping[int, str]) -> frozenset[int]:
    """The line numbers whose bytes may be printed: those not in ``hide``
    (:func:`hidden`)."""
    return frozenset(n for n in range(1, len(lines) + 1) if n not in hide)
