"""Seeded mutations of real input files.

Every input is a set of files (a compose project has several); one of them
is mutated one to four times. The generator is a ``random.Random`` seeded
from the run's seed, the reader and the input's index, so any input is
reproduced from those three numbers alone (``python -m tests.fuzz --reader
R --seed S --only INDEX --keep DIR`` writes it out).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_INPUT_BYTES = 1024 * 1024
"""Never generate a file larger than the collectors' cap
(``awgcheck.collect.base.MAX_FILE_BYTES``): bigger files are refused
before any reader sees them."""

HOSTILE: tuple[bytes, ...] = (
    b"\x00", b"\x00\x00\x00\x00", b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80",
    b"\x1b[31m", b"\x1b[2J\x1b[H", b"\x1b]8;;https://evil.example/\x07", b"\x07", b"\x08",
    b"\x7f", "\u0085".encode(), "\u2028".encode(), "\u202e".encode(), "\ufeff".encode(),
    b"\r", b"\r\n", b"\n\n", b"\t", b" ", b"#", b";", b"=", b": ", b"- ", b"'", b'"', b"\\",
    b"`", b"|", b"$", b"$$", b"${", b"}", b"${A}", b"${A:-x}", b"${A:?boom}", b"${A:+${B}}",
    b"${A:-${B:-${C:-${D}}}}", b"$(id)", b"%s%n", b"{{ s4 }}", b"&a", b"*a", b"&a [1, 2]",
    b"<<: *a", b"!!binary AAAA", b"!!python/object/apply:os.system ['id']", b"!!str",
    b"%YAML 1.1\n", b"---\n", b"...\n", b"? ", b"[", b"]", b"{", b"}",
    b"0", b"-1", b"+1", b"018", b"0x1f", b"0o17", b"1e5", b"1e309", b"nan", b".inf", b"1_000",
    b"4294967295", b"4294967296", b"18446744073709551616", b"9" * 40,
    "\u0663\u0661".encode(), "\uff11\uff18".encode(), "\u00b2".encode(), "\u2167".encode(),
    b"yes", b"no", b"~", b"null", b"2001-12-14", b"1:20",
    b"[Interface]", b"[Peer]", b"[Interface]\n", b"\n[Peer]\n", b"S4 = ", b"H1 = 1-2",
    b"HeaderProtectionKey = ", b"PrivateKey = ", b"I1 = <b 0x", b"<r 16>", b"<t>",
    b"]]>", b"</failure>", b"<!--", b"&amp;", b"<x>", b"::error::", b"%0A", b"|---|",
    b"../../../etc/passwd", b"/etc/shadow", b"/proc/self/environ", b"~root",
    b"include:\n  - ../x.yaml\n", b"extends: {file: ../y.yaml, service: a}",
    b"env_file: ../../etc/passwd", b"(none)", b"off",
)
"""Tokens inserted or substituted: control bytes, invalid UTF-8, terminal
escapes, interpolation and YAML syntax, numbers at the edges of every
width, Unicode digits, the markup of each report format, paths that leave
a tree. Tokens that are bombs by design (deep nesting, alias fans) come
from :func:`_bomb` and are bounded."""


@dataclass(frozen=True)
class Mutated:
    """One generated input: the files, which one was changed, and how."""

    files: dict[str, bytes]
    target: str
    ops: tuple[str, ...]
    seed: dict[str, bytes] | None = None  # the files before mutation (None: unchanged)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _pos(rnd: random.Random, data: bytes) -> int:
    return rnd.randint(0, len(data))


def _line_start(rnd: random.Random, data: bytes) -> int:
    starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
    return rnd.choice(starts)


def _value_span(rnd: random.Random, data: bytes) -> tuple[int, int] | None:
    """A value: the text after ``=`` or ``: `` up to the end of its line."""
    spans = [(m.start(1), m.end(1)) for m in re.finditer(rb"(?:=|: )[ \t]*([^\n]*)", data)]
    return rnd.choice(spans) if spans else None


def flip(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    if not data:
        return bytes([rnd.randrange(256)])
    out = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        at = rnd.randrange(len(out))
        out[at] ^= 1 << rnd.randrange(8)
    return bytes(out)


def insert(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    at = _line_start(rnd, data) if rnd.random() < 0.3 else _pos(rnd, data)
    return data[:at] + rnd.choice(HOSTILE) + data[at:]


def replace_value(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    span = _value_span(rnd, data)
    if span is None:
        return insert(rnd, data, pool)
    start, end = span
    token = b"".join(rnd.choice(HOSTILE) for _ in range(rnd.randint(1, 3)))
    return data[:start] + token + data[end:]


def delete(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    if not data:
        return data
    at = _pos(rnd, data)
    return data[:at] + data[at + rnd.randint(1, 64):]


def truncate(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    return data[:_pos(rnd, data)]


def duplicate_line(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    lines = _lines(data)
    at = rnd.randrange(len(lines))
    lines.insert(rnd.randrange(len(lines) + 1), lines[at])
    return b"\n".join(lines)


def swap_lines(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    lines = _lines(data)
    a, b = rnd.randrange(len(lines)), rnd.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return b"\n".join(lines)


def splice(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    """Lines of another seed of the same reader, at a line boundary."""
    other = _lines(rnd.choice(pool)) if pool else [b""]
    start = rnd.randrange(len(other))
    chunk = b"\n".join(other[start:start + rnd.randint(1, 6)])
    at = _line_start(rnd, data)
    return data[:at] + chunk + b"\n" + data[at:]


def repeat_line(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    lines = _lines(data)
    line = rnd.choice(lines)
    count = rnd.choice((2, 10, 100, 1000, 5000))
    at = rnd.randrange(len(lines) + 1)
    return b"\n".join([*lines[:at], *([line] * count), *lines[at:]])


def long_line(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    token = rnd.choice((b"A", b"9", b" ", b"\t", b"=", b"$", b"#", b"\\", b"0"))
    span = _value_span(rnd, data)
    at = span[0] if span is not None else _pos(rnd, data)
    return data[:at] + token * rnd.choice((100, 1000, 10_000, 100_000, 500_000)) + data[at:]


def _bomb(rnd: random.Random) -> bytes:
    """Nesting and expansion, bounded (the bombs item owns the unbounded
    kind): at most 60 levels, at most 6 ** 4 expanded aliases."""
    depth = rnd.randint(5, 60)
    kind = rnd.randrange(4)
    if kind == 0:
        return b"[" * depth + b"1" + b"]" * depth
    if kind == 1:
        return b"{a: " * depth + b"1" + b"}" * depth
    if kind == 2:
        nest = b"${A:-" * depth + b"x" + b"}" * depth
        return nest
    fan = [b"a0: &a0 [x, x, x, x, x, x]"]
    fan += [b"a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d]" % ((i, i) + (i - 1,) * 6)
            for i in range(1, 4)]
    return b"\n".join(fan) + b"\n"


def bomb(rnd: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    at = _line_start(rnd, data) if rnd.random() < 0.5 else _pos(rnd, data)
    return data[:at] + _bomb(rnd) + data[at:]


Mutator = Callable[[random.Random, bytes, Sequence[bytes]], bytes]

MUTATORS: dict[str, tuple[Mutator, int]] = {
    # name -> (function, weight)
    "flip": (flip, 4),
    "insert": (insert, 8),
    "replace-value": (replace_value, 6),
    "delete": (delete, 2),
    "truncate": (truncate, 1),
    "duplicate-line": (duplicate_line, 3),
    "swap-lines": (swap_lines, 2),
    "splice": (splice, 3),
    "repeat-line": (repeat_line, 1),
    "long-line": (long_line, 1),
    "bomb": (bomb, 1),
}


def mutate(rnd: random.Random, files: dict[str, bytes], target: str,
           pool: Sequence[bytes]) -> Mutated:
    """``files`` with ``target`` mutated 1-4 times (``pool``: the reader's
    other seed texts, for splicing)."""
    names = list(MUTATORS)
    weights = [MUTATORS[n][1] for n in names]
    data = files[target]
    ops = []
    for _ in range(rnd.choice((1, 1, 2, 3, 4))):
        name = rnd.choices(names, weights)[0]
        data = MUTATORS[name][0](rnd, data, pool)[:MAX_INPUT_BYTES]
        ops.append(name)
    return Mutated({**files, target: data}, target, tuple(ops), files)
