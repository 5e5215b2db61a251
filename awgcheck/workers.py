"""Bounded concurrency with a hard deadline per item, on daemon threads.

``concurrent.futures`` joins its worker threads at interpreter exit, so a
node stuck in a blocking read would hang the whole audit after the report
was printed. Daemon threads are abandoned instead: a node that overruns
its deadline is reported as such, a fresh worker takes its slot, and the
run finishes on time. An item whose work raises gets a result too: a
worker that died with it would leave the item to wait out the deadline.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T]):
    def __init__(self, index: int, item: T) -> None:
        self.index = index
        self.item = item
        self.started = time.monotonic()


def run_bounded(items: Sequence[T], work: Callable[[T], R], *, concurrency: int,
                deadline: float, on_overrun: Callable[[T], R],
                on_error: Callable[[T, Exception], R],
                on_result: Callable[[R], None] | None = None) -> list[R]:
    """``work(item)`` for every item, at most ``concurrency`` at once.

    An item still running ``deadline`` seconds after it started gets
    ``on_overrun(item)`` as its result; its thread is left behind. An item
    whose ``work`` raises gets ``on_error(item, exception)`` as its result
    at once, and its worker goes on with the next item.
    """
    results: dict[int, R] = {}
    todo: queue.Queue[tuple[int, T] | None] = queue.Queue()
    done: queue.Queue[tuple[int, R]] = queue.Queue()
    running: dict[int, _Slot[T]] = {}
    lock = threading.Lock()
    for pair in enumerate(items):
        todo.put(pair)

    def worker() -> None:
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            if job is None:
                return
            index, item = job
            with lock:
                running[index] = _Slot(index, item)
            try:
                result = work(item)
            except Exception as exc:
                result = on_error(item, exc)
            done.put((index, result))

    def start_worker() -> None:
        threading.Thread(target=worker, daemon=True, name="awgcheck-node").start()

    for _ in range(max(1, min(concurrency, len(items)))):
        start_worker()
    while len(results) < len(items):
        try:
            index, result = done.get(timeout=0.2)
        except queue.Empty:
            pass
        else:
            if index not in results:
                results[index] = result
                with lock:
                    running.pop(index, None)
                if on_result is not None:
                    on_result(result)
        now = time.monotonic()
        with lock:
            overdue = [s for s in running.values() if now - s.started > deadline]
            for slot in overdue:
                running.pop(slot.index)
        for slot in overdue:
            if slot.index not in results:
                results[slot.index] = on_overrun(slot.item)
                if on_result is not None:
                    on_result(results[slot.index])
                start_worker()  # the stuck thread keeps its slot; add one back
    return [results[i] for i in range(len(items))]
