"""What the nodes of one run share: connections a transport keeps open
for every node that can use them (the SSH transport's bastions), made on
first use and closed when the run ends.

A run (an audit, one triage, one diff) opens a :class:`RunScope` and
hands it to every node's transport in
:attr:`~awgcheck.collect.base.ConnectOptions.scope`; each transport keeps
its part under its own type, so the scope knows nothing of SSH.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from awgcheck.errors import CollectError, ErrorClass


class Closable(Protocol):
    def close(self) -> None: ...


P = TypeVar("P", bound=Closable)


class RunScope:
    """The run's shared parts, one per type; thread-safe."""

    def __init__(self) -> None:
        self._parts: dict[type, Closable] = {}
        self._lock = threading.Lock()
        self._closed = False

    def part(self, kind: type[P], make: Callable[[], P]) -> P:
        """The run's ``kind``, made by ``make()`` the first time it is asked for."""
        with self._lock:
            if self._closed:
                # A node abandoned past its deadline, still running after
                # the run: it must not open what nobody will close.
                raise CollectError("the run has ended", error_class=ErrorClass.DEADLINE_EXCEEDED)
            found = self._parts.get(kind)
            if found is None:
                found = self._parts[kind] = make()
            assert isinstance(found, kind)
            return found

    def close(self) -> None:
        """Close every part; the scope serves nothing after this."""
        with self._lock:
            self._closed = True
            parts, self._parts = list(self._parts.values()), {}
        for part in parts:
            with contextlib.suppress(Exception):  # one part failing must not keep the others open
                part.close()

    def __enter__(self) -> RunScope:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
