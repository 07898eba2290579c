"""How many threads dicomio uses: derived from the cores this process may run on."""

from __future__ import annotations

import os

__all__ = ["decode_workers", "usable_cores"]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def decode_workers() -> int:
    """Threads decoding pixel data: one per usable core (at most 8); decoding is CPU-bound."""
    return max(1, min(usable_cores(), 8))
