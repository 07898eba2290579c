"""Scanning a folder that is not in the page cache: have the OS read the next files ahead.

Parsing a header is Python code (it holds the GIL); reading it from the page cache takes a few
microseconds. A pool of threads therefore only adds contention when the files are cached
(measured: 300 files, 16 ms in one thread, 27 ms in four). From a disk or a network share each
read waits instead: ``posix_fadvise(POSIX_FADV_WILLNEED)``, issued by a helper thread, starts the
reads of the next files in the kernel without waiting for them, so the disk works while the
headers are parsed (measured on an uncached folder: 300 files 48 → 19 ms, 1000 files
139 → 65 ms). :class:`WaitProbe` tells the two cases apart on the first files of a scan.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

__all__ = ["PROBE_FILES", "WaitProbe", "read_ahead"]

#: Files read before deciding whether to read ahead.
PROBE_FILES = 32
# A header read from the page cache never waits this long (seconds per file).
_CACHED_WAIT = 30e-6


class WaitProbe:
    """Measures how long this thread waited (wall time minus its own CPU time) in a block."""

    waited: float = 0.0

    def __enter__(self) -> WaitProbe:
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        wall, cpu = time.perf_counter() - self._wall, time.thread_time() - self._cpu
        self.waited = max(0.0, wall - cpu)

    def uncached(self, files: int) -> bool:
        """Whether the block read ``files`` files at a pace only a disk explains."""
        return files > 0 and self.waited > _CACHED_WAIT * files


@contextmanager
def read_ahead(paths: Sequence[Path], nbytes: int) -> Iterator[None]:
    """While the block runs, a helper thread asks the OS to read the first ``nbytes`` of each
    path ahead, in order. Where the OS has no ``posix_fadvise``, nothing is done."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None or not paths:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        for path in paths:
            if stop.is_set():
                return
            try:
                descriptor = os.open(path, os.O_RDONLY)
            except OSError:
                continue  # the scan reports it when it reaches the file
            try:
                advise(descriptor, 0, nbytes, os.POSIX_FADV_WILLNEED)
            except OSError:
                pass
            finally:
                os.close(descriptor)

    helper = threading.Thread(target=run, name="dicomio-readahead", daemon=True)
    helper.start()
    try:
        yield
    finally:
        stop.set()
        helper.join()
