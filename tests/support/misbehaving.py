"""Tasks that misbehave on the item ``"bad"`` and return any other item unchanged: what the
time limits and memory ceilings of :mod:`dicomio.limits` and :mod:`dicomio.archive.budget`
must stop. Importable by worker processes."""

from __future__ import annotations

import signal
import time

__all__ = ["endless", "hungry", "stuck_in_native_code"]


def endless(item: str) -> str:
    """A Python loop without end on ``"bad"``."""
    while item == "bad":
        pass
    return item


def stuck_in_native_code(item: str) -> str:
    """On ``"bad"``, a native call that never returns to Python: the alarm is blocked (as
    native code that ignores signals would), then the thread waits without end."""
    if item == "bad":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    return item


def hungry(item: str) -> str | int:
    """On ``"bad"``, 8 GiB of memory."""
    if item == "bad":
        import numpy as np

        return int(np.ones(1 << 30).sum())
    return item
