"""The per-node deadline: every watchdog shares one clock thread, fires at
its own time whatever order they were made in, and a cancelled one never
fires."""

from __future__ import annotations

import threading
import time

import pytest

from awgcheck.collect.ssh.watchdog import Watchdog


def _closed_at(events: dict[str, float], name: str) -> None:
    events[name] = time.monotonic()


def test_watchdogs_fire_in_deadline_order_not_creation_order() -> None:
    events: dict[str, float] = {}
    start = time.monotonic()
    late = Watchdog(0.6)
    late.watch(lambda: _closed_at(events, "late"))
    early = Watchdog(0.2)  # made after the late one, due before it
    early.watch(lambda: _closed_at(events, "early"))
    deadline = time.monotonic() + 5
    while len(events) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert early.fired and late.fired
    assert 0.2 <= events["early"] - start < events["late"] - start
    assert events["late"] - start >= 0.6


def test_a_cancelled_watchdog_never_closes_anything() -> None:
    closed: list[str] = []
    dog = Watchdog(0.1)
    dog.watch(lambda: closed.append("cancelled"))
    dog.cancel()
    witness = Watchdog(0.2)
    witness.watch(lambda: closed.append("witness"))
    deadline = time.monotonic() + 5
    while not closed and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    assert closed == ["witness"]
    assert not dog.fired


def test_a_watchdog_past_its_deadline_closes_what_it_is_given_at_once() -> None:
    dog = Watchdog(0.0)
    deadline = time.monotonic() + 5
    while not dog.fired and time.monotonic() < deadline:
        time.sleep(0.01)
    closed: list[int] = []
    dog.watch(lambda: closed.append(1))
    assert dog.fired and closed == [1]


def test_many_watchdogs_share_one_thread() -> None:
    before = threading.active_count()
    dogs = [Watchdog(60) for _ in range(200)]
    assert threading.active_count() <= before + 1  # the clock, if not running yet
    for dog in dogs:
        dog.cancel()


def test_a_closer_that_blocks_does_not_hold_back_the_other_deadlines() -> None:
    release = threading.Event()
    closed: list[str] = []
    stuck = Watchdog(0.05)
    stuck.watch(lambda: release.wait(5))
    other = Watchdog(0.2)
    other.watch(lambda: closed.append("other"))
    deadline = time.monotonic() + 3
    while not closed and time.monotonic() < deadline:
        time.sleep(0.02)
    release.set()
    assert closed == ["other"]


def test_a_forked_child_gets_a_clock_of_its_own() -> None:
    """The parent's clock thread does not exist in a forked child: its
    deadlines still fire there."""
    import os

    Watchdog(60)  # the parent's clock is running
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a deadline fires
        dog = Watchdog(0.1)
        deadline = time.monotonic() + 5
        while not dog.fired and time.monotonic() < deadline:
            time.sleep(0.02)
        os._exit(0 if dog.fired else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_deadline_fires_even_when_no_thread_can_be_started(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of threads (a high --concurrency), the clock fires the deadline
    itself rather than dying and leaving every later one unfired."""
    Watchdog(60)  # the clock is running before threads run out
    real_start = threading.Thread.start

    def refuse(thread: threading.Thread) -> None:
        if thread.name == "awgcheck-deadline":
            raise RuntimeError("can't start new thread")
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", refuse)
    first, second = Watchdog(0.05), Watchdog(0.15)
    deadline = time.monotonic() + 5
    while not (first.fired and second.fired) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.fired and second.fired
