"""Plan an archive: find its files and which SeriesInstanceUID each belongs to, cheaply.

Planning reads headers only, and keeps none of them. The archive is cut into **units** that can
be read apart: each given file; for each given folder, the files directly in it and then each
of its subfolders (recursively). A folder holding nothing but one subfolder is descended into,
so that ``archive/data/<patients>`` still gives one unit per patient. The units, in this order,
list the files exactly as :func:`dicomio.discover` walking the whole archive would.

Each unit is indexed on its own (:func:`index_unit`, run where the files are: in this process,
in a pool of processes or on a Dask worker): its headers are read, and only each image's
SeriesInstanceUID, SeriesNumber and path are kept. :func:`plan_archive` merges the units, in
order, into one :class:`SeriesJob` per SeriesInstanceUID: the files of the UID, in the order
discovery found them, and the unreadable files of their folders (discovery tells a damaged
file of a series from other files per folder: see :func:`dicomio.discover`). Every job then
reads its own headers again and groups them; that read is the price of never holding the
headers of the whole archive at once, and it gives the stacks :func:`dicomio.list_series`
would give, since grouping is done per UID.

Memory: one unit's headers while it is indexed (the largest folder of the top level), then the
paths of the archive's files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from dicomio.archive.executors import Executor, run_in_order
from dicomio.errors import NoDicomFilesError
from dicomio.series.discover import discover, refused_link
from dicomio.series.inventory import PathInput, SkippedFile
from dicomio.sources.web_address import as_path, is_web_address
from dicomio.validate.checks import worker_died
from dicomio.validate.findings import Finding

__all__ = ["ArchivePlan", "SeriesJob", "SeriesTask", "Unit", "UnitIndex", "index_unit",
           "plan_archive", "split_units"]

Progress = Callable[[int, int, str], None]
Result_co = TypeVar("Result_co", covariant=True)


@dataclass(frozen=True)
class Unit:
    """Part of an archive indexed on its own: a file, a folder (with its subfolders), or only
    the files directly in a folder (``recursive`` False). ``root`` indexes the given paths."""

    path: Path
    recursive: bool
    root: int
    within: Path | None = None
    follow_symlinks: bool = False


@dataclass
class UnitIndex:
    """What indexing a unit found.

    Attributes
    ----------
    series
        SeriesInstanceUID → (SeriesNumber of its first file, its files in discovery order).
    skipped
        Files that are not images, with the reasons (as :func:`dicomio.discover` gives them).
    findings
        WORKER_DIED when the unit could not be indexed.
    """

    series: dict[str, tuple[int | None, list[str]]] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class SeriesJob:
    """The work on one SeriesInstanceUID: its files, in discovery order, and the unreadable
    files of the folders holding them (each possibly one of its lost slices)."""

    uid: str
    number: int | None
    files: tuple[str, ...]
    unreadable: tuple[SkippedFile, ...] = ()

    @property
    def label(self) -> str:
        """What progress shows while the job runs: the folder of its first file."""
        return os.path.dirname(self.files[0]) if self.files else self.uid


class SeriesTask(Protocol[Result_co]):
    """The work on each job: a picklable callable, pure (a retry must be harmless), and how
    to report a job whose worker died on every attempt."""

    def __call__(self, job: SeriesJob) -> Result_co:
        ...

    def lost(self, job: SeriesJob, reason: str) -> Result_co:
        ...


@dataclass
class ArchivePlan:
    """An archive ready to be processed: one job per SeriesInstanceUID, in report order.

    Attributes
    ----------
    roots
        The given paths.
    jobs
        Sorted as :func:`dicomio.list_series` sorts series: SeriesNumber (none last), then UID.
    skipped
        Every file that is not an image, in discovery order.
    with_images
        The roots under which images were found.
    findings
        WORKER_DIED for units that could not be indexed.
    """

    roots: tuple[Path, ...]
    jobs: list[SeriesJob]
    skipped: list[SkippedFile]
    with_images: set[Path]
    findings: list[Finding]

    @property
    def n_files(self) -> int:
        """Number of image files."""
        return sum(len(job.files) for job in self.jobs)


def _roots(paths: PathInput) -> tuple[Path, ...]:
    if isinstance(paths, (str, os.PathLike)):
        return (as_path(paths),)
    return tuple(as_path(p) for p in paths)


def _listing(folder: Path, within: Path, follow_symlinks: bool) -> tuple[list[Path], int]:
    """The subfolders of ``folder`` in the order discovery walks them, and the number of
    entries (files included). Problems are left to the unit of the folder's own files, which
    reports them as discovery does (a symlink discovery does not follow among them)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return [], 0
    subfolders = []
    for entry in entries:
        try:
            if entry.is_symlink() and refused_link(Path(entry.path), [within],
                                                    follow_symlinks) is not None:
                continue
            if entry.is_dir():
                subfolders.append(Path(entry.path))
        except OSError:
            continue
    return subfolders, len(entries)


def _identity(folder: Path) -> tuple[int, int]:
    info = folder.stat()
    return info.st_dev, info.st_ino


def split_units(paths: PathInput, follow_symlinks: bool = False) -> list[Unit]:
    """Cut the given files and folders into units (see the module docstring); symlinks out
    of a given folder are followed only with ``follow_symlinks`` (as :func:`discover` does).

    Raises
    ------
    NoDicomFilesError
        A path does not exist.
    """
    units: list[Unit] = []
    for index, root in enumerate(_roots(paths)):
        if not root.exists() and not is_web_address(root):
            raise NoDicomFilesError("no such file or folder", path=root)
        if not root.is_dir():
            units.append(Unit(root, False, index))
            continue
        within = Path(os.path.realpath(root))
        folder, seen = root, {_identity(root)}
        subfolders, entries = _listing(folder, within, follow_symlinks)
        while entries == 1 and len(subfolders) == 1 and _identity(subfolders[0]) not in seen:
            folder = subfolders[0]
            seen.add(_identity(folder))
            subfolders, entries = _listing(folder, within, follow_symlinks)
        units.append(Unit(folder, False, index, within, follow_symlinks))
        units += [Unit(sub, True, index, within, follow_symlinks) for sub in subfolders]
    return units


def index_unit(unit: Unit) -> UnitIndex:
    """Read the headers of one unit and keep only what planning needs (a pure function): a
    DICOMweb URL's from its metadata, no instance retrieved (each job retrieves its own)."""
    index = UnitIndex()
    try:
        inventory = discover(unit.path, recursive=unit.recursive,
                             follow_symlinks=unit.follow_symlinks, within=unit.within,
                             headers_only=True)
    except NoDicomFilesError as exc:  # removed since the units were listed
        index.skipped.append(SkippedFile(unit.path, f"cannot read: {exc.message}",
                                         "unreadable"))
        return index
    index.skipped = inventory.skipped
    for header in inventory.headers:
        _, files = index.series.setdefault(header.series_uid, (header.series_number, []))
        files.append(str(header.path))
    return index


def _unit_lost(unit: Unit, reason: str) -> UnitIndex:
    return UnitIndex(findings=worker_died([unit.path], None, f"the folder {unit.path}"))


def _unreadable_by_folder(skipped: list[SkippedFile]) -> dict[Path, list[SkippedFile]]:
    """The unreadable files (not folders that could not be listed), by folder."""
    found: dict[Path, list[SkippedFile]] = {}
    for entry in skipped:
        if entry.category == "unreadable" and not entry.path.is_dir():
            found.setdefault(entry.path.parent, []).append(entry)
    return found


def _beside(files: list[str], damaged: dict[Path, list[SkippedFile]]
            ) -> tuple[SkippedFile, ...]:
    """The unreadable files in the folders of ``files``, in discovery order."""
    if not damaged:
        return ()
    folders = dict.fromkeys(Path(path).parent for path in files)
    return tuple(entry for folder in folders for entry in damaged.get(folder, ()))


def plan_archive(
    paths: PathInput, executor: Executor, *, progress: Progress | None = None,
    follow_symlinks: bool = False,
) -> ArchivePlan:
    """Index the archive under ``paths`` with ``executor`` and make one job per UID.

    ``progress(done, total, label)`` is called as each unit is indexed. Symlinks out of the
    given folders are skipped (listed with the reason) unless ``follow_symlinks``.

    Raises
    ------
    NoDicomFilesError
        A path does not exist.
    SchedulerError
        Dask workers do not see the paths.
    """
    units = split_units(paths, follow_symlinks)
    roots = _roots(paths)
    executor.check_paths(roots)
    merged: dict[str, tuple[int | None, list[str]]] = {}
    plan = ArchivePlan(roots, [], [], set(), [])
    indexed = run_in_order(executor, index_unit, units, _unit_lost, progress=progress,
                           label=lambda unit: str(unit.path))
    for position, found in indexed:
        unit = units[position]
        plan.skipped += found.skipped
        plan.findings += found.findings
        if found.series:
            plan.with_images.add(roots[unit.root])
        for uid, (number, files) in found.series.items():
            merged.setdefault(uid, (number, []))[1].extend(files)
    damaged = _unreadable_by_folder(plan.skipped)
    plan.jobs = [SeriesJob(uid, number, tuple(files), _beside(files, damaged))
                 for uid, (number, files) in merged.items()]
    plan.jobs.sort(key=lambda job: (job.number is None, job.number or 0, job.uid))
    return plan

