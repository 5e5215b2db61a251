"""How the formats write a report's run metadata (:class:`~awgcheck.model.RunMeta`):
the timestamp forms, and the one footer line of the human formats."""

from __future__ import annotations

import datetime as dt

from awgcheck.model import RunMeta

SHORT_DIGEST = 12
"""Hex digits of the rules digest the human formats show (JSON and SARIF
carry it whole)."""


def utc_stamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC to the millisecond: ``2025-05-01T02:03:04.567Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def short_digest(digest: str) -> str:
    """``sha256:0123456789ab``: enough to tell two rule sets apart by eye."""
    algorithm, _, hex_digits = digest.partition(":")
    return f"{algorithm}:{hex_digits[:SHORT_DIGEST]}" if hex_digits else digest


def footer(run: RunMeta) -> str:
    """``awgcheck 0.2.0, 2025-...Z to 2025-...Z (3.2 s), inventory fleet.yaml,
    rules sha256:0123456789ab``."""
    inventory = f", inventory {run.inventory}" if run.inventory else ""
    return (f"awgcheck {run.version}, {utc_stamp(run.started_at)} to "
            f"{utc_stamp(run.finished_at)} ({run.duration_s:g} s){inventory}, "
            f"rules {short_digest(run.rules_digest)}")
