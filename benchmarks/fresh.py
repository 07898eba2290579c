"""One contender's first load in a fresh process: time, CPU time, peak memory, result check.

Usage (run by ``run.py``, one process per measurement)::

    python benchmarks/fresh.py CONTENDER FOLDER TRUTH.npy TOLERANCE

The process imports NumPy and what the contender lists in ``Contender.imports`` (untimed: what
a user has imported before the call), then times the contender's first load alone
(``time.perf_counter`` and ``time.process_time`` around the call), reads its peak resident
memory, and only then compares the result with the truth. It prints one JSON line.

This module imports neither dicomio nor :mod:`generate` (which does), so that a peer's process
holds nothing of dicomio.
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers  # noqa: E402  (the harness folder is not a package)

__all__ = ["high_water_mark", "measure", "run_child"]


def high_water_mark() -> int:
    """Peak resident memory of this process (bytes). Unlike ``ru_maxrss``, the kernel's VmHWM
    starts afresh at ``exec``, so it does not inherit the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(name: str, folder: Path, truth_path: Path, tolerance: int) -> dict[str, Any]:
    """Import what contender ``name`` needs, then time and check its first load of ``folder``."""
    contender = peers.contender(name)
    for module in contender.imports:
        importlib.import_module(module)
    base = high_water_mark()
    cpu, start = time.process_time(), time.perf_counter()
    loaded = contender.load(folder)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = high_water_mark()  # before the check, which allocates
    check = peers.check_against_truth(np.asarray(loaded.array),
                                      np.load(truth_path, mmap_mode="r"), tolerance)
    return {"time": elapsed, "cpu": cpu, "peak": peak, "base": base,
            "array": int(loaded.array.nbytes), "check": check}


def measure(name: str, folder: Path, truth_path: Path, tolerance: int = 0) -> dict[str, Any]:
    """Run :func:`run_child` in a fresh interpreter; its JSON, or ``{"error": why}``."""
    command = [sys.executable, str(Path(__file__).resolve()), name, str(folder), str(truth_path),
               str(tolerance)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    _name, _folder, _truth, _tolerance = sys.argv[1:5]
    print(json.dumps(run_child(_name, Path(_folder), Path(_truth), int(_tolerance))))
