"""Param rotation: a fresh param set (``params generate``) and the steps
that move a fleet from its current params to new ones (``plan``)."""

from __future__ import annotations

from awgcheck.errors import AwgcheckError


class RotationError(AwgcheckError):
    """A param set could not be generated, or a plan could not be made
    (new params that break a rule, a source that cannot be read)."""
