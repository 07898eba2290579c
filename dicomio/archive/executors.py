"""Where the work on an archive runs: in this process, in a pool of processes, on Dask.

An :class:`Executor` maps a pure function over a list of items and yields ``(position,
result)`` pairs as the results come (in any order; :func:`in_order` restores the list's). It
keeps at most a few items per worker in flight, so that the memory in use is that of the
series being read, never the archive's. A worker that dies (killed, out of memory, a crash in a
decoder's native code) loses nothing:

- :class:`ProcessExecutor` (``--workers N``): the pool breaks, every item that was in flight
  is run again, each alone in a fresh process, so that only the item that kills its worker
  again is blamed; that one gets ``lost(item, reason)``, built in this process.
- :class:`DaskExecutor` (``--scheduler``): the scheduler reschedules what ran on the dead
  worker (up to ``distributed.scheduler.allowed-failures`` times, 3 by default); an item it
  gives up on (``KilledWorker``) gets ``lost(item, reason)``.
- :class:`SerialExecutor` (``--workers 1``): nothing to survive, the work runs here.

Every executor runs each item within a :class:`~dicomio.archive.budget.Budget` (a time limit,
and a memory ceiling per worker process; :mod:`dicomio.limits` does it where the item runs,
and knows nothing of archives, so a worker imports no more than before): an item over it gets
``lost(item, reason)`` with a reason :func:`~dicomio.archive.budget.is_over_budget` recognises,
and the others go on. A
scheduler's address is checked before Dask is given it (:mod:`dicomio.archive.scheduler`).

Functions and items must be picklable, and importable where they run: Dask workers need
dicomio installed (the ``dask`` extra), of the same version. Nothing here imports Dask unless a
scheduler is asked for.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dicomio._version import __version__
from dicomio.archive.budget import Budget
from dicomio.archive.scheduler import dask_client
from dicomio.errors import SchedulerError
from dicomio.extras import pip_install
from dicomio.limits import Limited, Overrun, limit_memory
from dicomio.parallel import usable_cores
from dicomio.sources.web_settings import carried

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["DIED", "DaskExecutor", "Executor", "ProcessExecutor", "SerialExecutor",
           "in_order", "open_executor", "run_in_order"]

Item = TypeVar("Item")
Result = TypeVar("Result")
#: Why an item was given up: the same words whatever ran it, so reports stay identical.
DIED = "its worker process died on every attempt"


class Executor(Protocol):
    """Runs ``function(item)`` for each item, somewhere."""

    #: How many items run at once.
    workers: int
    #: Whether items run side by side in other processes (each should then use one thread).
    parallel: bool

    def describe(self) -> str:
        """Where the work runs, for people (``"2 worker processes"``)."""
        ...

    def check_paths(self, paths: Sequence[Path]) -> None:
        """Raise :class:`SchedulerError` when a worker does not see one of ``paths``."""
        ...

    def map(self, function: Callable[[Item], Result], items: Sequence[Item],
            lost: Callable[[Item, str], Result]) -> Iterator[tuple[int, Result]]:
        """Yield ``(position, function(item))`` as results come; ``lost(item, DIED)`` for an
        item whose worker died on every attempt."""
        ...


def _settled(result: Result | Overrun, item: Item, lost: Callable[[Item, str], Result],
             budget: Budget) -> Result:
    """A limited item's result, or ``lost(item, reason)`` when it went over its budget."""
    return lost(item, budget.reason(result)) if isinstance(result, Overrun) else result


def _limited(function: Callable[[Item], Result], budget: Budget, hard: bool = False
             ) -> Limited[Item, Result]:
    """``function`` within ``budget``'s time (``hard``: ending the worker process when it
    does not return)."""
    return Limited(function, budget.seconds, budget.grace if hard else None)


class SerialExecutor:
    """Everything in this process, one item after another, each within ``budget``'s time
    (there is no memory ceiling in this process)."""

    workers = 1
    parallel = False

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()

    def describe(self) -> str:
        return "this process"

    def check_paths(self, paths: Sequence[Path]) -> None:
        pass

    def map(self, function: Callable[[Item], Result], items: Sequence[Item],
            lost: Callable[[Item, str], Result]) -> Iterator[tuple[int, Result]]:
        limited = _limited(function, self.budget)
        for position, item in enumerate(items):
            yield position, _settled(limited(item), item, lost, self.budget)


def _process_context() -> Any:
    """Fresh processes, not forks of this one: forking a process that runs threads (a
    progress bar, a decoder's pool) can deadlock the child. Where there is a fork server it
    imports dicomio once, and every worker starts as a copy of it instead of importing it
    again (a quarter of a second of CPU each, with NumPy: most of what any task imports; the
    server is started once, by the first pool). The tasks' own modules are not named: the
    executor knows nothing of what it runs."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["dicomio"])
    return context


class ProcessExecutor:
    """A pool of ``workers`` processes on this machine.

    At most ``2 × workers`` items are in flight. When a worker process dies the pool breaks;
    the items that were in flight are then run again one at a time, each alone in a fresh
    process, and an item whose process dies a second time is given up (``lost``): for its
    time limit when it ran that long, else as ``DIED``. Items that had finished are kept, so no
    item is run to completion twice nor reported twice. Each worker process may map at most
    ``budget.memory_mib``.
    """

    parallel = True

    def __init__(self, workers: int, budget: Budget | None = None) -> None:
        self.workers = workers
        self.budget = budget or Budget()
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> str:
        return f"{self.workers} worker processes"

    def check_paths(self, paths: Sequence[Path]) -> None:
        pass

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=_process_context(),
                                   initializer=limit_memory, initargs=(self.budget.memory_mib,))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map(self, function: Callable[[Item], Result], items: Sequence[Item],
            lost: Callable[[Item, str], Result]) -> Iterator[tuple[int, Result]]:
        limited = _limited(function, self.budget, hard=True)
        waiting = deque(range(len(items)))
        running: dict[Future[Result | Overrun], int] = {}
        while waiting or running:
            try:
                self._submit(limited, items, waiting, running)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()  # BrokenProcessPool when a worker died
                    position = running.pop(future)
                    yield position, _settled(result, items[position], lost, self.budget)
            except BrokenProcessPool:  # noticed by a result, or by submit
                yield from self._recover(limited, items, running, lost)

    def _submit(self, function: Callable[[Item], Result | Overrun], items: Sequence[Item],
                waiting: deque[int], running: dict[Future[Result | Overrun], int]) -> None:
        """Keep ``2 × workers`` items in flight (a new pool if the last one broke)."""
        if self._pool is None:
            self._pool = self._new_pool(self.workers)
        while waiting and len(running) < 2 * self.workers:
            running[self._pool.submit(function, items[waiting[0]])] = waiting[0]
            waiting.popleft()

    def _recover(self, function: Callable[[Item], Result | Overrun], items: Sequence[Item],
                 running: dict[Future[Result | Overrun], int],
                 lost: Callable[[Item, str], Result]) -> Iterator[tuple[int, Result]]:
        """The pool broke: keep what had finished, run what was in flight again, alone."""
        suspects = []
        for future, position in running.items():
            try:
                result = future.result()
            except BrokenProcessPool:
                suspects.append(position)
            else:
                yield position, _settled(result, items[position], lost, self.budget)
        running.clear()
        self.close()
        yield from self._isolated(function, items, sorted(suspects), lost)

    def _isolated(self, function: Callable[[Item], Result | Overrun], items: Sequence[Item],
                  positions: list[int], lost: Callable[[Item, str], Result]
                  ) -> Iterator[tuple[int, Result]]:
        """Run each item alone in a one-process pool: what kills it is its own doing (its
        time limit, when it ran that long: the process ends itself a grace period after)."""
        pool = None
        try:
            for position in positions:
                pool = pool or self._new_pool(1)
                began = time.monotonic()
                try:
                    result = _settled(pool.submit(function, items[position]).result(),
                                      items[position], lost, self.budget)
                except BrokenProcessPool:
                    pool.shutdown(wait=True)
                    pool = None
                    limit = self.budget.seconds
                    late = limit is not None and time.monotonic() - began >= limit
                    result = lost(items[position], self.budget.over_time() if late else DIED)
                yield position, result
        finally:
            if pool is not None:
                pool.shutdown(wait=True)


def _dicomio_version() -> str:
    """Run on a Dask worker: the dicomio version it imports."""
    from dicomio._version import __version__ as version

    return version


def _missing(paths: list[str]) -> list[str]:
    """Run on a Dask worker: the paths it does not see."""
    return [path for path in paths if not os.path.exists(path)]


class DaskExecutor:
    """The workers of a ``dask.distributed`` cluster.

    Consecutive items are run in batches, one task each (:meth:`batch_size`); at most ``4 ×``
    the workers' threads tasks (at least 8) are submitted ahead. Items and results travel
    through the scheduler, so they are kept small: a job carries the paths of its files and
    the workers read them where they see them. A batch Dask gives up on (its worker died
    ``allowed-failures`` times) is split, and its items run again one per task: only an item
    that is given up on alone is ``lost``.
    """

    parallel = True

    def __init__(self, client: Client, address: str, budget: Budget | None = None) -> None:
        self.client = client
        self.address = address
        self.budget = budget or Budget()
        workers = client.scheduler_info()["workers"].values()
        self.workers = max(1, sum(int(w.get("nthreads", 1)) for w in workers))

    def describe(self) -> str:
        return f"the Dask cluster at {self.address} ({self.workers} worker threads)"

    def check_versions(self) -> None:
        """Raise :class:`SchedulerError` unless every worker imports this dicomio version."""
        try:
            versions = self.client.run(_dicomio_version)
        except Exception as exc:  # a worker without dicomio cannot even unpickle the call
            raise SchedulerError(
                f"the workers of {self.address} cannot run dicomio ({type(exc).__name__}: "
                f"{exc}): install dicomio {__version__} there, "
                f"{pip_install('dask', version=__version__)}"
            ) from None
        wrong = {worker: v for worker, v in versions.items() if v != __version__}
        if wrong:
            listed = ", ".join(f"{worker} has {v}" for worker, v in sorted(wrong.items()))
            raise SchedulerError(f"workers must run dicomio {__version__}, as this command "
                                 f"does: {listed}")

    def check_paths(self, paths: Sequence[Path]) -> None:
        missing = self.client.run(_missing, [str(p) for p in paths])
        blind = {worker: found for worker, found in missing.items() if found}
        if blind:
            worker, found = sorted(blind.items())[0]
            raise SchedulerError(
                f"{len(blind)} worker(s) of {self.address} do not see {found[0]} (first: "
                f"{worker}): the workers must see the files under the same paths as this "
                f"command (a shared or mounted file system)")

    def batch_size(self, count: int) -> int:
        """Items per task: about 16 tasks per worker thread, enough to balance the load, few
        enough that Dask's cost per task (milliseconds) is small next to the work."""
        return max(1, count // (16 * self.workers))

    def map(self, function: Callable[[Item], Result], items: Sequence[Item],
            lost: Callable[[Item, str], Result]) -> Iterator[tuple[int, Result]]:
        from distributed import KilledWorker, as_completed

        limited = _limited(function, self.budget)
        size = self.batch_size(len(items))
        waiting = deque(list(range(start, min(start + size, len(items))))
                        for start in range(0, len(items), size))
        positions_of: dict[Any, list[int]] = {}
        completed = as_completed(with_results=True, raise_errors=False)

        def submit() -> None:
            # Waiting tasks are only paths (pixels exist while a task runs, one per worker
            # thread), so a wide window costs no memory and hides the round trips.
            while waiting and len(positions_of) < max(8, 4 * self.workers):
                positions = waiting.popleft()
                future = self.client.submit(_run_batch, limited,
                                            [items[p] for p in positions], pure=False)
                positions_of[future.key] = positions
                completed.add(future)

        submit()
        for future, result in completed:  # results are fetched as tasks finish
            positions = positions_of.pop(future.key)
            if future.cancelled():
                raise result
            if future.status != "error":
                for position, outcome in zip(positions, result, strict=True):
                    yield position, _settled(outcome, items[position], lost, self.budget)
            elif not isinstance(result[1], KilledWorker):
                _, error, traceback = result
                raise error.with_traceback(traceback)  # a bug in the function: stop
            elif len(positions) > 1:  # given up: each item again, alone, to blame only one
                waiting.extendleft([p] for p in reversed(positions))
            else:
                yield positions[0], lost(items[positions[0]], DIED)
            future.release()
            submit()


def _run_batch(function: Callable[[Item], Result], items: list[Item]) -> list[Result]:
    """Run on a Dask worker: ``function`` over a batch of items."""
    return [function(item) for item in items]


def in_order(
    results: Iterator[tuple[int, Result]], count: int
) -> Iterator[tuple[int, Result]]:
    """Yield ``(position, result)`` in list order as soon as every earlier result has come.

    Results that come early wait here; they are small (findings, file names), unlike the work
    itself, which the executors keep bounded.
    """
    early: dict[int, Result] = {}
    following = 0
    for position, result in results:
        early[position] = result
        while following in early:
            yield following, early.pop(following)
            following += 1
    if following != count:
        raise RuntimeError(f"{count - following} result(s) never came")


def run_in_order(
    executor: Executor,
    function: Callable[[Item], Result],
    items: Sequence[Item],
    lost: Callable[[Item, str], Result],
    *,
    progress: Callable[[int, int, str], None] | None = None,
    label: Callable[[Item], str] = str,
) -> Iterator[tuple[int, Result]]:
    """``executor.map`` in list order (:func:`in_order`), calling ``progress(done, total,
    label(item))`` as each result comes. ``function`` runs with the DICOMweb settings in force
    here, wherever it runs (:func:`~dicomio.sources.web_settings.carried`)."""
    function = carried(function)

    def counted() -> Iterator[tuple[int, Result]]:
        for done, (position, result) in enumerate(executor.map(function, items, lost), 1):
            if progress is not None:
                progress(done, len(items), label(items[position]))
            yield position, result

    return in_order(counted(), len(items))


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None,
                  budget: Budget | None = None) -> Iterator[Executor]:
    """The executor for ``--workers``, ``--scheduler``, ``--series-timeout`` and
    ``--worker-memory``.

    Parameters
    ----------
    workers
        Processes on this machine (default: the usable cores); 1 runs everything in this
        process. With ``scheduler="local"``, the number of Dask workers to start.
    scheduler
        None: this machine. ``"local"``: start a ``dask.distributed.LocalCluster`` (one
        thread per worker process). Otherwise the address of a running Dask scheduler
        (``tcp://host:8786``); its workers must see the files under the same paths and run
        the same dicomio.
    budget
        The limits of each item (default: :meth:`Budget.default` for the workers).

    Raises
    ------
    SchedulerError
        Dask is not installed, the address is malformed or refused (see
        :func:`~dicomio.archive.scheduler.probe`), the scheduler cannot be reached, has no
        worker, or its workers run another dicomio.
    """
    count = workers or usable_cores()
    budget = budget or Budget.default(count)
    if scheduler is None:
        if count <= 1:
            yield SerialExecutor(budget)
            return
        pool = ProcessExecutor(count, budget)
        try:
            yield pool
        finally:
            pool.close()
        return
    with dask_client(scheduler, workers, budget) as (client, address):
        try:
            client.wait_for_workers(1, timeout=30)
        except TimeoutError:
            raise SchedulerError(f"the Dask scheduler at {address} has no worker") from None
        executor = DaskExecutor(client, address, budget)
        executor.check_versions()
        yield executor
