"""run_bounded: every item gets a result, on time, whatever its work does."""

from __future__ import annotations

import threading
import time

from awgcheck import workers


def test_run_bounded_work_that_raises_becomes_a_result_at_once() -> None:
    # One worker for three items: it must survive the exception and go on,
    # or items 2 and 3 would wait out the 30 s deadline.
    def work(item: int) -> str:
        if item == 1:
            raise RuntimeError("boom")
        return f"ok {item}"

    started = time.monotonic()
    results = workers.run_bounded(
        [1, 2, 3], work, concurrency=1, deadline=30.0,
        on_overrun=lambda item: f"overrun {item}",
        on_error=lambda item, exc: f"error {item}: {type(exc).__name__}: {exc}")
    assert results == ["error 1: RuntimeError: boom", "ok 2", "ok 3"]
    assert time.monotonic() - started < 5.0


def test_run_bounded_error_results_reach_on_result_like_any_other() -> None:
    seen: list[str] = []

    def work(item: int) -> str:
        raise ValueError(str(item))

    results = workers.run_bounded(
        [1, 2], work, concurrency=2, deadline=30.0, on_overrun=lambda item: "overrun",
        on_error=lambda item, exc: f"error {exc}", on_result=seen.append)
    assert results == ["error 1", "error 2"]
    assert sorted(seen) == results


def test_run_bounded_stuck_item_is_overrun_and_the_rest_finish() -> None:
    release = threading.Event()

    def work(item: int) -> str:
        if item == 0:
            release.wait(10)
        return f"ok {item}"

    try:
        results = workers.run_bounded(
            [0, 1], work, concurrency=1, deadline=0.5, on_overrun=lambda item: "overrun",
            on_error=lambda item, exc: "error")
    finally:
        release.set()
    assert results == ["overrun", "ok 1"]
