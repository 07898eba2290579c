"""Find DICOM images under files and folders, by content."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from dicomio.dicom.checks import header_problem
from dicomio.dicom.header import HEADER_BYTES, read_header
from dicomio.dicom.types import FileHeader
from dicomio.errors import InvalidDicomError, NoDicomFilesError, NotDicomError
from dicomio.series.inventory import Inventory, PathInput, SkippedFile
from dicomio.series.readahead import PROBE_FILES, WaitProbe, read_ahead

__all__ = ["discover"]


def _walk(root: Path, recursive: bool = True) -> Iterator[Path | SkippedFile]:
    """Yield the files under ``root`` in sorted order, following symlinks but never looping
    (only the files directly in ``root`` unless ``recursive``); what cannot be listed or is not
    a regular file comes as a :class:`SkippedFile`, in place."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen:
                yield SkippedFile(folder, "folder already visited (symlink loop)", "other")
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield SkippedFile(folder, f"cannot list folder: {exc.strerror or exc}", "unreadable")
            continue
        subfolders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError as exc:
                yield SkippedFile(Path(entry.path), f"cannot stat: {exc}", "unreadable")
                continue
            if is_dir:
                subfolders.append(Path(entry.path))
            elif is_file:
                yield Path(entry.path)
            elif entry.is_symlink():
                yield SkippedFile(Path(entry.path), "broken symlink", "unreadable")
            else:
                yield SkippedFile(Path(entry.path), "not a regular file", "other")
        if recursive:
            stack.extend(reversed(subfolders))


def _as_paths(paths: PathInput) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _classify(path: Path | SkippedFile) -> FileHeader | SkippedFile:
    if isinstance(path, SkippedFile):
        return path
    try:
        header = read_header(path)
    except NotDicomError as exc:
        return SkippedFile(path, f"not DICOM: {exc.message}", "not_dicom")
    except InvalidDicomError as exc:
        return SkippedFile(path, f"unreadable DICOM: {exc.message}", "unreadable")
    except OSError as exc:
        return SkippedFile(path, f"cannot read: {exc.strerror or exc}", "unreadable")
    if header.is_dicomdir:
        return SkippedFile(path, "DICOMDIR (an index of files, not an image)", "no_pixel_data")
    if not header.has_pixel_data:
        kind = _sop_class_name(header.sop_class_uid)
        if header.pixel is not None or "Image Storage" in kind:
            # An image whose file ends before its pixel data, exactly between two elements.
            return SkippedFile(path, f"an image ({kind}) without pixel data: the file is "
                                     f"truncated or damaged", "unreadable")
        return SkippedFile(path, f"no pixel data ({kind})", "no_pixel_data")
    if header.pixel is None:
        return SkippedFile(path, "pixel data without Rows, Columns or BitsAllocated",
                           "unreadable")
    problem = header_problem(header)
    if problem is not None:
        return SkippedFile(path, f"unusable image header: {problem}", "unreadable")
    return header


def _classify_all(
    entries: Sequence[Path | SkippedFile], workers: int
) -> list[FileHeader | SkippedFile]:
    """Classify every entry, in order, in this thread.

    When the first files show that reading waits on the disk (not cached), a helper thread
    has the OS read the next ones ahead (:mod:`dicomio.series.readahead`) - unless ``workers`` is 1.
    """
    probe, rest = entries[:PROBE_FILES], entries[PROBE_FILES:]
    with WaitProbe() as timing:
        found = [_classify(entry) for entry in probe]
    if rest and workers > 1 and timing.uncached(len(probe)):
        with read_ahead([e for e in rest if isinstance(e, Path)], HEADER_BYTES):
            return found + [_classify(entry) for entry in rest]
    return found + [_classify(entry) for entry in rest]


def _sop_class_name(uid: str) -> str:
    if not uid:
        return "no SOP Class UID"
    from pydicom.uid import UID

    name = UID(uid).name
    return name if name != uid else f"SOP class {uid}"


def discover(paths: PathInput, *, workers: int | None = None, recursive: bool = True
             ) -> Inventory:
    """Find DICOM images under files and folders (recursively), by content.

    Parameters
    ----------
    paths
        A file, a folder, or a sequence of them.
    workers
        1: read every file in this thread only. Otherwise (default) a helper thread may ask
        the OS to read files ahead when they are not cached. The result is the same, in the
        same order, either way.
    recursive
        False: only the files directly in the folders (what :mod:`dicomio.archive` plans as
        one unit, the subfolders being units of their own).

    Returns
    -------
    Inventory
        Headers of the image files, and every other file with the reason it was skipped, in
        the order of ``paths`` and, within a folder, of the sorted file names.

    Raises
    ------
    NoDicomFilesError
        A given path does not exist.
    """
    inventory = Inventory(roots=tuple(_as_paths(paths)))
    entries: list[Path | SkippedFile] = []
    for root in inventory.roots:
        if root.is_dir():
            entries.extend(_walk(root, recursive))
        elif root.exists():
            entries.append(root)
        else:
            raise NoDicomFilesError("no such file or folder", path=root)
    for found in _classify_all(entries, 2 if workers is None else workers):
        if isinstance(found, SkippedFile):
            inventory.skipped.append(found)
        else:
            inventory.headers.append(found)
    return inventory
