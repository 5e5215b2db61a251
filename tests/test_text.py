"""The one escaping rule: every byte visible, nothing a terminal or a
format acts on, and no two texts escaped alike."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from awgcheck.model import Severity
from awgcheck.text import printable, printable_fields, unprintable

CASES = [
    ("plain", "S4 = 18", "S4 = 18"),
    ("non-utf8-byte", b"18\xff".decode("utf-8", "surrogateescape"), "18\\xff"),
    ("esc-csi", "\x1b[31mred", "\\x1b[31mred"),
    ("osc-52-bel", "\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
    ("nul", "a\x00b", "a\\x00b"),
    ("del", "a\x7fb", "a\\x7fb"),
    ("c1-csi", "a\x9bb", "a\\u009bb"),
    ("newline-tab-cr", "a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd"),
    ("bidi-override", "a\u202eb", "a\\u202eb"),
    ("zero-width-joiner", "a\u200db", "a\\u200db"),
    ("line-separator", "a\u2028b", "a\\u2028b"),
    ("tag-character", "a\U000e0001b", "a\\U000e0001b"),
    ("lone-surrogate", "a\ud800b", "a\\ud800b"),
    ("letters-kept", "Jc = 4 # Привет, ü", "Jc = 4 # Привет, ü"),
    ("regex-backslash-kept", r"^\d+$", r"^\d+$"),
    ("literal-backslash-x", r"\xff", r"\\xff"),
    ("literal-double-backslash", "\\\\", "\\\\\\"),  # the last one starts nothing
    ("backslash-before-escape", "\\\x1b", "\\\\\\x1b"),
    ("trailing-backslash", "a\\", "a\\"),
]


@pytest.mark.parametrize(("text", "shown"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_printable_escapes(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(text).isprintable()
    printable(text).encode("utf-8")  # never raises


def test_printable_is_unambiguous() -> None:
    texts = [c[1] for c in CASES]
    assert len({printable(t) for t in texts}) == len(set(texts))
    byte = b"\xff".decode("utf-8", "surrogateescape")
    shown = {printable(byte), printable("\\xff"), printable("\xff"), printable("\\" + byte)}
    assert len(shown) == 4


@pytest.mark.parametrize(("text", "shown"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_unprintable_gives_back_what_printable_was_given(text: str, shown: str) -> None:
    assert unprintable(shown) == text


def test_unprintable_inverts_printable_on_every_short_mix_of_hard_characters() -> None:
    # Every string of up to 4 of these: backslashes beside escape letters,
    # hex digits, controls, a byte that is not UTF-8, invisible characters.
    hard = ["\\", "x", "u", "U", "1", "b", "f", "\x1b", "\x7f",
            b"\xff".decode("utf-8", "surrogateescape"), "\u202e", "\U000e0001", "a"]
    for length in range(5):
        for parts in itertools.product(hard, repeat=length):
            text = "".join(parts)
            assert unprintable(printable(text)) == text, repr(text)


KEPT = [
    ("upper-case-hex", "\\xFF"),  # printable writes lower case only
    ("short-escape", "\\x1"),
    ("beyond-unicode", "\\U00110000"),
    ("lone-backslash", "a\\"),
    ("backslash-before-letter", "\\d+"),
]


@pytest.mark.parametrize("text", [c[1] for c in KEPT], ids=[c[0] for c in KEPT])
def test_unprintable_keeps_a_backslash_that_starts_no_escape(text: str) -> None:
    assert unprintable(text) == text


@dataclasses.dataclass(frozen=True)
class _Inner:
    name: str
    severity: Severity
    tags: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class _Outer:
    inner: _Inner
    values: dict[str, list[str]]
    count: int
    raw: bytes


def test_printable_fields_walks_dataclasses_and_containers() -> None:
    value = _Outer(_Inner("n\x1b", Severity.ERROR, ("t\x07",)), {"k\x00": ["v\x9b"]}, 3, b"\x1b")
    clean = printable_fields(value)
    assert clean == _Outer(_Inner("n\\x1b", Severity.ERROR, ("t\\x07",)),
                           {"k\\x00": ["v\\u009b"]}, 3, b"\x1b")
    assert clean.inner.severity is Severity.ERROR  # enum members are not text to escape


def test_printable_fields_leaves_kept_types_to_their_renderer() -> None:
    value = _Outer(_Inner("n\x1b", Severity.ERROR, ()), {}, 0, b"")
    assert printable_fields(value, keep=(_Inner,)).inner is value.inner
