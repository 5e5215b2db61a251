"""The one way awgcheck draws a text table.

``tabulate`` guesses numbers in cells (and calls ``float()`` on a value
holding an escape code, which raises) and wraps long cells in quadratic
time (a 1 MB value took 17 s). Every table goes through :func:`grid`:
numbers are never parsed, and a cell longer than
:data:`awgcheck.limits.MAX_CELL_CHARS` is cut, saying how much was left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from awgcheck import limits


def clip(text: object, limit: int = limits.MAX_CELL_CHARS) -> str:
    """``text`` as a cell: at most ``limit`` characters plus a note."""
    shown = "" if text is None else str(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... ({len(shown) - limit:,} more characters)"


def grid(rows: Sequence[Sequence[object]], headers: Sequence[str], **options: Any) -> str:
    """``tabulate(rows, headers, **options)`` with clipped cells and no number parsing."""
    clipped = [[clip(cell) for cell in row] for row in rows]
    return tabulate(clipped, headers=list(headers), disable_numparse=True, **options)
