"""Compose variable interpolation (``$VAR``, ``${VAR:-default}``, ...).

Reproduces what compose-go's ``template`` package does for Compose v2, as
observed on the docker-compose binary itself (the differential suite under
``tests/parse/test_compose_differential.py`` keeps us honest):

* ``$$`` is a literal ``$``;
* ``$NAME`` and ``${NAME}`` substitute, an unset name becomes "" (Compose
  only warns, and so do we: ``unset`` lists such names);
* ``${NAME:-d}`` / ``${NAME-d}`` default when unset-or-empty / unset;
* ``${NAME:+r}`` / ``${NAME+r}`` replace when set-and-non-empty / set;
* ``${NAME:?e}`` / ``${NAME?e}`` are errors when unset-or-empty / unset;
* defaults, replacements and error texts are interpolated themselves, so
  ``${A:-${B:-x}}`` nests, and they may hold braces (``${A:-{"k":1}}``):
  an expression ends where its braces balance, and never spans lines;
* ``$`` followed by anything but a name or ``{`` stays as written, but a
  ``${`` that does not hold a valid expression is an invalid template.

Nothing here raises: a failed interpolation is returned as a value of None
plus an :class:`InterpolationError`, so one bad variable becomes one
diagnostic instead of aborting the whole check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from awgcheck import limits
from awgcheck.secrecy import is_secret_name, is_secret_value, scrub

Lookup = Callable[[str], str | None]
"""Maps a variable name to its value, or None when the variable is unset."""

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
# Inside braces: a name, then optionally one operator and its argument.
_BRACED = re.compile(r"(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<op>:?[-+?])(?P<arg>.*))?")
# The longest candidate for a ``${...}`` expression: "." stops at a newline,
# so an expression never spans lines (compose-go's pattern, greedy as Go's).
_EXPRESSION = re.compile(r"\$\{[_a-zA-Z][_a-zA-Z0-9]*(?::?[-+?].*)?\}")

REQUIRED = "required"
INVALID = "invalid"
TOO_LARGE = "too-large"
# Compose quotes the whole template; we do not, because the text may be a
# secret that happens to contain "${" (a generated password, say).
_INVALID_MESSAGE = "malformed ${...} expression (Compose refuses it as an invalid template)"


@dataclass(frozen=True)
class InterpolationError:
    """Why a template could not be interpolated.

    ``kind`` is ``required`` (a ``${VAR:?err}`` whose variable is missing;
    ``variable`` names it) or ``invalid`` (a malformed ``${...}``).
    """

    kind: str
    message: str
    variable: str | None = None


@dataclass(frozen=True)
class Interpolated:
    """Outcome of interpolating one string.

    ``value`` is None exactly when ``error`` is set. ``unset`` names the
    variables that were substituted by an empty string because they are
    not set (Compose's "variable is not set" warning), in order of use;
    ``used`` names every variable the template looked up.
    """

    value: str | None
    error: InterpolationError | None = None
    unset: tuple[str, ...] = ()
    used: tuple[str, ...] = ()


class _Failure(Exception):
    """Internal: unwinds a nested interpolation to its caller."""

    def __init__(self, error: InterpolationError) -> None:
        super().__init__(error.message)
        self.error = error


class Budget:
    """Characters the interpolated values of one file may still produce
    (:data:`limits.INTERPOLATION_MAX_TOTAL`): lines that each double the
    previous value stay within memory however many there are."""

    def __init__(self, total: int = limits.INTERPOLATION_MAX_TOTAL) -> None:
        self.left = total


def interpolate(template: str, lookup: Lookup, budget: Budget | None = None) -> Interpolated:
    """Interpolate ``template`` the way Compose v2 does against ``lookup``.

    A value past :data:`limits.INTERPOLATION_MAX_VALUE` characters, past
    what ``budget`` has left, or nested deeper than
    :data:`limits.INTERPOLATION_MAX_DEPTH` is an error of kind ``too-large``.
    """
    state = _State(lookup, budget or Budget())
    try:
        value = state.substitute(template)
    except _Failure as failure:
        return Interpolated(None, failure.error, tuple(state.unset), tuple(state.used))
    return Interpolated(value, None, tuple(state.unset), tuple(state.used))


class _State:
    """One interpolation run: remembers which variables were used or unset."""

    def __init__(self, lookup: Lookup, budget: Budget) -> None:
        self.lookup = lookup
        self.budget = budget
        self.depth = 0
        self._resume = 0  # where _dollar's caller goes on scanning
        self.unset: list[str] = []
        self.used: list[str] = []

    def get(self, name: str) -> str | None:
        if name not in self.used:
            self.used.append(name)
        return self.lookup(name)

    def substitute(self, text: str) -> str:
        if self.depth >= limits.INTERPOLATION_MAX_DEPTH:
            raise _Failure(InterpolationError(
                TOO_LARGE, f"${{...}} defaults nested deeper than "
                f"{limits.INTERPOLATION_MAX_DEPTH} levels"))
        self.depth += 1
        out: list[str] = []
        size = 0
        i = 0
        while True:
            j = text.find("$", i)
            piece_end = len(text) if j < 0 else j
            out.append(text[i:piece_end])
            size += piece_end - i
            if j >= 0:
                size += self._dollar(text, j, out)
                i = self._resume
            self._check_size(size)
            if j < 0:
                self.depth -= 1
                if self.depth == 0:
                    self.budget.left -= size
                return "".join(out)

    def _check_size(self, size: int) -> None:
        if size > limits.INTERPOLATION_MAX_VALUE or size > self.budget.left:
            limit = min(limits.INTERPOLATION_MAX_VALUE, max(self.budget.left, 0))
            raise _Failure(InterpolationError(
                TOO_LARGE, f"the interpolated value exceeds {limit:,} characters"
                f" (awgcheck's limit: {limits.INTERPOLATION_MAX_VALUE:,} per value,"
                f" {limits.INTERPOLATION_MAX_TOTAL:,} per file)"))

    def _dollar(self, text: str, j: int, out: list[str]) -> int:
        """Handle the ``$`` at ``j``; return how many characters it added
        to ``out`` and leave where scanning resumes in ``_resume``."""
        self._resume = self._expand(text, j, out)
        return len(out[-1])

    def _expand(self, text: str, j: int, out: list[str]) -> int:
        nxt = text[j + 1 : j + 2]
        if nxt == "$":
            out.append("$")
            return j + 2
        if nxt == "{":
            return self._braced(text, j, out)
        named = _NAME.match(text, j + 1)
        if named is None:
            # Compose leaves a lone "$" (or "$1") alone rather than failing.
            out.append("$")
            return j + 1
        out.append(self._plain(named.group()))
        return named.end()

    def _plain(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            self.unset.append(name)
            return ""
        return value

    def _braced(self, text: str, j: int, out: list[str]) -> int:
        end = _expression_end(text, j)
        match = _BRACED.fullmatch(text, j + 2, end - 1) if end >= 0 else None
        if match is None:
            raise _Failure(InterpolationError(INVALID, _INVALID_MESSAGE))
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        out.append(self._plain(name) if op is None else self._operator(name, op, arg))
        return end

    def _operator(self, name: str, op: str, arg: str) -> str:
        # The argument is interpolated before the variable is even looked at,
        # as compose-go does: an error inside a default is an error even when
        # the default is not needed.
        arg_value = self.substitute(arg)
        value = self.get(name)
        empty_counts = op.startswith(":")
        missing = value is None or (empty_counts and value == "")
        kind = op[-1]
        if kind == "-":
            return arg_value if missing else _str(value)
        if kind == "+":
            return _str(value) if missing else arg_value
        if missing:
            message = f"required variable {name} is missing a value"
            if arg_value:
                message += f": {self._shown(arg)}"
            raise _Failure(InterpolationError(REQUIRED, message, name))
        return _str(value)


    def _shown(self, arg: str) -> str:
        """The error text of ``${NAME:?text}`` as a message may carry it.

        The one rule for what an interpolated message may show: the text as
        written, with each variable's value substituted unless the
        variable's name or value looks secret (``${API_TOKEN}`` is shown as
        ``${API_TOKEN}``, never as its value), then scrubbed of anything
        else secret-shaped.
        """

        def lookup(name: str) -> str | None:
            value = self.lookup(name)
            if value is not None and (is_secret_name(name) or is_secret_value(value)):
                return "${" + name + "}"
            return value

        try:
            shown = _State(lookup, Budget()).substitute(arg)
        except _Failure:  # unreachable: the real substitution passed first
            shown = "(withheld)"
        return scrub(shown)


def _str(value: str | None) -> str:
    return "" if value is None else value


def _expression_end(text: str, start: int) -> int:
    """Index just past the ``}`` that ends the ``${`` at ``start``; -1 if
    no valid expression starts there.

    compose-go first takes the longest ``${NAME<op>...}`` on the line (to
    the line's last ``}``), then cuts it at the first ``}`` that balances
    the braces opened so far. Every ``{`` counts, not only ``${``, so a
    default may hold braces: ``${A:-{"k":1}}`` ends at its last ``}``.
    Go's counter also skips the character after each ``{`` (``{}`` opens
    without closing); that is kept, as the binary does it.
    """
    longest = _EXPRESSION.match(text, start)
    if longest is None:
        return -1
    depth = 0
    i = start
    while i < longest.end():
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        if text[i] == "{":
            depth += 1
            i += 1
        i += 1
    return longest.end()
