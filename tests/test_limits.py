"""dicomio.limits: a call within a time limit and a memory ceiling, in any thread or process.

The functions of tests/support/misbehaving.py misbehave on purpose on the item ``"bad"`` (a
Python loop without end, an allocation of 8 GiB) and return any other item unchanged.
"""

from __future__ import annotations

import multiprocessing
import time

from dicomio.limits import Limited, Overrun, limit_memory
from tests.support.misbehaving import endless, hungry


def test_a_limited_call_in_this_thread_is_interrupted() -> None:
    start = time.monotonic()
    assert Limited(endless, 0.3)("bad") == Overrun("time")
    assert time.monotonic() - start < 3
    assert Limited(endless, 0.3)("a") == "a"


def test_a_limited_call_in_another_thread_is_interrupted() -> None:
    """As on a Dask worker: no signal there, an asynchronous exception instead."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as threads:
        start = time.monotonic()
        assert threads.submit(Limited(endless, 0.3), "bad").result(timeout=10) \
            == Overrun("time")
    assert time.monotonic() - start < 3


def test_the_task_cannot_catch_its_interruption() -> None:
    """A task's own ``except Exception`` (a task turning every failure into a finding) does
    not swallow the time limit."""
    def careful(item: str) -> str:
        try:
            return endless(item)
        except Exception:
            return "caught"

    assert Limited(careful, 0.3)("bad") == Overrun("time")


def test_a_worker_process_cannot_map_more_than_its_ceiling() -> None:
    """limit_memory in a fresh process: 8 GiB fails there with MemoryError, not here."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1, initializer=limit_memory, initargs=(1024,)) as workers:
        assert workers.apply(Limited(hungry), ("bad",)) == Overrun("memory")
        assert workers.apply(Limited(hungry), ("a",)) == "a"
