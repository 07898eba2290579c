"""What one job of an archive run may cost: a time limit per job, a memory ceiling per worker.

One series can take far longer or far more memory than its files suggest (a damaged or hostile
header that the header budgets of :mod:`dicomio.dicom.budgets` do not catch, a decoder caught in
a loop). An archive run gives its executor a :class:`Budget`; every job runs within it
(:class:`dicomio.limits.Limited`), and a job over it is not run to its end: it is given up with
a reason (:meth:`Budget.reason`) that its task reports as a finding, while the other jobs go on.

- **Time** (``--series-timeout``): the job is interrupted where it runs Python; in a worker
  process of this machine, native code that does not return is ended too, a grace period later
  (the process ends itself, and the executor, running the job again alone, blames it).
- **Memory** (``--worker-memory``): each worker process of this machine may map at most that
  much (``RLIMIT_AS``, Linux); an allocation beyond fails with ``MemoryError`` instead of making
  the machine swap or the kernel kill a process at random. A ``--scheduler local`` cluster gives
  its workers the same limit (Dask's nanny restarts a worker above it); a running cluster keeps
  its own. ``--workers 1`` works in this process: no ceiling there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dicomio.limits import Overrun

__all__ = ["DEFAULT_SERIES_TIMEOUT", "MIN_WORKER_MEMORY", "Budget", "is_over_budget"]

DEFAULT_SERIES_TIMEOUT = 600.0
"""Seconds one job may run (``--series-timeout``): ten minutes, where reading the largest
series of a few gigabytes takes about one."""

MIN_WORKER_MEMORY = 2048
"""The least default memory ceiling per worker, in MiB (``--worker-memory``); the default is
the machine's memory shared among the workers, but not less than this."""

_MiB = 1 << 20
#: What every reason of a job given up for its budget starts with.
_OVER = "over budget: "


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


@dataclass(frozen=True)
class Budget:
    """The limits of every task of a run.

    Attributes
    ----------
    seconds
        How long one task may run (None: no limit).
    memory_mib
        How much memory each worker process may map, in MiB (None: no ceiling).
    grace
        How much longer than ``seconds`` a task in a worker process of this machine may stay
        in native code before the process ends itself.
    """

    seconds: float | None = DEFAULT_SERIES_TIMEOUT
    memory_mib: int | None = None
    grace: float = 5.0

    @classmethod
    def default(cls, workers: int, seconds: float | None = DEFAULT_SERIES_TIMEOUT,
                memory_mib: int | None = None) -> Budget:
        """The budget of a run on ``workers`` processes, as the options give it.

        Parameters
        ----------
        seconds
            Per task; 0 or None: no limit.
        memory_mib
            Per worker process; None: the machine's memory shared among the workers, at
            least :data:`MIN_WORKER_MEMORY`; 0: no ceiling.
        """
        if memory_mib is None:
            total = _physical_memory()
            share = total // max(workers, 1) // _MiB if total else MIN_WORKER_MEMORY
            memory_mib = max(share, MIN_WORKER_MEMORY)
        return cls(seconds or None, memory_mib or None)

    def over_time(self) -> str:
        """The reason given for a task that ran out of time."""
        return (f"{_OVER}it ran longer than the time limit of {self.seconds:g} s "
                f"(--series-timeout)")

    def over_memory(self) -> str:
        """The reason given for a task that ran out of memory."""
        ceiling = f"the ceiling of {self.memory_mib} MiB per worker" if self.memory_mib \
            else "the memory of this machine"
        return f"{_OVER}it needed more memory than {ceiling} (--worker-memory)"

    def reason(self, overrun: Overrun) -> str:
        """The reason given for a job that reached ``overrun``'s limit."""
        return self.over_time() if overrun.limit == "time" else self.over_memory()


def is_over_budget(reason: str) -> bool:
    """Whether ``lost(item, reason)`` gives up a task for its budget (rather than for its
    worker's death)."""
    return reason.startswith(_OVER)
