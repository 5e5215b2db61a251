"""The ``.env`` / ``env_file`` syntax as Compose v2 (compose-go) reads it.

Compose's dotenv dialect is not a shell: ``#`` starts an inline comment only
after a space, single quotes are literal except for ``\\'``, double quotes
may span lines and know a fixed set of escapes, a bare ``KEY`` line copies
the value from the lookup environment, and ``KEY: value`` is accepted as a
synonym of ``KEY=value``. Unquoted and double-quoted values are interpolated
(see :mod:`awgcheck.parse.interpolate`) against the lookup environment
first and the lines already read second.

The parser never raises for bad input: a syntax error ends the file (as it
ends ``docker compose``) and is returned as a
:class:`~awgcheck.model.Diagnostic` at its line; a failed interpolation
drops that one value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from awgcheck.model import Diagnostic, Level, Location
from awgcheck.parse.compose.interpolate import Budget, Interpolated, Lookup, interpolate

SYNTAX = "dotenv-syntax"
REQUIRED = "interpolation-required"
INVALID = "interpolation-invalid"
UNSET = "variable-unset"
KEYLESS = "dotenv-keyless-line"
# Compose still runs after these two (the value is empty or oddly named);
# every other problem makes `docker compose` refuse the project.
_WARNINGS = frozenset({UNSET, KEYLESS})

_EXPORT = re.compile(r"export\s+")
# compose-go knows these escapes in double quotes and no others (no \x, \u).
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
}
# Go's unicode.IsSpace minus the newline: what compose-go trims around keys.
_BLANK = "\t\v\f\r \x85\xa0"
_KEY_PUNCTUATION = "_.-[]"


@dataclass(frozen=True)
class DotenvEntry:
    """One ``KEY=value`` statement.

    ``raw`` is the value as written (quotes kept, inline comment dropped);
    ``value`` is what Compose makes of it, or None when a bare ``KEY`` found
    nothing to inherit or interpolation failed. ``line`` is 1-based.
    """

    key: str
    raw: str
    value: str | None
    line: int
    inherited: bool = False


@dataclass(frozen=True)
class Dotenv:
    """A parsed file: its statements in order and what went wrong (each
    diagnostic's code is one of this module's constants)."""

    entries: tuple[DotenvEntry, ...]
    diagnostics: tuple[Diagnostic, ...]

    def values(self) -> dict[str, str]:
        """The resulting variables; later statements win, unset ones are absent."""
        out: dict[str, str] = {}
        for entry in self.entries:
            if entry.value is not None:
                out[entry.key] = entry.value
            elif entry.inherited:
                continue
            else:
                out.pop(entry.key, None)
        return out


def parse_dotenv(text: str, lookup: Lookup | None = None, fallback: Lookup | None = None,
                 *, path: str = ".env") -> Dotenv:
    """Parse ``text`` as compose-go does, resolving ``$VAR`` via ``lookup``.
    ``path`` is how diagnostics name the file.

    ``$VAR`` is looked up in ``lookup`` first (a shell variable, or a
    service ``environment:`` entry, shadows a line of the same file), then
    in the file's own earlier lines, then in ``fallback`` (the files read
    before this one).
    """
    return _Parser(text.removeprefix("\ufeff"), path, lookup or _nothing,
                   fallback or _nothing).run()


def parse_raw_env(text: str, lookup: Lookup | None = None, *, path: str = ".env") -> Dotenv:
    """Parse an ``env_file`` declared with ``format: raw``.

    Each ``KEY=value`` line is taken literally: no quotes, no comments after
    the value, no interpolation. Blank and ``#`` lines are skipped, a bare
    ``KEY`` inherits from ``lookup``, and whitespace in a key stops the file
    as it stops Compose.
    """
    find = lookup or _nothing
    entries: list[DotenvEntry] = []
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if any(c.isspace() for c in key):
            problem = _diagnostic(path, number, SYNTAX,
                                  f"variable {key!r} contains whitespaces")
            return Dotenv(tuple(entries), (problem,))
        if eq:
            entries.append(DotenvEntry(key, value, value, number))
        else:
            entries.append(DotenvEntry(key, "", find(key), number, inherited=True))
    return Dotenv(tuple(entries), ())


def _nothing(_name: str) -> str | None:
    return None


def _diagnostic(path: str, line: int, code: str, message: str,
                variable: str | None = None) -> Diagnostic:
    level = Level.WARNING if code in _WARNINGS else Level.ERROR
    return Diagnostic(Location(path, line), code, message, level, variable)


class _SyntaxFailure(Exception):
    """Internal: a statement compose-go rejects; ends the file."""


class _Parser:
    def __init__(self, text: str, path: str, lookup: Lookup, fallback: Lookup) -> None:
        self.text = text
        self.path = path
        self.lookup = lookup
        self.fallback = fallback
        self.pos = 0
        self.statement_line = 1
        self.seen: dict[str, str] = {}
        self.entries: list[DotenvEntry] = []
        self.diagnostics: list[Diagnostic] = []
        self.budget = Budget()  # one file's interpolated values, together

    def run(self) -> Dotenv:
        try:
            while self._next_statement():
                self._statement()
        except _SyntaxFailure as failure:
            self.diagnostics.append(
                _diagnostic(self.path, self.statement_line, SYNTAX, str(failure)))
        return Dotenv(tuple(self.entries), tuple(self.diagnostics))

    def _line(self, pos: int | None = None) -> int:
        return self.text.count("\n", 0, self.pos if pos is None else pos) + 1

    def _next_statement(self) -> bool:
        """Skip blank space and comment lines; False at end of input."""
        text = self.text
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                return False
            if text[self.pos] != "#":
                return True
            newline = text.find("\n", self.pos)
            if newline < 0:
                return False
            self.pos = newline

    def _statement(self) -> None:
        line = self.statement_line = self._line()
        key, inherited = self._key()
        if inherited:
            value = self._lookup(key)
            self.entries.append(DotenvEntry(key, "", value, line, inherited=True))
            if value is not None:
                self.seen[key] = value
            return
        raw, value = self._value(line)
        self.entries.append(DotenvEntry(key, raw, value, line))
        if value is not None:
            self.seen[key] = value

    def _key(self) -> tuple[str, bool]:
        """Read ``KEY=`` / ``KEY:`` / bare ``KEY``; return it and bareness."""
        export = _EXPORT.match(self.text, self.pos)
        if export:
            self.pos = export.end()
        self._skip_blank()
        start = self.pos
        if start >= len(self.text):
            raise _SyntaxFailure("zero length string (a lone 'export'?)")
        for i in range(start, len(self.text)):
            char = self.text[i]
            if char in _BLANK:
                continue
            if char in "=:\n":
                key = self.text[start:i].rstrip()
                self.pos = i + 1
                self._skip_blank()
                if " " in key:
                    raise _SyntaxFailure("key cannot contain a space")
                return key, char == "\n"
            if not (char.isalnum() or char in _KEY_PUNCTUATION):
                raise _SyntaxFailure(f"unexpected character {char!r} in variable name")
        # A last line with no "=", ":" or newline: compose-go reads a
        # variable with an empty name whose value is the whole line.
        self.pos = start
        self.diagnostics.append(
            _diagnostic(
                self.path,
                self.statement_line,
                KEYLESS,
                "last line has no '=': Compose reads it as a variable with an empty name",
            )
        )
        return "", False

    def _skip_blank(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _BLANK:
            self.pos += 1

    def _value(self, line: int) -> tuple[str, str | None]:
        quote = self.text[self.pos : self.pos + 1]
        if quote in ("'", '"'):
            return self._quoted(quote, line)
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        raw = self.text[self.pos : end].split(" #", 1)[0].rstrip()
        self.pos = end
        return raw, self._expand(raw, line)

    def _quoted(self, quote: str, line: int) -> tuple[str, str | None]:
        start = self.pos
        end, inner = _unquote(self.text, start)
        if end < 0:
            self.pos = len(self.text)
            # The value itself stays out of the message: it may be a secret.
            raise _SyntaxFailure(f"unterminated {quote}-quoted value")
        self.pos = end + 1
        raw = self.text[start : end + 1]
        if quote == "'":
            return raw, inner
        return raw, self._expand(_expand_escapes(inner), line)

    def _lookup(self, name: str) -> str | None:
        found = self.lookup(name)
        if found is None:
            found = self.seen.get(name)
        return found if found is not None else self.fallback(name)

    def _expand(self, text: str, line: int) -> str | None:
        result = interpolate(text, self._lookup, self.budget)
        self._report(result, line)
        return result.value

    def _report(self, result: Interpolated, line: int) -> None:
        for name in result.unset:
            self.diagnostics.append(
                _diagnostic(self.path, line, UNSET, f"variable {name} is not set", name))
        if result.error is not None:
            code = REQUIRED if result.error.kind == "required" else INVALID
            self.diagnostics.append(
                _diagnostic(self.path, line, code, result.error.message,
                            result.error.variable)
            )


def _unquote(text: str, start: int) -> tuple[int, str]:
    r"""Scan the quoted value opening at ``start``: the index of its closing
    quote (-1 if none) and the text between the quotes.

    A backslash escapes the next character only as far as finding the end
    goes: ``\<quote>`` becomes the bare quote, and any other pair stays as
    written (``\\`` too), for the double-quote escapes to handle later. So
    ``"C:\\"`` ends at its last quote, as in compose-go.
    """
    quote = text[start]
    chars: list[str] = []
    escaped = False
    for i in range(start + 1, len(text)):
        char = text[i]
        if escaped:
            escaped = False
            chars.append(char if char == quote else "\\" + char)
        elif char == "\\":
            escaped = True
        elif char == quote:
            return i, "".join(chars)
        else:
            chars.append(char)
    return -1, ""


def _expand_escapes(text: str) -> str:
    """Apply the double-quote escapes compose-go knows; leave others as written."""
    return _ESCAPE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    seq = match.group()
    if seq == "\\$":
        # Becomes "$$" so that interpolation, which runs next, keeps one "$".
        return "$$"
    if seq.startswith("\\0"):
        return _octal(seq)
    return _SIMPLE_ESCAPES.get(seq[1], seq)


def _octal(seq: str) -> str:
    r"""``\0ddd`` is an octal byte; other lengths stay as Go leaves them."""
    digits = seq[2:]
    if len(digits) == 3 and all(c in "01234567" for c in digits) and int(digits, 8) < 256:
        return chr(int(digits, 8))
    return "\\" + digits


