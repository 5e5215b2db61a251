"""go-yaml v3 typing of plain scalars and Go's formatting of the result.

The table is what ``docker compose config`` (v2.40) printed for each
unquoted environment value.
"""

from __future__ import annotations

import pytest

from awgcheck.parse.compose.goyaml import Kind, go_float, resolve_plain, yaml11_reading

PLAIN = [
    ("yes-stays-text", "yes", Kind.STR, "yes"),
    ("on-stays-text", "on", Kind.STR, "on"),
    ("N-stays-text", "N", Kind.STR, "N"),
    ("true", "true", Kind.BOOL, "true"),
    ("True", "True", Kind.BOOL, "true"),
    ("TRUE", "TRUE", Kind.BOOL, "true"),
    ("False", "False", Kind.BOOL, "false"),
    ("octal-1.1-style", "0123", Kind.INT, "83"),
    ("octal-negative", "-0123", Kind.INT, "-83"),
    ("octal-0o", "0o17", Kind.INT, "15"),
    ("octal-010", "010", Kind.INT, "8"),
    ("not-octal-08", "08", Kind.FLOAT, "8"),
    ("hex", "0x1F", Kind.INT, "31"),
    ("hex-signed", "+0x10", Kind.INT, "16"),
    ("binary", "0b101", Kind.INT, "5"),
    ("binary-signed-digits", "0b-10", Kind.INT, "-2"),
    ("octal-0o-negative", "-0o17", Kind.INT, "-15"),
    ("plus-sign", "+12", Kind.INT, "12"),
    ("underscores", "1_000", Kind.INT, "1000"),
    ("double-underscores", "1__0", Kind.INT, "10"),
    ("uint64", "12345678901234567890", Kind.INT, "12345678901234567890"),
    ("float-one", "1.0", Kind.FLOAT, "1"),
    ("float-trailing-zero", "1.50", Kind.FLOAT, "1.5"),
    ("float-dot", "1.", Kind.FLOAT, "1"),
    ("float-leading-dot", ".5", Kind.FLOAT, "0.5"),
    ("exponent", "1e3", Kind.FLOAT, "1000"),
    ("exponent-signed", "1.5e+3", Kind.FLOAT, "1500"),
    ("large-float", "100000000000000000000", Kind.FLOAT, "1e+20"),
    ("go-exponent-form", "123456789.123", Kind.FLOAT, "1.23456789123e+08"),
    ("small", "1e-7", Kind.FLOAT, "1e-07"),
    ("overflow-stays-text", "1e+400", Kind.STR, "1e+400"),
    ("inf", ".inf", Kind.FLOAT, "+Inf"),
    ("minus-inf", "-.inf", Kind.FLOAT, "-Inf"),
    ("nan", ".nan", Kind.FLOAT, "NaN"),
    ("null", "null", Kind.NULL, None),
    ("tilde", "~", Kind.NULL, None),
    ("empty", "", Kind.NULL, None),
    ("sexagesimal-stays-text", "12:30", Kind.STR, "12:30"),
    ("hex-prefix-only", "0x", Kind.STR, "0x"),
    ("bad-exponent", "1e", Kind.STR, "1e"),
    ("timestamp", "2001-12-14", Kind.TIMESTAMP, "2001-12-14"),
    ("not-a-date", "2001-13-45", Kind.STR, "2001-13-45"),
    ("ip-address", "10.8.0.3", Kind.STR, "10.8.0.3"),
]


@pytest.mark.parametrize(
    ("text", "kind", "value"), [p[1:] for p in PLAIN], ids=[p[0] for p in PLAIN]
)
def test_resolve_plain_like_go_yaml(text: str, kind: Kind, value: str | None) -> None:
    typed = resolve_plain(text)
    assert (typed.kind, typed.text) == (kind, value)


FLOATS = [
    ("integral", 1000.0, "1000"),
    ("six-digits", 100000.0, "100000"),
    ("e-from-1e6", 1000000.0, "1e+06"),
    ("ten-thousandth", 0.0001, "0.0001"),
    ("e-below-1e-4", 0.00001, "1e-05"),
    ("negative-zero", -0.0, "-0"),
    ("negative", -2.5, "-2.5"),
]


@pytest.mark.parametrize(("value", "text"), [f[1:] for f in FLOATS], ids=[f[0] for f in FLOATS])
def test_go_float_formatting(value: float, text: str) -> None:
    assert go_float(value) == text


@pytest.mark.parametrize("text", ["yes", "No", "OFF", "on", "y"])
def test_yaml11_booleans_flagged(text: str) -> None:
    assert yaml11_reading(text) == "a boolean"


@pytest.mark.parametrize("text", ["enabled", "10.8.0.3", "yess", "true"])
def test_yaml11_plain_text_not_flagged(text: str) -> None:
    assert yaml11_reading(text) is None
