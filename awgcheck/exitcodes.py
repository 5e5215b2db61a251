"""Process exit codes, documented in the README; scripts depend on them."""

from __future__ import annotations

OK = 0
"""Everything was checked and passed."""
FAILED = 1
"""At least one failure at or above --fail-on."""
USAGE = 2
"""Usage, inventory or rule error: nothing was checked."""
UNCHECKED = 4
"""No failures, but at least one node (or the source of truth) could not be
checked."""
FAILED_AND_UNCHECKED = 5
"""Failures, and at least one node (or the source of truth) could not be
checked."""
VERIFY_DRIFT = 10
"""``verify``: the conf differs from the source, or breaks a shipped rule
(constraints, does not load)."""
VERIFY_NOT_APPLIED = 11
"""``verify``: the conf is right, the running interface still runs other
values (not recreated after the edit)."""
VERIFY_NO_TRAFFIC = 12
"""``verify --probe``: params agree, but nothing came back through the
tunnel."""
INTERRUPTED = 130
"""Stopped by SIGINT (Ctrl+C) before the report was written: 128 + 2, as a
shell reports a process the signal killed."""
TERMINATED = 143
"""Stopped by SIGTERM (a CI runner cancelling the job): 128 + 15."""


def for_signal(signum: int) -> int:
    """The exit code of a run stopped by ``signum``: 128 + its number."""
    return 128 + signum


def for_outcome(*, failed: bool, unchecked: bool) -> int:
    if failed and unchecked:
        return FAILED_AND_UNCHECKED
    if unchecked:
        return UNCHECKED
    return FAILED if failed else OK
