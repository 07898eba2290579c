"""Every executor runs each item within its budget: an item over its time limit or memory
ceiling is given up with a reason saying so, and every other item is done as usual.

The tasks (tests/support/misbehaving.py) misbehave on purpose on the item ``"bad"`` (a Python
loop without end, a native call that never returns to Python, an allocation of gigabytes) and
return any other item unchanged.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dicomio.archive.budget import Budget, is_over_budget
from dicomio.archive.executors import DIED, DaskExecutor, ProcessExecutor, SerialExecutor, in_order
from dicomio.limits import Overrun
from tests.support.misbehaving import endless, hungry, stuck_in_native_code

ITEMS = ["a", "bad", "b"]


def lost(item: str, reason: str) -> str:
    return f"lost {item}: {reason}"


def run(executor: object, function: object, items: list[str] = ITEMS) -> list[str]:
    results = executor.map(function, items, lost)  # type: ignore[attr-defined]
    return [result for _, result in in_order(results, len(items))]


def over_time(budget: Budget) -> str:
    return f"lost bad: {budget.over_time()}"


# --- the budget itself --------------------------------------------------------------------------

def test_reasons_tell_a_budget_from_a_death() -> None:
    budget = Budget(30.0, 512)
    assert budget.reason(Overrun("time")) == budget.over_time()
    assert budget.reason(Overrun("memory")) == budget.over_memory()
    assert is_over_budget(budget.over_time()) and "30 s" in budget.over_time()
    assert is_over_budget(budget.over_memory()) and "512 MiB" in budget.over_memory()
    assert not is_over_budget(DIED)


def test_the_default_shares_the_memory_among_the_workers(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import dicomio.archive.budget as module

    monkeypatch.setattr(module, "_physical_memory", lambda: 64 << 30)
    assert Budget.default(8).memory_mib == 8 * 1024
    assert Budget.default(64).memory_mib == module.MIN_WORKER_MEMORY  # 1 GiB each: raised
    assert Budget.default(8, 0, 0) == Budget(None, None)  # 0: no limit
    assert Budget.default(8, 12.5, 300) == Budget(12.5, 300)


# --- each executor ------------------------------------------------------------------------------

def test_serial_gives_up_the_item_over_time_and_does_the_others() -> None:
    budget = Budget(0.5)
    start = time.monotonic()
    assert run(SerialExecutor(budget), endless) == ["a", over_time(budget), "b"]
    assert time.monotonic() - start < 5


@pytest.fixture
def pool() -> Iterator[ProcessExecutor]:
    executor = ProcessExecutor(2, Budget(1.0, 1024, grace=0.5))
    try:
        yield executor
    finally:
        executor.close()


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                    reason="RLIMIT_AS and SIGALRM: Linux")
def test_a_pool_gives_up_items_over_budget_and_does_the_others(pool: ProcessExecutor) -> None:
    budget = pool.budget
    start = time.monotonic()
    assert run(pool, endless) == ["a", over_time(budget), "b"]
    assert run(pool, hungry) == ["a", f"lost bad: {budget.over_memory()}", "b"]
    assert time.monotonic() - start < 20


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                    reason="faulthandler's watchdog ending a worker: Linux")
def test_a_pool_ends_a_worker_stuck_in_native_code(pool: ProcessExecutor) -> None:
    """The worker ends itself a grace period after the limit; run again alone, the item is
    stuck again, and is given up for its time (not as a death)."""
    start = time.monotonic()
    assert run(pool, stuck_in_native_code) == ["a", over_time(pool.budget), "b"]
    assert time.monotonic() - start < 20


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A scheduler here and one single-threaded worker process, over loopback TCP."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as connected:
        yield connected


def test_dask_gives_up_the_item_over_time_and_does_the_others(client) -> None:
    budget = Budget(1.0)
    executor = DaskExecutor(client, client.scheduler.address, budget)
    start = time.monotonic()
    assert run(executor, endless) == ["a", over_time(budget), "b"]
    assert time.monotonic() - start < 30


@dataclass(frozen=True)
class SlowFor:
    """Behave as ``task``, except for the job of ``uid``: take ``seconds`` first."""

    task: Any
    uid: str
    seconds: float

    def __call__(self, job: Any) -> Any:
        if job.uid == self.uid:
            time.sleep(self.seconds)
        return self.task(job)

    def lost(self, job: Any, reason: str) -> Any:
        return self.task.lost(job, reason)


def test_a_series_over_time_is_an_over_budget_finding_in_a_complete_report(
        make_series, tmp_path: Path) -> None:
    from dicomio.archive.executors import open_executor
    from dicomio.archive.plan import plan_archive
    from dicomio.archive.validation import ValidateTask, validate_plan
    from dicomio.testing.synthetic import SeriesSpec
    from dicomio.validate.config import ValidationConfig

    for number in range(3):
        make_series(SeriesSpec(shape=(3, 6, 6), series_number=number + 1),
                    folder=tmp_path / "archive" / f"s{number}")
    config = ValidationConfig()
    with open_executor(workers=1, budget=Budget(seconds=1.0)) as executor:
        plan = plan_archive(tmp_path / "archive", executor)
        slow = plan.jobs[1].uid
        report = validate_plan(plan, config, executor,
                               task=SlowFor(ValidateTask(config), slow, 30.0))
    codes = [(f.code, f.series) for f in report.all_findings]
    assert codes == [("OVER_BUDGET", slow)]
    assert "was not processed" in report.all_findings[0].message
    assert len(report.series) == 2  # the other two were checked
