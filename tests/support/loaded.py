"""Run in a worker process: whether it has imported a module. This module imports nothing
else, so that sending the function to a worker imports nothing either."""

from __future__ import annotations

import sys


def imported(name: str) -> bool:
    """Whether module ``name`` is imported in this process."""
    return name in sys.modules
