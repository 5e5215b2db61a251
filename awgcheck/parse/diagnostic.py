"""The diagnostic type the compose and dotenv readers report.

A diagnostic is what the reader noticed about a file: a value Compose would
read differently from what its author likely meant, or a construct that
makes ``docker compose`` itself fail. Rules turn them into findings; the
reader itself never raises for a problem that lives in the node's files.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from awgcheck.model import Location


class Level(enum.StrEnum):
    """How much a diagnostic matters to the stack on the node."""

    ERROR = "error"
    """``docker compose`` would refuse the project (e.g. missing required var)."""
    WARNING = "warning"
    """Compose runs, but likely not with the value the author meant."""


@dataclass(frozen=True)
class Diagnostic:
    """One thing noticed in a file, with the place it was noticed."""

    location: Location
    code: str
    message: str
    level: Level = Level.WARNING

    def __str__(self) -> str:
        return f"{self.location}: {self.code}: {self.message}"
