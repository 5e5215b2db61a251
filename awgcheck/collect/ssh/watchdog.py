"""The per-node deadline of the SSH transport, and how its failures are raised.

paramiko blocks in places a timeout does not reach (channel requests, SFTP
replies, an agent that never signs). A :class:`Watchdog` per node closes
everything registered with it when the node's deadline passes, which wakes
every such wait with an error; callers check :attr:`Watchdog.fired` and
report ``deadline_exceeded`` instead of the error they got.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import NoReturn

from awgcheck.errors import CollectError, ErrorClass

log = logging.getLogger(__name__)


class _Clock:
    """One thread that fires every watchdog of the process when its time
    comes.

    A ``threading.Timer`` per node cost a thread start per node (a fleet
    of 1,000 started 1,000 threads that almost never fire) and a third
    more threads for the interpreter to hand its lock between. Watchdogs
    wait in a heap by expiry instead; a cancelled one is dropped when it
    reaches the top. Firing closes sockets and stops paramiko threads,
    which may block, so each firing gets its own short-lived thread and
    the clock stays on time for the others.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def reset(self) -> None:
        """Start afresh: a forked child has the parent's heap and lock but
        not its clock thread, and would otherwise never fire a deadline."""
        self._heap = []
        self._wake = threading.Condition()
        self._thread = None

    def add(self, dog: Watchdog) -> None:
        with self._wake:
            heapq.heappush(self._heap, (dog.expires_at, next(self._order), dog))
            if self._thread is None or not self._thread.is_alive():
                # Started here, and again should it ever have died: a clock
                # that is gone would leave every later deadline unfired.
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="awgcheck-deadlines")
                self._thread.start()
            elif self._heap[0][2] is dog:
                self._wake.notify()  # sooner than what the clock waits for

    def _run(self) -> None:
        while True:
            with self._wake:
                due = self._due()
            for dog in due:
                try:
                    threading.Thread(target=dog.fire, daemon=True,
                                     name="awgcheck-deadline").start()
                except RuntimeError:  # no thread to be had: fire here, late for none
                    dog.fire()

    def _due(self) -> list[Watchdog]:
        """Wait (holding the condition) until a watchdog is due; return the
        due ones that were not cancelled."""
        while True:
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            if not self._heap:
                self._wake.wait()
                continue
            wait = self._heap[0][0] - time.monotonic()
            if wait > 0:
                self._wake.wait(wait)
                continue
            due = []
            while self._heap and self._heap[0][0] <= time.monotonic():
                dog = heapq.heappop(self._heap)[2]
                if not dog.cancelled:
                    due.append(dog)
            if due:
                return due


_CLOCK = _Clock()
os.register_at_fork(after_in_child=_CLOCK.reset)


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
        self.cancelled = False
        self._closers: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        _CLOCK.add(self)

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

    def fire(self) -> None:
        """The deadline passed: close everything watched, newest first."""
        with self._lock:
            if self.cancelled:
                return
            self.fired = True
            closers, self._closers = self._closers, []
        for closer in reversed(closers):
            quietly(closer)

    def cancel(self) -> None:
        """The node is done: forget the closers; the deadline will not fire."""
        with self._lock:
            self.cancelled = True
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
