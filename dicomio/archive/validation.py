"""``dicomio validate`` over an archive: the checks of :mod:`dicomio.validate.checks`, one
SeriesInstanceUID per task, run by any :mod:`~dicomio.archive.executors` executor.

The report is the one :func:`dicomio.validate.report.validate` gives for the same paths: the same
series in the same order, the same findings, assembled by the same function
(:func:`~dicomio.validate.report.assemble_report`). Only the ``seconds`` differ (leave them out
with ``to_dict(reproducible=True)`` to compare reports byte for byte).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dicomio.archive.budget import is_over_budget
from dicomio.archive.executors import Executor, open_executor, run_in_order
from dicomio.archive.plan import ArchivePlan, Progress, SeriesJob, SeriesTask, plan_archive
from dicomio.dicom.types import FileHeader
from dicomio.series.discover import discover
from dicomio.series.group import group
from dicomio.series.inventory import PathInput, SkippedFile
from dicomio.sources.archives import SEPARATOR
from dicomio.sources.web_address import is_web_address
from dicomio.validate.checks import check_skipped, internal_error, over_budget, worker_died
from dicomio.validate.config import ValidationConfig
from dicomio.validate.findings import Finding
from dicomio.validate.report import SeriesReport, ValidationReport, assemble_report, validate_stacks

__all__ = ["JobReport", "ValidateTask", "read_job", "validate_archive", "validate_plan"]


@dataclass
class JobReport:
    """What validating one SeriesInstanceUID gave.

    Attributes
    ----------
    series
        One report per stack of the UID (``index`` set when the report is assembled).
    skipped
        Files of the job that could not be read any more (changed since planning).
    findings
        WORKER_DIED when the job could not be run, INTERNAL_ERROR when it failed
        unexpectedly.
    """

    series: list[SeriesReport] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def read_job(job: SeriesJob, headers_only: bool = False
             ) -> tuple[list[FileHeader], list[SkippedFile]]:
    """The headers of a job's files, and the files that cannot be read (any more). A job's
    DICOMweb instances are retrieved together, in parallel, once (only their headers, from
    their series' metadata, when ``headers_only``)."""
    # An archive's member (study.zip!/DICOM/IM1) is no file of its own, nor is a DICOMweb
    # instance (its URL): discovery finds them.
    gone = {path for path in job.files if SEPARATOR not in path and not is_web_address(path)
            and not os.path.exists(path)}
    skipped = [SkippedFile(Path(path), "cannot read: the file disappeared during the run",
                           "unreadable") for path in job.files if path in gone]
    present = [path for path in job.files if path not in gone]
    if not present:
        return [], skipped
    inventory = discover(present, headers_only=headers_only)
    return inventory.headers, skipped + inventory.skipped


@dataclass(frozen=True)
class ValidateTask:
    """Validate the series of one job (a pure function of the files: safe to run twice).

    Never raises (``KeyboardInterrupt`` and ``SystemExit`` aside): a job that fails
    unexpectedly is an INTERNAL_ERROR finding naming its series and files, and the other jobs
    go on, so the report is always complete.
    """

    config: ValidationConfig

    def __call__(self, job: SeriesJob) -> JobReport:
        try:
            headers, skipped = read_job(job, headers_only=not self.config.pixels)
            stacks = group(headers, self.config.tolerances)
            return JobReport(validate_stacks(stacks, self.config), skipped)
        except MemoryError:
            raise  # the memory ceiling: the executor reports the job as over budget
        except Exception as exc:  # one job's failure is a finding, never the end of the run
            return JobReport(findings=internal_error(exc, job.files, job.uid,
                                                     f"validating series {job.uid}",
                                                     self.config))

    def lost(self, job: SeriesJob, reason: str) -> JobReport:
        """The report of a job given up: over its budget, or its worker died on every attempt
        (built here, not run)."""
        if is_over_budget(reason):
            return JobReport(findings=over_budget(job.files, job.uid, f"series {job.uid}",
                                                  reason, self.config))
        return JobReport(findings=worker_died(job.files, job.uid, f"series {job.uid}",
                                              self.config))


def validate_plan(
    plan: ArchivePlan,
    config: ValidationConfig,
    executor: Executor,
    *,
    task: SeriesTask[JobReport] | None = None,
    on_series: Callable[[SeriesReport], None] | None = None,
    progress: Progress | None = None,
    started: float | None = None,
) -> ValidationReport:
    """Validate the jobs of ``plan`` with ``executor`` and assemble the report.

    Parameters
    ----------
    task
        What runs per job: ``ValidateTask(config)`` by default (series then decode with one
        thread each when the executor runs them side by side). A replacement must have a
        ``lost(job, reason)`` method as :class:`ValidateTask` does.
    on_series
        Called with each series report, in report order, as soon as it and every earlier one
        are done (to print results while the rest runs).
    progress
        ``progress(done, total, label)`` as each job finishes.
    started
        ``time.perf_counter()`` when the work began (the planning), for ``seconds``.
    """
    start = time.perf_counter() if started is None else started
    if task is None:
        task = ValidateTask(config.with_(decode_threads=1) if executor.parallel else config)
    reports: list[SeriesReport] = []
    skipped = list(plan.skipped)
    died = list(plan.findings)
    results = run_in_order(executor, task, plan.jobs, task.lost, progress=progress,
                           label=lambda job: job.label)
    for _, result in results:
        for entry in result.series:
            entry.index = len(reports)
            reports.append(entry)
            if on_series is not None:
                on_series(entry)
        skipped += result.skipped
        died += result.findings
    return assemble_report(plan.roots, reports,
                           check_skipped(plan.roots, plan.with_images, skipped, config), config,
                           lost=died, seconds=time.perf_counter() - start)


def validate_archive(
    paths: PathInput,
    config: ValidationConfig = ValidationConfig(),
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    follow_symlinks: bool = False,
) -> ValidationReport:
    """Validate every series under ``paths``, in parallel: :func:`dicomio.validate.report.validate`
    for archives.

    Parameters
    ----------
    paths
        Files and folders (searched recursively).
    config
        What to check (see :mod:`dicomio.validate.config`).
    workers, scheduler
        Where the series are checked (see :func:`~dicomio.archive.executors.open_executor`):
        default, one process per usable core; ``scheduler="local"`` or a Dask scheduler's
        address to use Dask.
    follow_symlinks
        Follow symbolic links that lead out of the given folders (by default they are skipped,
        and listed with the skipped files).

    Raises
    ------
    NoDicomFilesError
        A path does not exist.
    SchedulerError
        The Dask cluster cannot be used.
    """
    start = time.perf_counter()
    with open_executor(workers, scheduler) as executor:
        plan = plan_archive(paths, executor, follow_symlinks=follow_symlinks)
        return validate_plan(plan, config, executor, started=start)
