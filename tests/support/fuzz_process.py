"""Worker processes: forked for one input each, under a memory cap, killed after a timeout.

A :class:`Child` runs a function in a forked process of its own process group (a timeout kills
what it started too), its output sent to a log (with every thread's traceback on a crash), its
address space capped, and reports through a pipe as JSON lines. :func:`steps_of` turns those
lines, and how the process ended, into each step's outcome: a step that was running when the
process died is a ``crash`` (or ``over budget`` when it died near its memory cap), one still
running at the timeout a ``hang``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fuzz_worker import limit_memory


@dataclass
class Child:
    """A forked process that writes JSON lines to a pipe."""

    pid: int
    pipe: int
    started: float
    buffer: bytes = b""
    lines: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None
    rss_mib: float = 0.0

    @classmethod
    def fork(cls, job: Callable[[Callable[[dict[str, Any]], None]], None], log: Path,
             memory: int) -> Child:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0

            def emit(line: dict[str, Any]) -> None:
                os.write(write, (json.dumps(line, default=str) + "\n").encode())

            try:
                os.close(read)
                os.setpgid(0, 0)  # its own group: a timeout kills what it started too
                _quiet(log)
                limit_memory(memory)
                job(emit)
            except BaseException as error:  # the fuzzer's own failure, reported
                code = 70
                emit({"step": "worker", "phase": "error",
                      "traceback": "".join(traceback.format_exception(error))[-3000:]})
            finally:
                os._exit(code)
        os.close(write)
        return cls(pid, read, time.monotonic())

    def poll(self) -> bool:
        """Read what is there; True once the child has finished."""
        while select.select([self.pipe], [], [], 0)[0]:
            chunk = os.read(self.pipe, 1 << 16)
            if not chunk:
                self._reap()
                return True
            self.buffer += chunk
            *complete, self.buffer = self.buffer.split(b"\n")
            self.lines += [json.loads(line) for line in complete if line.strip()]
        return False

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            os.kill(self.pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        _, status, usage = os.wait4(self.pid, 0)
        os.close(self.pipe)
        self.status = status
        self.rss_mib = round(usage.ru_maxrss / 1024, 1)


def _quiet(log: Path) -> None:
    """Send the child's output to ``log``, with a traceback of every thread on a crash."""
    import faulthandler
    import warnings

    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    faulthandler.enable(file=sys.stderr, all_threads=True)
    warnings.simplefilter("ignore")


def wait(child: Child, timeout: float) -> bool:
    """Wait for ``child``; kill it after ``timeout`` seconds. True when it finished."""
    while not child.poll():
        if time.monotonic() - child.started > timeout:
            child.kill()
            return False
        select.select([child.pipe], [], [], 0.01)
    return True


def steps_of(child: Child, finished: bool, timeout: float, memory: int) -> dict[str, Any]:
    """Each step's outcome from the child's lines, the step it died in included."""
    steps: dict[str, dict[str, Any]] = {}
    running = None
    for line in child.lines:
        if line.get("phase") == "error":
            steps["worker"] = {"outcome": "fuzzer error", "detail": "the fuzzer's worker failed",
                               "traceback": line.get("traceback")}
        elif line.get("phase") == "start":
            running = line["step"]
        else:
            steps[line["step"]] = {k: v for k, v in line.items() if k not in ("step", "phase")}
            running = None
    if running is not None:
        if not finished:
            steps[running] = {"outcome": "hang", "detail": f"no answer in {timeout:g} s"}
        elif child.status is not None and os.WIFSIGNALED(child.status):
            number = os.WTERMSIG(child.status)
            name = signal.Signals(number).name
            near = child.rss_mib * (1 << 20) > 0.9 * memory
            steps[running] = {"outcome": "over budget" if near or number == signal.SIGKILL
                              else "crash", "detail": f"killed by {name}",
                              "peak_mib": child.rss_mib}
        else:
            steps[running] = {"outcome": "crash", "detail": f"worker exited ({child.status})"}
    elif finished and child.status and "worker" not in steps:
        steps["worker"] = {"outcome": "fuzzer error", "detail": f"status {child.status}"}
    return steps
