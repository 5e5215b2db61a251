"""What every document a rule can read has in common."""

from __future__ import annotations

from typing import Protocol

from awgcheck.model import ParamValue


class ParamDocument(Protocol):
    """Anything that states interface params: a conf, a runtime view, a
    params document."""

    @property
    def path(self) -> str: ...

    def params(self) -> dict[str, ParamValue]: ...
