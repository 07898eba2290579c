"""Whole commands timed as a user runs them: ``dicomio info FOLDER`` against Python importing
NumPy, each a fresh process, wall time from start to exit (interpreter start-up included)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["dicomio_command", "time_commands"]


def dicomio_command() -> list[str]:
    """How ``dicomio`` is started here: the installed entry point beside this Python (what a
    user types), else ``python -m dicomio``."""
    script = Path(sys.executable).with_name("dicomio")
    if script.exists():
        return [str(script)]
    found = shutil.which("dicomio")
    return [found] if found else [sys.executable, "-m", "dicomio"]


def _wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def time_commands(folder: Path, repeats: int) -> list[dict[str, Any]]:
    """Median wall time of ``dicomio info folder`` and of ``python -c "import numpy"``.

    One untimed run of each first (page cache, byte-compiled modules); then the two alternate
    ``repeats`` times.
    """
    commands = {
        f"dicomio info ({len(list((folder / 'series').iterdir()))} files)":
            [*dicomio_command(), "info", str(folder / "series")],
        'python -c "import numpy"': [sys.executable, "-c", "import numpy"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        _wall_time(command)
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(_wall_time(command))
    return [{"command": name, "argv": commands[name], "times": times[name],
             "median": statistics.median(times[name])} for name in commands]
