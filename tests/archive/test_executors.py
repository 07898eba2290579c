"""The executors run any picklable task: they know nothing of what runs on them."""

from __future__ import annotations

import multiprocessing

import pytest

from dicomio.archive.executors import ProcessExecutor
from tests.support.loaded import imported


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                    reason="no fork server here: workers preload nothing")
def test_pool_workers_preload_dicomio_not_its_tasks() -> None:
    """Workers start from a fork server that imported dicomio (NumPy and the package, most of
    any task's imports), not validation or conversion: the executor does not name its
    clients, and a task imports what it needs when it arrives."""
    modules = ["dicomio", "dicomio.archive.validation", "dicomio.archive.conversion"]
    executor = ProcessExecutor(1)
    try:
        found = dict(executor.map(imported, modules, lambda name, why: None))
    finally:
        executor.close()
    assert found == {0: True, 1: False, 2: False}
