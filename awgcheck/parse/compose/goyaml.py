"""How Compose's YAML library (go-yaml v3) types a plain scalar, and how
Compose then turns that type back into an environment string.

PyYAML resolves plain scalars by YAML 1.1 rules (``yes`` is True, ``0123``
is 83 octal, ``12:30`` is 750); go-yaml v3 mostly follows YAML 1.2 but keeps
some 1.1 habits (``0123`` is still octal, ``1_000`` is 1000). Compose then
formats numbers with Go's ``%v`` (``1e3`` becomes ``1000``, ``1e20``
becomes ``1e+20``). awgcheck therefore never uses PyYAML's types: it reads
every scalar as text with :func:`yaml.compose` and types plain scalars here.

Quoted scalars are always strings; explicit tags are not interpreted.
"""

from __future__ import annotations

import datetime
import enum
import math
import re
from dataclasses import dataclass
from decimal import Decimal

from awgcheck import limits


class Kind(enum.StrEnum):
    """The type go-yaml v3 gives a scalar decoded into an ``interface{}``."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    NULL = "null"
    TIMESTAMP = "timestamp"


@dataclass(frozen=True)
class Typed:
    """A plain scalar as Compose sees it: its type and its string form.

    ``text`` is what Compose puts in an environment variable for it (None
    for null, which Compose treats as "no value").
    """

    kind: Kind
    text: str | None


_SPECIAL = {
    "": Typed(Kind.NULL, None),
    "~": Typed(Kind.NULL, None),
    "null": Typed(Kind.NULL, None),
    "Null": Typed(Kind.NULL, None),
    "NULL": Typed(Kind.NULL, None),
    "true": Typed(Kind.BOOL, "true"),
    "True": Typed(Kind.BOOL, "true"),
    "TRUE": Typed(Kind.BOOL, "true"),
    "false": Typed(Kind.BOOL, "false"),
    "False": Typed(Kind.BOOL, "false"),
    "FALSE": Typed(Kind.BOOL, "false"),
}
_INFINITY = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}
_NEG_INFINITY = {"-.inf", "-.Inf", "-.INF"}
_NAN = {".nan", ".NaN", ".NAN"}

# Go's strconv.ParseInt(s, 0, 64) syntax (after go-yaml dropped "_").
_GO_INT = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
# go-yaml's yamlStyleFloat, the gate before strconv.ParseFloat.
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")

# The layouts go-yaml v3 tries with time.Parse (its allowedTimestampFormats).
_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
    r"| [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?)?"
)

_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

# YAML 1.1 readings that Compose does NOT apply: worth a warning because a
# human, PyYAML, or docker-compose v1 reads them differently.
_YAML11_BOOL = re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF")
_YAML11_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def resolve_plain(text: str) -> Typed:
    """Type a plain (unquoted, untagged) scalar the way go-yaml v3 does."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    if text in _INFINITY:
        return Typed(Kind.FLOAT, "+Inf")
    if text in _NEG_INFINITY:
        return Typed(Kind.FLOAT, "-Inf")
    if text in _NAN:
        return Typed(Kind.FLOAT, "NaN")
    first = text[0]
    if first == ".":
        return _float(text) if _DOT_FLOAT.fullmatch(text) else Typed(Kind.STR, text)
    if first in "+-0123456789":
        return _number(text)
    return Typed(Kind.STR, text)


def _number(text: str) -> Typed:
    if _is_timestamp(text):
        # go-yaml decodes these to time.Time, which Compose's schema then
        # rejects wherever it expects a string: keep the text, flag the kind.
        return Typed(Kind.TIMESTAMP, text)
    plain = text.replace("_", "")
    value = _go_int(plain) if _GO_INT.fullmatch(plain) else None
    if value is not None and (_INT64_MIN <= value <= _INT64_MAX
                              or (0 <= value <= _UINT64_MAX and plain[0] != "+")):
        return Typed(Kind.INT, str(value))
    if _YAML_FLOAT.fullmatch(plain):
        return _float(plain)
    prefixed = _prefixed_int(plain)
    if prefixed is not None:
        return Typed(Kind.INT, str(prefixed))
    return Typed(Kind.STR, text)


def _prefixed_int(plain: str) -> int | None:
    """go-yaml's second chance for ``0b``/``0o`` forms: it hands the rest to
    strconv.ParseInt, which takes a sign there too (``0b-10`` is -2)."""
    for prefix, base in (("0b", 2), ("0o", 8)):
        if plain.startswith(prefix):
            return _go_parse_int(plain[2:], base, unsigned_ok=True)
        if plain.startswith("-" + prefix):
            return _go_parse_int("-" + plain[3:], base, unsigned_ok=False)
    return None


def _go_parse_int(text: str, base: int, *, unsigned_ok: bool) -> int | None:
    """strconv.ParseInt(text, base, 64), falling back to ParseUint."""
    digits = "01" if base == 2 else "01234567"
    body = text[1:] if text[:1] in "+-" else text
    if not body or any(c not in digits for c in body):
        return None
    value = limits.int_or_none(text, base)
    if value is None:
        return None
    if _INT64_MIN <= value <= _INT64_MAX:
        return value
    if unsigned_ok and text[:1] not in "+-" and value <= _UINT64_MAX:
        return value
    return None


def _is_timestamp(text: str) -> bool:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    year, month, day = (int(match.group(g)) for g in ("y", "m", "d"))
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _go_int(plain: str) -> int | None:
    """The value, or None past :data:`limits.MAX_INT_DIGITS` (far outside
    int64: go-yaml keeps such a scalar as text, and so do we)."""
    sign = -1 if plain.startswith("-") else 1
    digits = plain.lstrip("+-")
    lowered = digits[:2].lower()
    if lowered in ("0x", "0b", "0o"):
        base = {"0x": 16, "0b": 2, "0o": 8}[lowered]
        value = limits.int_or_none(digits[2:], base)
    elif len(digits) > 1 and digits.startswith("0"):
        # The YAML 1.1 octal go-yaml v3 still honours: 0123 is 83.
        value = limits.int_or_none(digits, 8)
    else:
        value = limits.int_or_none(digits)
    return None if value is None else sign * value


def _float(text: str) -> Typed:
    value = float(text)
    if math.isinf(value):
        # strconv.ParseFloat fails with ErrRange, so go-yaml keeps the text.
        return Typed(Kind.STR, text)
    return Typed(Kind.FLOAT, go_float(value))


def go_float(value: float) -> str:
    """Format ``value`` as Go's ``fmt.Sprint`` does (``%g``, shortest digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # position of the decimal point
    exp = point - 1
    if exp < -4 or exp >= 6:  # Go switches to %e from 1e+06 on
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def yaml11_reading(text: str) -> str | None:
    """What a YAML 1.1 reader would make of a plain scalar Compose keeps as
    text (``yes`` -> boolean, ``12:30`` -> base-60 integer), else None."""
    if _YAML11_BOOL.fullmatch(text):
        return "a boolean"
    if _YAML11_SEXAGESIMAL.fullmatch(text):
        return "a base-60 number"
    return None
