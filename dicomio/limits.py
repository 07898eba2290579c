"""Run a function within a time limit and a memory ceiling, where it runs: the mechanics.

Nothing here knows what runs. :class:`Limited` wraps a function: it returns the function's
result, or an :class:`Overrun` saying which limit the call reached.

- **Time**: the call is interrupted where it runs Python: ``SIGALRM`` in a process's main thread
  (it also interrupts a blocking system call), an asynchronous exception (CPython's
  ``PyThreadState_SetAsyncExc``) in any other thread, such as a Dask worker's. With a
  ``grace``, the process also ends itself that much later if the call has not returned to
  Python by then (native code that never does): :mod:`faulthandler`'s watchdog is a thread of
  its own that needs no Python lock. Only for a process that runs one call at a time and can be
  replaced: a worker of a process pool.
- **Memory**: :func:`limit_memory` caps what the process may map (``RLIMIT_AS``, Linux): an
  allocation beyond fails with ``MemoryError``, which the call reports as an overrun.

The interruption is a ``BaseException``, so that the function's own ``except Exception``
clauses let it through.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Generic, Literal, TypeVar

__all__ = ["Limited", "Overrun", "limit_memory"]

Item = TypeVar("Item")
Result = TypeVar("Result")
_MiB = 1 << 20


@dataclass(frozen=True)
class Overrun:
    """What a :class:`Limited` call returns instead of its result: the limit it reached."""

    limit: Literal["time", "memory"]


class _OutOfTime(BaseException):
    """Raised in a call at its time limit."""


def limit_memory(mib: int | None) -> None:
    """Let this process map at most ``mib`` MiB (None: leave it as it is). Meant for a worker
    process's initializer."""
    if mib is None:
        return
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mib * _MiB if hard == resource.RLIM_INFINITY else min(mib * _MiB, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


@dataclass(frozen=True)
class Limited(Generic[Item, Result]):
    """``function`` within ``seconds`` (None: no time limit): its result, or :class:`Overrun`.

    ``grace``: end this process if the call runs that much past its limit without returning
    to Python (None: never; see the module's docstring).
    """

    function: Callable[[Item], Result]
    seconds: float | None = None
    grace: float | None = None

    def __call__(self, item: Item) -> Result | Overrun:
        try:
            if self.seconds is None:
                return self.function(item)
            with _time_limit(self.seconds, self.grace):
                return self.function(item)
        except _OutOfTime:
            return Overrun("time")
        except MemoryError:
            return Overrun("memory")


_sink: IO[Any] | None = None


def _watchdog_sink() -> IO[Any]:
    """Where the watchdog writes the traceback it dumps before ending the process: nowhere."""
    global _sink
    if _sink is None:
        _sink = open(os.devnull, "w")  # noqa: SIM115 - kept open for the watchdog
    return _sink


def _out_of_time(signum: int, frame: object) -> None:
    raise _OutOfTime


@contextmanager
def _time_limit(seconds: float, grace: float | None) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in this thread after ``seconds``; with a ``grace``, end the
    process that much later if the thread has not returned to Python."""
    if grace is not None:
        faulthandler.dump_traceback_later(seconds + grace, exit=True, file=_watchdog_sink())
    try:
        if threading.current_thread() is threading.main_thread() and \
                hasattr(signal, "setitimer"):
            previous = signal.signal(signal.SIGALRM, _out_of_time)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                yield
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        else:
            with _deadline_in_thread(seconds):
                yield
    finally:
        if grace is not None:
            faulthandler.cancel_dump_traceback_later()


@contextmanager
def _deadline_in_thread(seconds: float) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in this (not main) thread after ``seconds``, when it next runs
    Python: CPython's asynchronous exception, set by a timer thread."""
    target, lock, running = threading.get_ident(), threading.Lock(), [True]

    def expire() -> None:
        with lock:
            if running[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target),
                                                           ctypes.py_object(_OutOfTime))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:  # after this, the timer can no longer raise here
            running[0] = False
        timer.cancel()
