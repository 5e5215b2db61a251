"""The .env dialect, case by case, as the Compose v2 binary reads it.

Every expectation here was checked against docker compose v2.40; the
differential suite re-checks the same ground through real projects.
"""

from __future__ import annotations

import pytest

from awgcheck.parse.compose.dotenv import (
    INVALID,
    REQUIRED,
    SYNTAX,
    UNSET,
    parse_dotenv,
    parse_raw_env,
)


def dotenv_values(text: str, shell: dict[str, str] | None = None) -> dict[str, str]:
    return parse_dotenv(text, dict(shell or {}).get).values()


VALUES = [
    ("plain", "K=v\n", {"K": "v"}),
    ("no-final-newline", "K=v", {"K": "v"}),
    ("inline-comment-after-space", "K=v # c\n", {"K": "v"}),
    ("hash-without-space-kept", "K=v#c\n", {"K": "v#c"}),
    ("hash-after-tab-kept", "K=v\t# c\n", {"K": "v\t# c"}),
    ("comment-line", "# c\nK=v\n", {"K": "v"}),
    ("indented-comment", "   # c\nK=v\n", {"K": "v"}),
    ("trailing-space-trimmed", "K=v   \n", {"K": "v"}),
    ("spaces-around-equals", "  K  =  v  \n", {"K": "v"}),
    ("export-prefix", "export K=v\n", {"K": "v"}),
    ("export-needs-space", "exportK=v\n", {"exportK": "v"}),
    ("yaml-style-colon", "K: v\n", {"K": "v"}),
    ("equals-in-value", "K=a=b\n", {"K": "a=b"}),
    ("empty", "K=\n", {"K": ""}),
    ("empty-double", 'K=""\n', {"K": ""}),
    ("empty-single", "K=''\n", {"K": ""}),
    ("single-literal", "A=1\nK='$A \\n'\n", {"A": "1", "K": "$A \\n"}),
    ("single-escaped-quote", "K='it\\'s'\n", {"K": "it's"}),
    ("double-interpolates", 'A=1\nK="$A"\n', {"A": "1", "K": "1"}),
    ("double-newline-escape", 'K="a\\nb"\n', {"K": "a\nb"}),
    ("double-tab-escape", 'K="a\\tb"\n', {"K": "a\tb"}),
    ("double-quote-escape", 'K="a\\"b"\n', {"K": 'a"b'}),
    # An escaped backslash does not escape the closing quote after it.
    ("escaped-backslash-before-quote", 'K="C:\\\\"\nN=1\n', {"K": "C:\\", "N": "1"}),
    ("single-backslashes-kept", "K='C:\\\\'\nN=1\n", {"K": "C:\\\\", "N": "1"}),
    ("double-backslash", 'K="a\\\\b"\n', {"K": "a\\b"}),
    ("double-dollar-escape", 'A=1\nK="\\$A"\n', {"A": "1", "K": "$A"}),
    ("double-octal", 'K="\\0101"\n', {"K": "A"}),
    ("double-unknown-escape-kept", 'K="\\x41\\q"\n', {"K": "\\x41\\q"}),
    ("double-multiline", 'K="a\nb"\n', {"K": "a\nb"}),
    ("single-multiline", "K='a\nb'\n", {"K": "a\nb"}),
    ("text-after-quote-ignored", "K='x'   \n", {"K": "x"}),
    ("comment-after-quote", 'K="x" # c\n', {"K": "x"}),
    ("unquoted-backslash-kept", "K=a\\nb\n", {"K": "a\\nb"}),
    ("later-wins", "K=1\nK=2\n", {"K": "2"}),
    ("reference-earlier", "A=1\nB=${A}2\n", {"A": "1", "B": "12"}),
    ("reference-later-is-empty", "B=${A}\nA=1\n", {"A": "1", "B": ""}),
    ("default", "K=${U:-d}\n", {"K": "d"}),
    ("dollar-dollar", "K=$$A\n", {"K": "$A"}),
    ("lone-dollar", "K=a$\n", {"K": "a$"}),
    ("bare-key-unset", "K\n", {}),
    ("last-line-without-equals", "K=v\nLAST", {"K": "v", "": "LAST"}),
    ("bom", "\ufeffK=v\n", {"K": "v"}),
    ("crlf", "K=v\r\nL=w\r\n", {"K": "v", "L": "w"}),
    ("key-punctuation", "a.b=1\nc-d=2\nK[0]=3\n", {"a.b": "1", "c-d": "2", "K[0]": "3"}),
]


@pytest.mark.parametrize(("text", "expected"), [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_dotenv_values(text: str, expected: dict[str, str]) -> None:
    assert dotenv_values(text) == expected


SHELL = [
    ("bare-key-inherits", "K\n", {"K": "sh"}, {"K": "sh"}),
    ("shell-before-own-lines", "K=file\nL=${K}\n", {"K": "sh"}, {"K": "file", "L": "sh"}),
    ("shell-used-by-default", "L=${K:-d}\n", {"K": "sh"}, {"L": "sh"}),
]


@pytest.mark.parametrize(
    ("text", "shell", "expected"), [s[1:] for s in SHELL], ids=[s[0] for s in SHELL]
)
def test_dotenv_lookup_precedence(
    text: str, shell: dict[str, str], expected: dict[str, str]
) -> None:
    assert dotenv_values(text, shell) == expected


def test_dotenv_fallback_comes_after_own_lines() -> None:
    earlier = {"X": "earlier", "Y": "earlier"}
    parsed = parse_dotenv("X=own\nA=${X}\nB=${Y}\n", None, earlier.get)
    assert parsed.values() == {"X": "own", "A": "own", "B": "earlier"}


PROBLEMS = [
    ("unterminated-quote", 'A=1\nK="open\n', 2, SYNTAX),
    ("space-in-key", "A B=1\n", 1, SYNTAX),
    ("bad-key-character", "K!=1\n", 1, SYNTAX),
    ("lone-export-at-end", "K=1\nexport ", 2, SYNTAX),
    ("required-missing", "A=1\nK=${U:?need U}\n", 2, REQUIRED),
    ("invalid-template", "K=${1}\n", 1, INVALID),
    ("unset-variable", "K=${U}\n", 1, UNSET),
]


@pytest.mark.parametrize(
    ("text", "line", "code"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS]
)
def test_dotenv_problem_reported_with_line(text: str, line: int, code: str) -> None:
    problems = parse_dotenv(text).diagnostics
    assert [(p.location.line, p.code) for p in problems] == [(line, code)]


def test_dotenv_syntax_error_keeps_earlier_entries() -> None:
    parsed = parse_dotenv('A=1\nK="open\nB=2\n')
    assert parsed.values() == {"A": "1"}


def test_dotenv_required_missing_drops_only_that_value() -> None:
    parsed = parse_dotenv("A=1\nK=${U:?need}\nB=2\n")
    assert parsed.values() == {"A": "1", "B": "2"}
    assert parsed.diagnostics[0].subject == "U"


def test_dotenv_entries_keep_raw_text_and_line() -> None:
    entries = parse_dotenv('# head\nA=1\nB="x $A" # c\n').entries
    assert [(e.key, e.raw, e.value, e.line) for e in entries] == [
        ("A", "1", "1", 2),
        ("B", '"x $A"', "x 1", 3),
    ]


def test_dotenv_raw_format_takes_lines_literally() -> None:
    parsed = parse_raw_env('A="q $X" # c\n# skip\n\nB=${Y}\nD\nE=a=b\n', {"D": "dd"}.get)
    assert parsed.values() == {"A": '"q $X" # c', "B": "${Y}", "D": "dd", "E": "a=b"}
    assert [e.line for e in parsed.entries] == [1, 4, 5, 6]


def test_dotenv_raw_format_refuses_space_in_key() -> None:
    parsed = parse_raw_env("OK=1\nC = spaced\nLATER=2\n")
    assert parsed.values() == {"OK": "1"}
    assert [(p.location.line, p.code) for p in parsed.diagnostics] == [(2, SYNTAX)]
