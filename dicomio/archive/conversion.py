"""``dicomio convert`` over an archive: every series to NIfTI, NRRD or ``.npz``, in parallel.

Each series is written under the output folder at the place its files have under the archive
(the folder of its first file, relative to the common folder of the given paths), named after
its SeriesNumber, description and UID: ``out/patient1/ct/3_Chest_1.2.840....nii.gz``. A
SeriesInstanceUID split into stacks gives one file per stack (``..._stack1.nii.gz``). Names are
unique by construction: a SeriesInstanceUID that is not a valid UID (digits and dots) - whose
name could otherwise be that of another UID once its other characters are replaced, as
``1.2.3.9.`` would be ``1.2.3.9``'s - ends in ``_u`` and a hash of it, and its conversion says
so in a note. Two series never write one file.

A volume that may miss slices is never written: a series with files in a folder that also holds
an unreadable file (a damaged or truncated DICOM file, possibly one of its slices) fails, naming
that file, unless ``ignore_unreadable``.

The output folder must be empty (or ``force``): every task may then write its files whether
or not they exist, and it does so atomically (:func:`dicomio.io.writers.write_volume`), so a task
run again after its worker died writes the same file again, harmlessly. A new output folder is
created exclusively, and a run holds a lock on it (``flock``) so that two runs never write into
one folder at once. Nothing is written through a symbolic link inside the output folder (such a
series fails, naming the link); a link at a file's own name is replaced, never followed. The
partial files that a run killed outright left behind are removed before the next one writes.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dicomio._version import __version__
from dicomio.archive.budget import is_over_budget
from dicomio.archive.executors import Executor, open_executor, run_in_order
from dicomio.archive.names import output_name, uid_part
from dicomio.archive.plan import ArchivePlan, Progress, SeriesJob, SeriesTask, plan_archive
from dicomio.archive.validation import read_job
from dicomio.errors import DicomIOError, Remedy, UnreadableFilesError
from dicomio.geometry.stack import GeometryTolerances
from dicomio.io.atomic import is_partial_file, remove_stale_parts
from dicomio.io.series_output import read_for_output, write_converted
from dicomio.io.writers import Format, check_writer
from dicomio.load import Scaling
from dicomio.read import Irregular
from dicomio.series.group import group
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import PathInput, SkippedFile
from dicomio.series.summary import SCHEMA_VERSION, SeriesSummary, describe_skipped, summarise
from dicomio.sources.archives import SEPARATOR
from dicomio.sources.web_address import is_web_address, parse_address
from dicomio.validate.checks import internal_error, over_budget, worker_died
from dicomio.validate.findings import Finding

__all__ = ["Conversion", "ConversionReport", "ConvertTask", "JobConversions", "convert_archive",
           "convert_plan", "prepare_output", "release_output"]

@dataclass
class Conversion:
    """What became of one series (stack).

    Attributes
    ----------
    status
        ``"written"`` or ``"failed"``.
    output
        The file written, relative to the output folder (None when failed).
    reason
        Why it failed (the error, naming the file), else None.
    note
        What the reader should know about the file name (a SeriesInstanceUID that is not a
        valid UID is named by a hash) and the files beside it (a b-value table's warnings),
        else None.
    shape, dtype
        Of the array written (a 4-D series' shape volumes first, as :func:`dicomio.load_4d`
        returns it).
    """

    series: SeriesSummary
    status: Literal["written", "failed"]
    output: str | None = None
    reason: str | None = None
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    seconds: float = 0.0
    index: int | None = None
    note: str | None = None

    def to_dict(self, reproducible: bool = False) -> dict[str, Any]:
        return {**self.series.describe(self.index), "status": self.status,
                "output": self.output, "reason": self.reason, "note": self.note,
                "output_shape": None if self.shape is None else list(self.shape),
                "dtype": self.dtype,
                "seconds": None if reproducible else round(self.seconds, 3)}


@dataclass
class JobConversions:
    """What converting one SeriesInstanceUID gave (see
    :class:`~dicomio.archive.validation.JobReport`)."""

    series: list[Conversion] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class ConvertTask:
    """Convert the series of one job into files under ``output`` (pure and idempotent: it
    writes the same files, atomically, however often it runs).

    Attributes
    ----------
    output, base
        The output folder, and the folder the archive's folders are taken relative to.
    format, backend, rescale, irregular, tolerances, scaling
        As for :func:`dicomio.load_volume` and :func:`dicomio.io.writers.write_volume`.
    decode_threads
        Threads each series is decoded with (None: the usable cores).
    ignore_unreadable
        Write a series even when a file of its folders could not be read (as for
        :func:`dicomio.load_volume`); by default it fails, naming the files.
    sidecar
        Beside a NIfTI, write the BIDS sidecar (a diffusion series' ``.bval`` and ``.bvec``
        are written in any case): :func:`dicomio.io.series_output.write_converted`.
    name_remedy
        How a failure's reason names the argument that gets past it (the command line: its
        option, :func:`dicomio.cli.options.option_for`); a picklable function.
    """

    output: Path
    base: Path
    format: Format = "nifti"
    backend: str = "auto"
    rescale: bool = True
    irregular: Irregular = "raise"
    tolerances: GeometryTolerances = field(default_factory=GeometryTolerances)
    decode_threads: int | None = None
    ignore_unreadable: bool = False
    sidecar: bool = True
    name_remedy: Callable[[Remedy], str] = Remedy.python
    scaling: Scaling = "modality"

    def target(self, series: SeriesInfo) -> Path:
        """Where ``series`` is written: a series of a DICOMweb service into
        ``<host>/<study>`` (:attr:`~dicomio.sources.web_address.WebAddress.folder`)."""
        if is_web_address(series.files[0]):
            study = parse_address(series.files[0]).folder.parent
            return self.output / study / output_name(series, self.format)
        folder = os.path.relpath(os.path.abspath(series.files[0].parent), self.base)
        if folder.startswith(os.pardir):  # not under the base: keep only its name
            folder = series.files[0].parent.name
        # An archive's members go into a folder named as the archive (study.zip/DICOM).
        folder = folder.replace(SEPARATOR, os.sep)
        return self.output / folder / output_name(series, self.format)

    def convert(self, series: SeriesInfo, unreadable: Sequence[SkippedFile] = ()) -> Conversion:
        """Read one series (4-D when it is) and write it, with what goes beside it; every
        failure is a ``failed`` conversion, and so is a series beside ``unreadable`` files
        (unless ``ignore_unreadable``)."""
        began = time.perf_counter()
        note = None
        try:
            target = self.target(series)
            note = uid_part(series.uid)[1]
            if unreadable and not self.ignore_unreadable:
                raise UnreadableFilesError(unreadable)
            read = read_for_output(series, self.format, backend=self.backend,
                                   rescale=self.rescale, irregular=self.irregular,
                                   ignore_unreadable=self.ignore_unreadable,
                                   workers=self.decode_threads, tolerances=self.tolerances,
                                   scaling=self.scaling)
            written = write_converted(read, target, self.format, overwrite=True,
                                      sidecar=self.sidecar,
                                      ignore_unreadable=self.ignore_unreadable, within=self.output)
        except MemoryError:
            raise  # the memory ceiling: the executor reports the job as over budget
        except Exception as exc:  # every failure of one series is reported, never a crash
            said = exc.explained(self.name_remedy) if isinstance(exc, DicomIOError) else exc
            return Conversion(summarise(series), "failed", reason=f"{type(exc).__name__}: {said}",
                              seconds=time.perf_counter() - began, note=note)
        return Conversion(summarise(series), "written", target.relative_to(self.output).as_posix(),
                          shape=tuple(read.volume.shape), dtype=written.dtype,
                          seconds=time.perf_counter() - began,
                          note="; ".join(n for n in (note, *written.warnings) if n) or None)

    def __call__(self, job: SeriesJob) -> JobConversions:
        """Convert the series of ``job``; never raises (``KeyboardInterrupt`` and
        ``SystemExit`` aside): a job failing unexpectedly is an INTERNAL_ERROR finding, and
        the other jobs go on."""
        try:
            headers, skipped = read_job(job)
            stacks = group(headers, self.tolerances)
            unreadable = [*job.unreadable, *(s for s in skipped if s.category == "unreadable")]
            return JobConversions([self.convert(series, _beside(series, unreadable))
                                   for series in stacks], skipped)
        except MemoryError:
            raise
        except Exception as exc:  # one job's failure is reported, never the end of the run
            return JobConversions(findings=internal_error(exc, job.files, job.uid,
                                                          f"converting series {job.uid}"))

    def lost(self, job: SeriesJob, reason: str) -> JobConversions:
        """The result of a job given up: over its budget, or its worker died on every
        attempt."""
        if is_over_budget(reason):
            return JobConversions(findings=over_budget(job.files, job.uid, f"series {job.uid}",
                                                       reason))
        return JobConversions(findings=worker_died(job.files, job.uid, f"series {job.uid}"))


def _beside(series: SeriesInfo, unreadable: Sequence[SkippedFile]) -> list[SkippedFile]:
    """The ``unreadable`` files in the folders of ``series``' files."""
    if not unreadable:
        return []
    folders = {path.parent for path in series.files}
    return [entry for entry in unreadable if entry.path.parent in folders]


@dataclass
class ConversionReport:
    """Everything :func:`convert_archive` did.

    ``passed`` when every series was written and no file was unreadable (a lost slice) nor
    any worker lost: a series written with ``ignore_unreadable`` beside an unreadable file
    still does not pass.
    """

    paths: tuple[Path, ...]
    output: Path
    format: Format
    series: list[Conversion]
    skipped: list[SkippedFile]
    findings: list[Finding]
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        statuses = [c.status for c in self.series]
        return {status: statuses.count(status) for status in ("written", "failed")}

    @property
    def unreadable(self) -> list[SkippedFile]:
        return [s for s in self.skipped if s.category == "unreadable"]

    @property
    def passed(self) -> bool:
        return not (self.counts["failed"] or self.unreadable or self.findings)

    def to_dict(self, reproducible: bool = False) -> dict[str, Any]:
        """JSON-able form: the ``dicomio convert --format json`` output (schema
        ``dicomio/schemas/convert.schema.json``)."""
        return {
            "schema": f"dicomio.convert/{SCHEMA_VERSION}",
            "dicomio_version": __version__,
            "paths": [str(p) for p in self.paths],
            "output": str(self.output),
            "format": self.format,
            "passed": self.passed,
            "counts": self.counts,
            "seconds": None if reproducible else round(self.seconds, 3),
            "series": [c.to_dict(reproducible) for c in self.series],
            "skipped": [describe_skipped(s) for s in self.skipped],
            "findings": [f.to_dict() for f in self.findings],
        }


def _base(roots: Sequence[Path]) -> Path:
    """The common folder of the given paths (a file counts as its folder)."""
    folders = [os.path.abspath(r if r.is_dir() else r.parent) for r in roots]
    return Path(os.path.commonpath(folders))


#: The output folders this process holds the lock of: path → open folder.
_CLAIMED: dict[str, int] = {}


def _claim(output: Path) -> None:
    """Hold the lock of the output folder (until :func:`release_output` or the process ends).

    Raises
    ------
    FileExistsError
        Another process (another ``dicomio convert``) holds it.
    """
    key = os.path.realpath(output)
    if key in _CLAIMED:
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return
    descriptor = os.open(output, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(descriptor)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise FileExistsError(f"{output} is being written into by another dicomio "
                                  f"convert") from None
        return  # a file system without locks: go on unlocked
    _CLAIMED[key] = descriptor


def release_output(output: str | os.PathLike[str]) -> None:
    """Let go of the lock that :func:`prepare_output` took on ``output`` (if this process
    holds it)."""
    descriptor = _CLAIMED.pop(os.path.realpath(output), None)
    if descriptor is not None:
        os.close(descriptor)


def _only_partial_files(folder: Path) -> bool:
    """Whether ``folder`` holds no file but partial files of dicomio's (in any subfolder)."""
    return all(is_partial_file(name) for _, _, names in os.walk(folder) for name in names)


def prepare_output(output: Path, force: bool = False) -> None:
    """Create the output folder, or check the existing one, and hold its lock.

    A new folder is created exclusively (a folder another process created meanwhile is an
    existing one); an existing one must hold no file unless ``force`` (partial files that a
    killed run left are not counted: they are removed). The lock (see :func:`release_output`)
    keeps two runs from writing into one folder at once.

    Raises
    ------
    FileExistsError
        ``output`` is a file, a folder that is not empty (without ``force``), or a folder
        another dicomio convert is writing into.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(output)
    except FileExistsError:
        if not output.is_dir():
            raise FileExistsError(f"{output} is a file, not a folder") from None
    else:
        _claim(output)
        return
    _claim(output)
    if not force and not _only_partial_files(output):
        release_output(output)
        raise FileExistsError(f"{output} is not empty (pass --force to write into it, "
                              f"replacing files of the same names)")
    remove_stale_parts(output)


def convert_plan(
    plan: ArchivePlan,
    output: str | os.PathLike[str],
    executor: Executor,
    *,
    format: Format = "nifti",
    backend: str = "auto",
    rescale: bool = True,
    irregular: Irregular = "raise",
    force: bool = False,
    ignore_unreadable: bool = False,
    sidecar: bool = True,
    name_remedy: Callable[[Remedy], str] = Remedy.python,
    scaling: Scaling = "modality",
    task: SeriesTask[JobConversions] | None = None,
    on_series: Callable[[Conversion], None] | None = None,
    progress: Progress | None = None,
    started: float | None = None,
) -> ConversionReport:
    """Convert the jobs of ``plan`` into files under ``output`` with ``executor``.

    ``ignore_unreadable`` writes the series beside unreadable files too; ``sidecar``,
    ``name_remedy`` and ``scaling`` are as for :class:`ConvertTask`. ``task``,
    ``on_series``, ``progress`` and ``started`` are as for
    :func:`~dicomio.archive.validation.validate_plan`.

    Raises
    ------
    FileExistsError
        ``output`` is not an empty folder (and not ``force``).
    ImportError
        The package writing ``format`` is not installed (the message names the pip extra).
    SchedulerError
        Dask workers do not see the output folder.
    """
    start = time.perf_counter() if started is None else started
    check_writer(format)
    folder = Path(output)
    prepare_output(folder, force)
    executor.check_paths([folder])
    if task is None:
        task = ConvertTask(folder, _base(plan.roots), format, backend, rescale, irregular,
                           decode_threads=1 if executor.parallel else None,
                           ignore_unreadable=ignore_unreadable, sidecar=sidecar,
                           name_remedy=name_remedy, scaling=scaling)
    report = ConversionReport(plan.roots, folder, format, [], list(plan.skipped),
                              list(plan.findings))
    results = run_in_order(executor, task, plan.jobs, task.lost, progress=progress,
                           label=lambda job: job.label)
    for _, result in results:
        for conversion in result.series:
            conversion.index = len(report.series)
            report.series.append(conversion)
            if on_series is not None:
                on_series(conversion)
        report.skipped += result.skipped
        report.findings += result.findings
    report.seconds = time.perf_counter() - start
    release_output(folder)
    return report


def convert_archive(
    paths: PathInput,
    output: str | os.PathLike[str],
    *,
    format: Format = "nifti",
    backend: str = "auto",
    rescale: bool = True,
    irregular: Irregular = "raise",
    force: bool = False,
    ignore_unreadable: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    follow_symlinks: bool = False,
    scaling: Scaling = "modality",
) -> ConversionReport:
    """Write every series under ``paths`` into the folder ``output``, in parallel.

    ``workers`` and ``scheduler`` choose where (see
    :func:`~dicomio.archive.executors.open_executor`); ``follow_symlinks`` follows links out
    of the given folders (by default they are skipped and listed); the other options are those
    of :func:`convert_plan`.
    """
    start = time.perf_counter()
    check_writer(format)  # before the planning, which may take a while
    prepare_output(Path(output), force)
    with open_executor(workers, scheduler) as executor:
        plan = plan_archive(paths, executor, follow_symlinks=follow_symlinks)
        return convert_plan(plan, output, executor, format=format, backend=backend,
                            rescale=rescale, irregular=irregular, force=force,
                            ignore_unreadable=ignore_unreadable, scaling=scaling,
                            started=start)
