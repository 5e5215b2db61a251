"""Process exit codes, documented in the README; scripts depend on them."""

from __future__ import annotations

OK = 0
"""Everything was checked and passed."""
FAILED = 1
"""At least one failure at or above --fail-on."""
USAGE = 2
"""Usage, inventory or rule error: nothing was checked."""
UNCHECKED = 4
"""No failures, but at least one node could not be checked."""
FAILED_AND_UNCHECKED = 5
"""Failures, and at least one node could not be checked."""


def for_outcome(*, failed: bool, unchecked: bool) -> int:
    if failed and unchecked:
        return FAILED_AND_UNCHECKED
    if unchecked:
        return UNCHECKED
    return FAILED if failed else OK
