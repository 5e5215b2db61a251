"""Validation helpers shared by the check types' option parsers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from awgcheck.errors import RuleError


def one_of(where: str, options: Mapping[str, Any], key: str, allowed: Sequence[str],
           default: str | None = None) -> Any:
    """The option's value (or ``default``); a value outside ``allowed`` is a
    rule error naming the key and the choices."""
    value = options.get(key, default)
    if value is not None and value not in allowed:
        choices = ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 \
            else allowed[0]
        raise RuleError(f"{where}: key '{key}' must be {choices}, got {value!r}")
    return value
