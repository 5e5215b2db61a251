"""Compose interpolation forms, one table row each (checked on Compose v2.40)."""

from __future__ import annotations

import pytest

from awgcheck.parse.compose.interpolate import INVALID, REQUIRED, interpolate

ENV = {"A": "alpha", "B": "bravo", "E": "", "lower": "small"}

RESOLVED = [
    ("braced", "${A}", "alpha"),
    ("plain", "$A", "alpha"),
    ("plain-stops-at-dash", "$A-x", "alpha-x"),
    ("plain-takes-underscore", "$A_B", ""),
    ("adjacent", "${A}${B}", "alphabravo"),
    ("lowercase-name", "${lower}", "small"),
    ("unset-is-empty", "x${U}y", "xy"),
    ("soft-default-unset", "${U:-d}", "d"),
    ("soft-default-empty", "${E:-d}", "d"),
    ("soft-default-set", "${A:-d}", "alpha"),
    ("soft-default-empty-default", "${U:-}", ""),
    ("hard-default-unset", "${U-d}", "d"),
    ("hard-default-empty", "${E-d}", ""),
    ("soft-alt-set", "${A:+r}", "r"),
    ("soft-alt-empty", "${E:+r}", ""),
    ("soft-alt-unset", "${U:+r}", ""),
    ("hard-alt-set", "${A+r}", "r"),
    ("hard-alt-empty", "${E+r}", "r"),
    ("hard-alt-unset", "${U+r}", ""),
    ("required-set", "${A:?msg}", "alpha"),
    ("required-unset-only-empty-ok", "${E?msg}", ""),
    ("nested-default", "${U:-${V:-deep}}", "deep"),
    ("nested-variable", "${U:-pre-${B}-post}", "pre-bravo-post"),
    ("nested-alt", "${A:+${B}}", "bravo"),
    ("default-with-colon-dash", "${U-x:-y}", "x:-y"),
    ("default-with-specials", "${U:-a:b=c d}", "a:b=c d"),
    ("escape", "$$A", "$A"),
    ("escape-braced", "$${A}", "${A}"),
    ("escape-then-var", "$$$A", "$alpha"),
    ("lone-dollar", "a$", "a$"),
    ("dollar-digit", "$1", "$1"),
    ("dollar-dash", "$-x", "$-x"),
    ("closing-brace-after", "${U:-a}}", "a}"),
    ("escaped-default", "${U:-$$}", "$"),
    # Every "{" counts when finding the end of an expression, not only "${".
    ("braces-in-unused-default", "${A:-{b}}", "alpha"),
    ("braces-in-used-default", "${U:-{b}}", "{b}"),
    ("json-default-then-text", '${U:-{"k":1}} x', '{"k":1} x'),
    # Go's counter skips the character after each "{", so "{}" never closes.
    ("empty-braces-in-default", "${U:-{}x}", "{}x"),
    ("skipped-brace-reaches-later-close", "${U:-{b}}c}", "{b}c}"),
]


@pytest.mark.parametrize(
    ("template", "expected"), [r[1:] for r in RESOLVED], ids=[r[0] for r in RESOLVED]
)
def test_interpolate_resolves(template: str, expected: str) -> None:
    result = interpolate(template, ENV.get)
    assert result.error is None
    assert result.value == expected


FAILING = [
    ("required-soft-unset", "${U:?U is needed}", REQUIRED, "U"),
    ("required-soft-empty", "${E:?E is needed}", REQUIRED, "E"),
    ("required-hard-unset", "${U?}", REQUIRED, "U"),
    ("required-inside-unused-default", "${A:-${U:?boom}}", REQUIRED, "U"),
    ("space-in-name", "${A B}", INVALID, None),
    ("digit-name", "${1}", INVALID, None),
    ("empty-braces", "${}", INVALID, None),
    ("unclosed", "${A", INVALID, None),
    ("spans-lines", "${U:-a\nb}", INVALID, None),
]


@pytest.mark.parametrize(
    ("template", "kind", "variable"), [f[1:] for f in FAILING], ids=[f[0] for f in FAILING]
)
def test_interpolate_fails_without_raising(template: str, kind: str, variable: str | None) -> None:
    result = interpolate(template, ENV.get)
    assert result.value is None
    assert result.error is not None
    assert (result.error.kind, result.error.variable) == (kind, variable)


def test_interpolate_required_message_carries_the_author_text() -> None:
    result = interpolate("${U:?set U to the mesh address}", ENV.get)
    assert result.error is not None
    assert (
        result.error.message == "required variable U is missing a value: set U to the mesh address"
    )


def test_interpolate_names_unset_variables_only() -> None:
    result = interpolate("${U} ${A} ${V:-d} $W", ENV.get)
    assert result.unset == ("U", "W")
