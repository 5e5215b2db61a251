"""Where a human report goes, and so how it is drawn: its width and colour.

The width is ``--width N``; else ``COLUMNS``; else the terminal's width
when stdout is one; else :data:`~awgcheck.report.layout.DEFAULT_WIDTH`
(a pipe, CI logs). A report written to ``--output FILE`` never asks the
terminal.

Colour (``--color``): ``never``; ``always`` on stdout; ``auto`` (the
default) only when stdout is a terminal, ``NO_COLOR`` is unset or empty
(https://no-color.org) and ``TERM`` is not ``dumb``. A report written to
``--output FILE`` is never coloured: files are plain text.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from awgcheck.report.layout import DEFAULT_WIDTH, Layout

COLOUR_CHOICES = ("auto", "always", "never")


@dataclass(frozen=True)
class Screen:
    """What ``--width`` and ``--color`` asked for, before the target is known."""

    width: int | None = None
    colour: str = "auto"

    def layout(self, target: Path | None = None) -> Layout:
        """How a report is drawn for stdout (``target`` None) or a file."""
        terminal = target is None and _stdout_is_terminal()
        return Layout(self._width(terminal), target is None and self._colour(terminal))

    def _width(self, terminal: bool) -> int:
        if self.width is not None:
            return self.width
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return int(columns)
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns if terminal \
            else DEFAULT_WIDTH

    def _colour(self, terminal: bool) -> bool:
        if self.colour != "auto":
            return self.colour == "always"
        return (terminal and not os.environ.get("NO_COLOR")
                and os.environ.get("TERM") != "dumb")


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False
