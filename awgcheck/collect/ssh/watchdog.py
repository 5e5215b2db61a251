"""The per-node deadline of the SSH transport, and how its failures are raised.

paramiko blocks in places a timeout does not reach (channel requests, SFTP
replies, an agent that never signs). A :class:`Watchdog` per node closes
everything registered with it when the node's deadline passes, which wakes
every such wait with an error; callers check :attr:`Watchdog.fired` and
report ``deadline_exceeded`` instead of the error they got.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NoReturn

from awgcheck.errors import CollectError, ErrorClass

log = logging.getLogger(__name__)


class Watchdog:
    """Closes everything registered with it when the node's deadline passes.

    paramiko blocks in places a timeout does not reach (channel requests,
    SFTP replies); closing the transport from another thread wakes them all
    with an error, which callers turn into ``deadline_exceeded``.
    """

    def __init__(self, seconds: float, expires_at: float | None = None) -> None:
        """Fire ``seconds`` from now, or at ``expires_at`` (``time.monotonic()``)
        when given; ``seconds`` is the deadline messages name."""
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds if expires_at is None else expires_at
        self.fired = False
        self._closers: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(self.remaining(), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.expires_at - time.monotonic())

    def watch(self, closer: Callable[[], object]) -> None:
        """Call ``closer`` at the deadline (at once if it already passed)."""
        with self._lock:
            fire_now = self.fired
            if not fire_now:
                self._closers.append(closer)
        if fire_now:
            quietly(closer)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            closers, self._closers = self._closers, []
        for closer in reversed(closers):
            quietly(closer)

    def cancel(self) -> None:
        """The node is done: forget the closers and stop the timer."""
        self._timer.cancel()
        with self._lock:
            self._closers = []


def quietly(func: Callable[[], object]) -> None:
    """Call ``func``, logging (at debug) rather than raising what it raises."""
    try:
        func()
    except Exception:  # closing a half-dead connection may fail; nothing to do
        log.debug("close failed", exc_info=True)


def fail(where: str, message: str, error_class: ErrorClass) -> NoReturn:
    """Raise the CollectError ``where: message`` of ``error_class``."""
    raise CollectError(f"{where}: {message}", error_class=error_class)


def not_utf8(where: str, during: str) -> NoReturn:
    """Raise ``handshake_failed``: paramiko could not decode text the server
    sent during ``during`` (a banner line, a disconnect reason, a list of
    methods), so its transport died with a UnicodeDecodeError."""
    fail(where, f"SSH {during} failed: the server sent text that is not UTF-8 (not an SSH "
                "server?)", ErrorClass.HANDSHAKE_FAILED)


def deadline_exceeded(where: str, dog: Watchdog) -> NoReturn:
    """Raise ``deadline_exceeded`` for ``where``: the watchdog fired (or is about to)."""
    fail(where, f"node deadline of {dog.seconds:g}s exceeded", ErrorClass.DEADLINE_EXCEEDED)
