"""Counted nouns in human output: ``1 node``, ``2 nodes``, never ``1 nodes``
or ``node(s)``."""

from __future__ import annotations

_IRREGULAR = {"critical": "critical", "info": "info"}
"""Words that stay as they are: severities used as nouns (``2 critical``)."""


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, the noun in the plural unless it is one:
    ``count(1, "node")`` is ``1 node``, ``count(3, "node")`` ``3 nodes``."""
    if number == 1:
        return f"{number} {noun}"
    return f"{number} {plural or _IRREGULAR.get(noun, noun + 's')}"
