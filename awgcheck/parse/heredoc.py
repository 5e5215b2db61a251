"""The conf templates inside a shell script: its heredocs.

Install scripts keep their ``awg0.conf`` template as a heredoc::

    cat > /etc/amnezia/amneziawg/awg0.conf <<EOF
    [Interface]
    PrivateKey = $(cat "$KEY_PATH")
    S4 = 17
    EOF

The script's own lines are not conf lines; the heredoc's body is the conf
it writes. This module finds every heredoc the way bash does (``<<WORD``,
``<<-WORD`` stripping leading tabs, several operators on one line read in
order, ``<<<`` here-strings, quotes and comments left alone) and reads each
body that holds an ``[Interface]`` or ``[Peer]`` header as a conf template,
at the script's own line numbers.

How a body expands follows the delimiter: ``<<EOF`` expands ``$VAR``,
``${VAR}``, ``$(cmd)`` and backquotes, which are then placeholders; a quoted
delimiter (``<<'EOF'``, ``<<"EOF"``, ``<<\\EOF``) expands nothing, so
``$VAR`` is the literal text awg reads and is judged as written. Engine tags
(``{{ var }}``) are placeholders either way: they are there for the engine
that renders the script itself. Backslash escapes inside an unquoted body
are read as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from awgcheck.errors import ParseError
from awgcheck.parse import awgconf
from awgcheck.parse.placeholders import ENGINE_TAG

# What bash expands in an unquoted heredoc body: the conf placeholders plus
# backquoted commands and special/positional parameters (``$1``, ``$@``). A
# backslash before the ``$`` or backquote keeps it literal.
_EXPANDED = re.compile(
    ENGINE_TAG.pattern
    + r"|(?<!\\)(?:\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@*#?$!-]|`[^`]*`)")
_METACHARS = " \t;&|()<>"
_HEADERS = ("[interface]", "[peer]")


@dataclass(frozen=True)
class Heredoc:
    """One heredoc of a script: where it is and the lines bash passes on."""

    line: int  # the line holding the ``<<`` operator
    start: int  # the first body line
    body: tuple[bytes, ...]  # as bash passes them on (``<<-``: leading tabs gone)
    delimiter: str
    quoted: bool  # any quoting of the delimiter: the body is not expanded
    strip_tabs: bool  # ``<<-``

    def looks_like_conf(self) -> bool:
        """Does the body hold an ``[Interface]`` or ``[Peer]`` header line?"""
        return any("".join(_text(line).split("#", 1)[0].split()).lower() in _HEADERS
                   for line in self.body)

    def as_conf(self) -> bytes:
        """The body as a conf whose line N is line N of the script: the lines
        before it empty, every body line ended by a newline as bash writes it."""
        return b"\n" * (self.start - 1) + b"".join(line + b"\n" for line in self.body)


def looks_like_script(data: bytes) -> bool:
    """A shell script rather than a conf template: a ``#!`` first line, or
    a heredoc."""
    return data.startswith(b"#!") or bool(heredocs(data))


def heredocs(data: bytes) -> tuple[Heredoc, ...]:
    """Every heredoc of a script, in order. A heredoc without its
    terminator runs to the end of the file, as in bash."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the final newline ends the last line, it starts none
    found: list[Heredoc] = []
    pending: list[tuple[int, _Operator]] = []
    quote: str | None = None
    index = 0
    while index < len(lines):
        operators, quote, continued = _operators(_text(lines[index]), quote)
        pending += [(index + 1, op) for op in operators]
        index += 1
        if continued or quote is not None or not pending:
            continue  # the command goes on: bodies start after its last line
        for line, op in pending:
            start, body = index + 1, []
            while index < len(lines):
                raw = lines[index].lstrip(b"\t") if op.strip_tabs else lines[index]
                index += 1
                if raw == op.delimiter.encode("utf-8", "surrogateescape"):
                    break
                body.append(raw)
            found.append(Heredoc(line, start, tuple(body), op.delimiter, op.quoted,
                                 op.strip_tabs))
        pending = []
    return tuple(found)


def parse_templates(data: bytes, path: str) -> tuple[tuple[Heredoc, awgconf.AwgConf], ...]:
    """Each conf-looking heredoc of the script at ``path``, parsed as a conf
    template located in the script. A script without one raises
    :class:`ParseError`: it is not a template that passes."""
    found = tuple((doc, awgconf.parse(doc.as_conf(), path, template=True,
                                      placeholders=ENGINE_TAG if doc.quoted else _EXPANDED))
                  for doc in heredocs(data) if doc.looks_like_conf())
    if not found:
        raise ParseError(f"{path}: no conf template found in this script (no heredoc "
                         "holds an [Interface] or [Peer] header line)")
    return found


@dataclass(frozen=True)
class _Operator:
    delimiter: str
    quoted: bool
    strip_tabs: bool


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _operators(text: str, quote: str | None) -> tuple[list[_Operator], str | None, bool]:
    """The heredoc operators on one line of commands, given the quote open
    at its start; also the quote open at its end and whether a trailing
    backslash continues the command on the next line."""
    found: list[_Operator] = []
    i, end = 0, len(text)
    while i < end:
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = None
            i += 1
        elif ch == "\\":
            if i == end - 1:
                return found, None, True
            i += 2
        elif ch in "'\"":
            quote, i = ch, i + 1
        elif ch == "#" and (i == 0 or text[i - 1] in _METACHARS):
            break  # a comment
        elif text.startswith("((", i):
            close = text.find("))", i + 2)  # arithmetic: `<<` is a shift there
            i = end if close < 0 else close + 2
        elif text.startswith("<<<", i):
            i += 3  # a here-string, not a heredoc
        elif text.startswith("<<", i):
            strip = text.startswith("<<-", i)
            i += 3 if strip else 2
            while i < end and text[i] in " \t":
                i += 1
            word, quoted, i = _word(text, i)
            if word:
                found.append(_Operator(word, quoted, strip))
        else:
            i += 1
    return found, quote, False


def _word(text: str, i: int) -> tuple[str, bool, int]:
    """The shell word at ``i`` with its quotes removed, whether any part of
    it was quoted, and where it ends."""
    out: list[str] = []
    quoted = False
    while i < len(text) and text[i] not in _METACHARS:
        ch = text[i]
        if ch in "'\"":
            close = text.find(ch, i + 1)
            close = len(text) if close < 0 else close
            out.append(text[i + 1:close])
            quoted, i = True, close + 1
        elif ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            quoted, i = True, i + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out), quoted, i
