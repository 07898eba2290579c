"""Whole archives: serial, ``--workers`` and Dask give the same report, and a worker killed
mid-run neither loses nor duplicates a series.

One generated archive of ~290 small series with known findings (tests/support/archive.py) is
shared by the module, and so is one real ``dask.distributed.LocalCluster``: a scheduler and two
worker processes talking over loopback TCP.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from junitparser import JUnitXml
from typer.testing import CliRunner

from dicomio import SchedulerError, discover
from dicomio.archive import (
    ConvertTask,
    ValidateTask,
    convert_plan,
    open_executor,
    plan_archive,
    validate_plan,
)
from dicomio.archive.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    in_order,
)
from dicomio.archive.plan import split_units
from dicomio.cli import app
from dicomio.cli.options import option_for
from dicomio.parallel import usable_cores
from dicomio.validate.config import ValidationConfig
from dicomio.validate.report import ValidationReport, validate
from tests.support.archive import Archive, KillWorker, make_archive, started
from tests.support.schemas import check_schema

distributed = pytest.importorskip("distributed")
runner = CliRunner()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return make_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    """Scheduler here, two single-threaded worker processes. A saturation of 1 keeps each
    worker to the task it runs, so a worker's death is blamed on that task alone."""
    import dask

    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as local:
        yield local


@pytest.fixture(scope="module")
def serial(archive: Archive) -> dict:
    """The reference: the one-process library validation, as JSON without timings."""
    return validate(archive.paths).to_dict(reproducible=True)


@pytest.fixture(scope="module")
def serial_cli(archive: Archive) -> dict:
    """The reference as the command line says it: remedies named as options."""
    return validate(archive.paths).named(option_for).to_dict(reproducible=True)


def codes(findings: list[dict]) -> set[str]:
    return {f["code"] for f in findings}


def cli(*arguments: str) -> tuple[int, str]:
    result = runner.invoke(app, list(arguments))
    return result.exit_code, result.stdout


# --- the reference report is the expected one ----------------------------------------------------

def test_the_archive_gives_its_known_findings(archive: Archive, serial: dict) -> None:
    assert len(serial["series"]) == archive.series > 280
    found = {s["key"]: codes(s["findings"]) for s in serial["series"] if s["findings"]}
    assert found == archive.expected
    assert [f["code"] for f in serial["findings"]] == archive.general
    assert serial["passed"] is False
    assert [s["index"] for s in serial["series"]] == list(range(archive.series))


# --- serial, processes and Dask give one report --------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2])
def test_cli_workers_give_the_serial_report(archive: Archive, serial_cli: dict, workers: int
                                            ) -> None:
    status, stdout = cli("validate", *archive.paths, "-f", "json", "--reproducible",
                         "--workers", str(workers))
    assert status == 1
    assert json.loads(stdout) == serial_cli
    check_schema("validate", json.loads(stdout))


def test_dask_cluster_gives_the_same_bytes(archive: Archive, cluster) -> None:
    """JSON, JUnit and text: byte for byte the same from 2 local processes and from the
    cluster's scheduler address; same exit code."""
    outputs = {}
    for where in (["--workers", "2"], ["--scheduler", cluster.scheduler_address]):
        for output in ("json", "junit", "text"):
            outputs[where[0], output] = cli("validate", *archive.paths, "-f", output,
                                            "--reproducible", *where)
    for output in ("json", "junit", "text"):
        assert outputs["--workers", output] == outputs["--scheduler", output]
        assert outputs["--workers", output][0] == 1
    suites = list(JUnitXml.fromstring(outputs["--scheduler", "junit"][1].encode()))
    assert suites[0].tests == archive.series + 1
    failing = sum(bool(found - {"THICKNESS_SPACING_MISMATCH", "MIXED_ORIENTATION", "FOUR_D"})
                  for found in archive.expected.values())
    # errors: 4 series + NO_DICOM + UNREADABLE_FILE; warnings: MIXED_ORIENTATION on 2 stacks;
    # info: THICKNESS_SPACING_MISMATCH, FOUR_D, 3 SKIPPED_FILE, MULTIPLE_SERIES
    assert outputs["--scheduler", "text"][1].splitlines()[-1] == (
        f"failed: {archive.series - failing} of {archive.series} series passed; 1 path without "
        f"DICOM images; 1 file unreadable; 6 errors, 2 warnings, 6 info")


def test_scheduler_local_starts_a_cluster(archive: Archive, serial_cli: dict) -> None:
    status, stdout = cli("validate", *archive.paths, "-f", "json", "--reproducible",
                         "--scheduler", "local", "--workers", "2")
    assert status == 1 and json.loads(stdout) == serial_cli


def test_library_entry_points_agree(archive: Archive, serial: dict, cluster) -> None:
    from distributed import Client

    with Client(cluster) as client:
        executor = DaskExecutor(client, cluster.scheduler_address)
        executor.check_versions()
        plan = plan_archive(archive.paths, executor)
        report = validate_plan(plan, ValidationConfig(), executor)
    assert report.to_dict(reproducible=True) == serial
    assert executor.workers == 2 and "2 worker threads" in executor.describe()


# --- a worker killed mid-run ---------------------------------------------------------------------

def killer(archive: Archive, tmp_path: Path, always: bool = False) -> KillWorker:
    return KillWorker(ValidateTask(ValidationConfig(decode_threads=1)), archive.victim,
                      tmp_path / "killed", always)


def test_a_killed_pool_worker_loses_and_duplicates_nothing(archive: Archive, serial: dict,
                                                           tmp_path: Path) -> None:
    task = killer(archive, tmp_path)
    with open_executor(workers=2) as executor:
        plan = plan_archive(archive.paths, executor)
        report = validate_plan(plan, ValidationConfig(), executor, task=task)
    assert (tmp_path / "killed").exists()  # it did die once
    assert report.to_dict(reproducible=True) == serial


def test_a_killed_dask_worker_loses_and_duplicates_nothing(archive: Archive, serial: dict,
                                                           cluster, tmp_path: Path) -> None:
    from distributed import Client

    with Client(cluster) as client:
        executor = DaskExecutor(client, cluster.scheduler_address)
        plan = plan_archive(archive.paths, executor)
        report = validate_plan(plan, ValidationConfig(), executor,
                               task=killer(archive, tmp_path))
        client.wait_for_workers(2, timeout=60)  # the nanny restarted the one killed
    assert (tmp_path / "killed").exists()
    assert report.to_dict(reproducible=True) == serial


def assert_lost_once(report: ValidationReport, serial: dict, victim: str) -> None:
    """The victim is one WORKER_DIED finding; every other series is as in ``serial``."""
    result = report.to_dict(reproducible=True)
    others = [s for s in serial["series"] if s["uid"] != victim]
    assert result["series"] == [{**s, "index": i} for i, s in enumerate(others)]
    assert result["findings"][:-1] == serial["findings"]
    died = result["findings"][-1]
    assert (died["code"], died["severity"], died["series"]) == ("WORKER_DIED", "error", victim)
    assert len(died["files"]) == 4 and "died on every attempt" in died["message"]


def test_a_series_that_kills_every_worker_is_reported_once(archive: Archive, serial: dict,
                                                           tmp_path: Path) -> None:
    """Run again alone after the pool broke, it dies again: WORKER_DIED names it, the other
    series are untouched."""
    with open_executor(workers=2) as executor:
        plan = plan_archive(archive.paths, executor)
        report = validate_plan(plan, ValidationConfig(), executor,
                               task=killer(archive, tmp_path, always=True))
    assert_lost_once(report, serial, archive.victim)


def test_a_task_dask_gives_up_on_is_reported_once(archive: Archive, serial: dict, cluster,
                                                 tmp_path: Path) -> None:
    """After ``allowed-failures`` deaths Dask raises KilledWorker: the batch holding the series
    is split and run again one series per task; the series that kills its worker alone is
    WORKER_DIED, as on the local pool."""
    from distributed import Client

    allowed, cluster.scheduler.allowed_failures = cluster.scheduler.allowed_failures, 0
    try:
        with Client(cluster) as client:
            executor = DaskExecutor(client, cluster.scheduler_address)
            plan = plan_archive(archive.paths, executor)
            assert executor.batch_size(len(plan.jobs)) > 1
            report = validate_plan(plan, ValidationConfig(), executor,
                                   task=killer(archive, tmp_path, always=True))
            client.wait_for_workers(2, timeout=60)
    finally:
        cluster.scheduler.allowed_failures = allowed
    assert_lost_once(report, serial, archive.victim)


# --- convert -------------------------------------------------------------------------------------

def test_convert_a_list_of_folders_serial_parallel_and_dask(archive: Archive, cluster,
                                                            tmp_path: Path) -> None:
    folders = [str(archive.root / name) for name in ("p00", "p02", "p03", "p05", "p09")]
    reports = {}
    for name, where in [("serial", ["--workers", "1"]), ("pool", ["--workers", "2"]),
                        ("dask", ["--scheduler", cluster.scheduler_address])]:
        status, stdout = cli("convert", *folders, str(tmp_path / name), "--json",
                             "--reproducible", *where)
        assert status == 1  # some series are not volumes
        reports[name] = json.loads(stdout)
        check_schema("convert", reports[name])
    outputs = {name: report.pop("output") for name, report in reports.items()}
    assert reports["serial"] == reports["pool"] == reports["dask"]
    report = reports["serial"]
    status = {s["key"]: s["status"] for s in report["series"]}
    failed = {key for key, value in status.items() if value == "failed"}
    not_volumes = {"MISSING_SLICE", "UNSUPPORTED_TRANSFER_SYNTAX"}
    assert failed == {key for key, found in archive.expected.items() if found & not_volumes}
    four_d = {key for key, found in archive.expected.items() if "FOUR_D" in found}
    assert four_d and four_d <= set(status) - failed  # written 4-D, as convert to a file
    assert all(len(s["output_shape"]) == 4 for s in report["series"] if s["key"] in four_d)
    assert {"1.2.826.0.1.3680043.8.498.5555#0", "1.2.826.0.1.3680043.8.498.5555#1"} <= set(
        status) - failed  # each stack of a split UID is a volume of its own
    assert report["counts"] == {"written": len(status) - len(failed), "failed": len(failed)}
    reasons = {s["key"]: s["reason"] for s in report["series"] if s["reason"]}
    assert any("UnsupportedTransferSyntaxError" in r for r in reasons.values())
    # Every written file exists where the report says, mirrors the archive, and reads back.
    for folder in outputs.values():
        written = sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*.nii.gz"))
        assert written == sorted(s["output"] for s in report["series"] if s["output"])
    first = next(s for s in report["series"] if s["status"] == "written")
    assert first["output"].startswith("p00/s00/0_dicomio_synthetic_phantom_")
    image = nib.load(Path(outputs["dask"]) / first["output"])
    assert image.shape == (8, 8, 4)
    assert not any(p.name.endswith(".part") for p in tmp_path.rglob("*"))


def test_convert_survives_a_killed_worker(archive: Archive, cluster, tmp_path: Path) -> None:
    """A task run again rewrites its file, atomically: the same report, each file once."""
    from distributed import Client

    folders = [archive.root / "p13"]
    victim = discover(folders).headers[0].series_uid
    with open_executor(workers=1) as serial_executor:
        plan = plan_archive(folders, serial_executor)
        expected = convert_plan(plan, tmp_path / "serial", serial_executor)
    with Client(cluster) as client:
        executor = DaskExecutor(client, cluster.scheduler_address)
        task = KillWorker(ConvertTask(tmp_path / "dask", folders[0]), victim,
                          tmp_path / "killed")
        report = convert_plan(plan, tmp_path / "dask", executor, task=task)
        client.wait_for_workers(2, timeout=60)
    assert (tmp_path / "killed").exists()
    assert report.to_dict(True) | {"output": ""} == expected.to_dict(True) | {"output": ""}
    assert report.counts == {"written": 20, "failed": 0}
    assert len(list((tmp_path / "dask").rglob("*.nii.gz"))) == 20
    assert not list((tmp_path / "dask").rglob(".*.part"))


def test_convert_output_folder_rules(archive: Archive, tmp_path: Path) -> None:
    source = str(archive.root / "p10")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    status, _ = cli("convert", source, str(tmp_path / "full"), "--workers", "1")
    assert status == 2
    assert cli("convert", source, str(tmp_path / "full"), "--workers", "1", "--force",
               "-q")[0] == 0
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert cli("convert", source, str(tmp_path / "x"), "--series", "0")[0] == 2
    assert cli("convert", source, str(tmp_path / "one.nii.gz"), "--workers", "2")[0] == 2
    assert cli("convert", source, source, str(tmp_path / "one.nii.gz"))[0] == 2


# --- usage errors --------------------------------------------------------------------------------

def test_scheduler_usage_errors(archive: Archive, cluster) -> None:
    import dask

    path = str(archive.root / "p11")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = runner.invoke(app, ["validate", path, "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "cannot connect to the Dask scheduler" in result.stderr
    result = runner.invoke(app, ["validate", path, "--scheduler", cluster.scheduler_address,
                                 "--workers", "3"])
    assert result.exit_code == 2 and "--workers" in result.stderr
    from distributed import Client

    with Client(cluster) as client, pytest.raises(SchedulerError, match="do not see"):
        DaskExecutor(client, "test").check_paths([Path("/nowhere/archive")])


# --- the pieces ----------------------------------------------------------------------------------

def test_units_list_the_files_as_discovery_does(archive: Archive, tmp_path: Path) -> None:
    units = split_units(archive.paths)
    assert [u.path.name for u in units[:3]] == ["archive", "p00", "p01"]
    assert units[0].recursive is False and all(u.recursive for u in units[1:-2])
    assert units[-1].path == archive.empty
    whole = discover(archive.paths)
    parts = [discover(u.path, recursive=u.recursive) for u in units]
    assert [h.path for p in parts for h in p.headers] == [h.path for h in whole.headers]
    assert [s.path for p in parts for s in p.skipped] == [s.path for s in whole.skipped]
    # A folder holding a lone folder is descended into; a symlink loop stops the descent.
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "b" / "d").mkdir()
    assert [u.path.name for u in split_units(tmp_path / "a")] == ["b", "c", "d"]
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "self").symlink_to(tmp_path / "loop")
    # The link is not a unit of its own: the unit of the folder's files reports it.
    (unit,) = split_units(tmp_path / "loop")
    assert unit.path.name == "loop"
    skipped = discover(unit.path, recursive=unit.recursive).skipped
    assert [s.path.name for s in skipped] == ["self"]


def test_a_pool_keeps_few_items_in_flight(tmp_path: Path) -> None:
    executor = ProcessExecutor(2)
    try:
        results = executor.map(started(tmp_path), list(range(40)), lambda item, why: -1)
        first = next(results)
        assert len(list(tmp_path.iterdir())) <= 4  # 2 × workers, not the 40 items
        rest = dict([first, *results])
    finally:
        executor.close()
    assert rest == {i: 2 * i for i in range(40)}


class BreakingPool:
    """A pool that runs each item at once, and breaks (as when a worker dies) at the
    ``breaks_at``-th submit, as a real pool may between two results."""

    def __init__(self, submitted: list[int], breaks_at: int | None) -> None:
        self.submitted, self.breaks_at = submitted, breaks_at

    def submit(self, function: Callable[[int], int], item: int) -> Future[int]:
        if len(self.submitted) == self.breaks_at:
            self.breaks_at = None
            raise BrokenProcessPool("a child process terminated abruptly")
        self.submitted.append(item)
        future: Future[int] = Future()
        future.set_result(function(item))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_a_pool_broken_while_submitting_loses_nothing(monkeypatch) -> None:
    executor = ProcessExecutor(2)
    submitted: list[int] = []
    pools = iter([BreakingPool(submitted, breaks_at=3), BreakingPool(submitted, None)])
    monkeypatch.setattr(executor, "_new_pool", lambda workers: next(pools))
    results = list(executor.map(lambda item: item * 2, list(range(10)), lambda i, why: -1))
    assert sorted(results) == [(i, 2 * i) for i in range(10)]
    assert submitted == list(range(10))  # each item ran once


def test_in_order_waits_for_earlier_results() -> None:
    came = iter([(2, "c"), (0, "a"), (3, "d"), (1, "b")])
    assert list(in_order(came, 4)) == [(0, "a"), (1, "b"), (2, "c"), (3, "d")]
    with pytest.raises(RuntimeError, match="never came"):
        list(in_order(iter([(1, "b")]), 2))


def test_default_workers_and_serial_executor() -> None:
    assert usable_cores() == len(os.sched_getaffinity(0))
    with open_executor(workers=1) as executor:
        assert isinstance(executor, SerialExecutor) and not executor.parallel
    assert list(SerialExecutor().map(str, [1, 2], lambda i, w: "")) == [(0, "1"), (1, "2")]


def test_import_dicomio_does_not_import_dask() -> None:
    import subprocess
    import sys

    code = ("import sys, dicomio, dicomio.archive, dicomio.cli; "
            "print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ,
                                           "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.stdout.strip() == "False"


def test_progress_and_throughput_on_stderr(archive: Archive) -> None:
    result = runner.invoke(app, ["validate", str(archive.root / "p12"), "--workers", "2",
                                 "--progress"])
    assert result.exit_code == 0
    assert "20 series, 80 files in" in result.stderr and "2 worker processes" in result.stderr
    assert "\x1b[" not in result.stdout
    assert result.stdout.count("\nok   ") + result.stdout.startswith("ok   ") == 20


def test_reproducible_reports_have_no_timings(archive: Archive) -> None:
    path = str(archive.root / "p12")
    timed = json.loads(cli("validate", path, "-f", "json", "--workers", "1")[1])
    assert timed["seconds"] > 0 and timed["series"][0]["seconds"] >= 0
    plain = json.loads(cli("validate", path, "-f", "json", "--workers", "1",
                           "--reproducible")[1])
    assert plain["seconds"] is None and {s["seconds"] for s in plain["series"]} == {None}
    junit = cli("validate", path, "-f", "junit", "--workers", "1", "--reproducible")[1]
    assert "time=" not in junit and "hostname=" not in junit and "timestamp=" not in junit


def test_stacks_of_one_uid_stay_in_one_task(archive: Archive) -> None:
    plan = plan_archive([archive.root / "p05"], SerialExecutor())
    (job,) = [j for j in plan.jobs if j.uid.endswith(".5555")]
    assert len(job.files) == 7
    report = ValidateTask(ValidationConfig())(job)
    assert [r.series.key for r in report.series] == [f"{job.uid}#0", f"{job.uid}#1"]
    assert np.all([r.index == i for i, r in enumerate(report.series)])


def test_a_summary_describes_a_series_as_describe_series(archive: Archive) -> None:
    """What reports keep (a few hundred bytes, picklable) gives the same JSON as the series."""
    import pickle

    from dicomio import list_series
    from dicomio.series.summary import describe_series, summarise

    for index, series in enumerate(list_series(archive.root / "p05")):
        summary = pickle.loads(pickle.dumps(summarise(series)))
        assert json.dumps(summary.describe(index)) == json.dumps(describe_series(series, index))
        assert (summary.key, summary.n_slices, summary.folder) == (
            series.key, series.n_slices, series.files[0].parent)
        assert len(pickle.dumps(summary)) < 2000
