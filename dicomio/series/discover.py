"""Find DICOM images under files and folders, by content."""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from dicomio.arguments import check_count, check_flag
from dicomio.dicom.checks import header_problem
from dicomio.dicom.header import HEADER_BYTES, read_header
from dicomio.dicom.source import PathSource, Source, read_dataset
from dicomio.dicom.types import FileHeader
from dicomio.errors import DicomIOError, NoDicomFilesError, NotDicomError, translated
from dicomio.series.inventory import Inventory, PathInput, SkippedFile
from dicomio.series.readahead import PROBE_FILES, WaitProbe, read_ahead
from dicomio.sources.inputs import as_inputs, file_entries, web_instances
from dicomio.sources.memory import MemorySource
from dicomio.sources.web_address import as_path

__all__ = ["discover", "refused_link"]

# File endings (lower case) that name a file as DICOM: one that fails to parse is damaged.
_DICOM_EXTENSIONS = frozenset({".dcm", ".dicom", ".ima", ".dc3", ".dic"})


# Offset of the DICM prefix: a shorter file cannot carry it.
_PREFIX_END = 132


# A run of digits, with the dots between runs (SOPInstanceUIDs used as names).
_NUMBERS = re.compile(r"\d+(?:\.\d+)*")


# Folders of the system's own pseudo-files: a symlink into them is never followed (a link to
# /proc/self would reach the whole file system through /proc/self/root).
_SYSTEM_FOLDERS = tuple(Path(p) for p in ("/proc", "/sys", "/dev"))


def refused_link(path: Path, within: Sequence[Path], follow_symlinks: bool = False) -> str | None:
    """Why the symbolic link ``path`` is not followed, or None to follow it.

    A link is followed when it stays inside one of the folders ``within`` (resolved), or when
    ``follow_symlinks`` says so; never when it points to a folder holding it (a loop: following
    it would walk that folder again, or everything above it) nor into the system's
    pseudo-files (``/proc``, ``/sys``, ``/dev``). A broken link is left to the caller (None).

    Parameters
    ----------
    path
        A symbolic link met while walking.
    within
        The folders the walk stays inside (resolved paths).
    follow_symlinks
        Follow links that leave ``within`` too.
    """
    target = Path(os.path.realpath(path))
    if not target.exists():
        return None
    if target.is_dir() and Path(os.path.realpath(path.parent)).is_relative_to(target):
        return f"symlink loop: points to {target}, a folder holding it (not followed)"
    if any(target.is_relative_to(folder) for folder in within):
        return None
    if any(target.is_relative_to(system) for system in _SYSTEM_FOLDERS):
        return f"symlink to {target}: system files, never followed"
    if not follow_symlinks:
        return (f"symlink to {target}, outside the scanned folder (not followed; "
                f"follow_symlinks=True, or --follow-symlinks, follows it)")
    return None


def _walk(root: Path, recursive: bool = True, follow_symlinks: bool = False,
          within: Sequence[Path] | None = None) -> Iterator[Path | SkippedFile]:
    """Yield the files under ``root`` in sorted order, never looping (only the files directly
    in ``root`` unless ``recursive``); what cannot be listed or is not a regular file comes as
    a :class:`SkippedFile`, in place, and so does every symlink :func:`refused_link` refuses
    (``within``: the folders to stay inside, default ``root``)."""
    inside = [Path(os.path.realpath(f)) for f in (within if within is not None else [root])]
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
            path = Path(entry.path)
            try:
                refused = (refused_link(path, inside, follow_symlinks) if entry.is_symlink()
                           else None)
                is_dir = refused is None and entry.is_dir()
                is_file = refused is None and not is_dir and entry.is_file()
            except OSError as exc:
                yield SkippedFile(path, f"cannot stat: {exc}", "unreadable")
                continue
            if refused is not None:
                yield SkippedFile(path, refused, "other")
            elif is_dir:
                subfolders.append(path)
            elif is_file:
                yield path
            elif entry.is_symlink():
                yield SkippedFile(path, "broken symlink", "unreadable")
            else:
                yield SkippedFile(path, "not a regular file", "other")
        if recursive:
            stack.extend(reversed(subfolders))


def _root_entry(root: Path) -> Path | SkippedFile:
    """A given path that is not a folder: itself when it is a regular file (following a
    link), else skipped unopened (a FIFO would block the read forever, a device never end).

    Raises
    ------
    NoDicomFilesError
        ``root`` does not exist.
    """
    try:
        mode = os.stat(root).st_mode
    except FileNotFoundError:
        raise NoDicomFilesError("no such file or folder", path=root) from None
    except OSError as exc:
        return SkippedFile(root, f"cannot read: {exc.strerror or exc}", "unreadable")
    if not stat.S_ISREG(mode):
        return SkippedFile(root, "not a regular file (a pipe, a device or a socket): never "
                                 "opened", "other")
    return root


def _as_paths(paths: PathInput) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [as_path(paths)]
    return [as_path(p) for p in paths]


def _name(entry: Path | Source | SkippedFile) -> Path:
    return entry if isinstance(entry, Path) else entry.path if isinstance(
        entry, SkippedFile) else entry.name


def _classify(entry: Path | Source | SkippedFile) -> FileHeader | SkippedFile:
    if isinstance(entry, SkippedFile):
        return entry
    path = _name(entry)
    try:
        with translated(path, "reading the header"):
            header = read_header(entry)
    except NotDicomError as exc:
        return SkippedFile(path, f"not DICOM: {exc.message}", "not_dicom")
    except DicomIOError as exc:  # malformed, over a budget, or failing unexpectedly
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
    try:
        with translated(path, "checking the header"):
            problem = header_problem(header)
    except DicomIOError as exc:
        problem = exc.message
    if problem is not None:
        return SkippedFile(path, f"unusable image header: {problem}", "unreadable")
    return header


def _classify_all(
    entries: Sequence[Path | Source | SkippedFile], workers: int
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


def _name_pattern(name: str) -> str:
    """The naming pattern of a file: its name, lower-cased, with every run of digits (and of
    dot-separated digits, as in a UID) replaced by ``#``: ``IM_0007`` -> ``im_#``,
    ``1.3.12.2.1107.5.dcm`` -> ``#.dcm``."""
    return _NUMBERS.sub("#", name.lower())


def _damaged(skipped: SkippedFile, source: Source, size: int, evidence: str) -> SkippedFile:
    """``skipped`` (not DICOM by content, ``size`` bytes) as a damaged file of a series, said
    why.

    The file is first shown to pydicom: a DICOM object that is not an image, in an encoding
    the header reader does not walk (big-endian without file meta), is kept as such.
    """
    path = skipped.path
    kind = _non_image_kind(source) if size else None
    if kind is not None:
        return SkippedFile(path, f"no pixel data ({kind}; an encoding without file meta "
                                 f"information read by pydicom)", "no_pixel_data")
    content = skipped.reason.removeprefix("not DICOM: ")
    if size == 0:
        detail = content  # "empty file (0 bytes)"
    elif size < _PREFIX_END:
        detail = f"{size} bytes, too short to hold the DICM prefix"
    else:
        detail = f"{size} bytes, {content}"
    return SkippedFile(path, f"damaged or truncated, {evidence}: {detail}", "unreadable")


def _blank_start(source: Source) -> bool:
    """Whether ``source`` starts as most DICOM files do: with a preamble of zeros (its first
    128 bytes, or all of a shorter file)."""
    with source.open() as handle:
        return not handle.read(_PREFIX_END - 4).strip(b"\0")


def _non_image_kind(source: Source) -> str | None:
    """The SOP class of ``source`` when pydicom reads it as a DICOM object that is not an
    image, else None (not DICOM, or an image: damaged either way for dicomio)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = read_dataset(source, stop_before_pixels=True, force=True,
                                   specific_tags=["SOPClassUID", "Rows"])
        uid = str(dataset.get("SOPClassUID", ""))
        has_rows = "Rows" in dataset
    except Exception:  # any failure of the second opinion leaves the first one standing
        return None
    kind = _sop_class_name(uid)
    if not uid.startswith("1.2.840.10008.") or has_rows or "Image Storage" in kind:
        return None
    return kind


def _recognise_damaged(found: list[FileHeader | SkippedFile], sources: dict[Path, Source]
                       ) -> list[FileHeader | SkippedFile]:
    """Turn the files that are not DICOM by content but belong to a series by evidence into
    ``unreadable`` ones: the naming pattern of DICOM images in the same folder (``IM_0007``
    beside ``IM_0001``..., digit runs aside), or a DICOM file ending (``.dcm``, ``.dicom``,
    ``.ima``, ``.dc3``, ``.dic``) on a file that is empty or starts with a blank preamble.
    Text files, sidecars, licences, compressed files - and junk that merely ends in ``.dcm``
    - keep ``not_dicom``."""
    folders = {f.path.parent for f in found
               if isinstance(f, SkippedFile) and f.category == "not_dicom"}
    if not folders:
        return found
    # Only the images beside a skipped file are evidence (naming each costs a regex).
    images = Counter((header.path.parent, _name_pattern(header.path.name))
                     for header in found
                     if isinstance(header, FileHeader) and header.path.parent in folders)
    result: list[FileHeader | SkippedFile] = []
    for entry in found:
        # Items in memory are named by their place: their names are no evidence.
        if isinstance(entry, SkippedFile) and entry.category == "not_dicom" and \
                not isinstance(sources.get(entry.path), MemorySource):
            entry = _as_damaged(entry, images[entry.path.parent, _name_pattern(entry.path.name)],
                                sources.get(entry.path) or PathSource(entry.path))
        result.append(entry)
    return result


def _as_damaged(entry: SkippedFile, beside: int, source: Source) -> SkippedFile:
    """``entry`` (read from ``source``) as a damaged file when the evidence says so
    (``beside``: the images of its folder named like it), else ``entry`` itself."""
    suffix = entry.path.suffix
    if not beside and suffix.lower() not in _DICOM_EXTENSIONS:
        return entry
    try:
        size = source.size()
        if beside:
            plural = "s" if beside > 1 else ""
            return _damaged(entry, source, size, f"named like the {beside} DICOM "
                                                 f"image{plural} beside it")
        if _blank_start(source):
            blank = ", its first bytes a blank preamble" if size else ""
            return _damaged(entry, source, size, f"named as DICOM ({suffix}){blank}")
    except OSError as exc:
        return SkippedFile(entry.path, f"cannot read: {exc.strerror or exc}", "unreadable")
    return entry


def _sop_class_name(uid: str) -> str:
    if not uid:
        return "no SOP Class UID"
    from pydicom.uid import UID

    name = UID(uid).name
    return name if name != uid else f"SOP class {uid}"


def discover(paths: PathInput, *, workers: int | None = None, recursive: bool = True,
             follow_symlinks: bool = False, within: PathInput | None = None,
             headers_only: bool = False) -> Inventory:
    """Find DICOM images under files and folders (recursively), by content.

    Parameters
    ----------
    paths
        A file, a folder, or a sequence of them. A zip or tar archive (``.zip``, ``.tar``,
        ``.tar.gz``) is read in place, member by member (named ``study.zip!/DICOM/IM1``); a
        DICOMDIR is followed (its missing and unlisted files skipped with the reason); an
        item that is a pydicom ``Dataset``, ``bytes`` or a binary file object is read from
        memory (named by its place, ``<memory>[3]``). See :mod:`dicomio.sources`.
    workers
        1: read every file in this thread only. Otherwise (default) a helper thread may ask
        the OS to read files ahead when they are not cached. The result is the same, in the
        same order, either way.
    recursive
        False: only the files directly in the folders (what :mod:`dicomio.archive` plans as
        one unit, the subfolders being units of their own).
    follow_symlinks
        False (default): a symbolic link leading out of the given folder is not followed
        (it is skipped, with its target in the reason). True: followed. Either way a link to a
        folder holding it (a loop) or into ``/proc``, ``/sys`` or ``/dev`` never is.
    within
        The folders the walk stays inside when they are not the given paths themselves (an
        archive walked one subfolder at a time stays inside the archive).
    headers_only
        True: a DICOMweb URL gives its instances' headers from their metadata, no instance
        retrieved (:mod:`dicomio.sources.web_headers`; :attr:`FileHeader.headers_only`).
        Files, archives, DICOMDIRs and memory are read the same either way (the header
        walk never reads pixel data). DICOMweb instance URLs given together (a Volume's
        files) are retrieved together, in parallel.

    Returns
    -------
    Inventory
        Headers of the image files, and every other file with the reason it was skipped, in
        the order of ``paths`` and, within a folder, of the sorted file names. A file that is
        not DICOM by content but is named like the DICOM images of its folder (``IM_0007``
        beside ``IM_0001``..., digit runs aside), or named as DICOM (``.dcm``, ``.dicom``,
        ``.ima``, ``.dc3``, ``.dic``) while empty or starting with a blank preamble, is a
        damaged slice: category ``unreadable``, its reason saying so. Only the files of the
        same call count as its neighbours.

    Raises
    ------
    NoDicomFilesError
        A given path does not exist.
    InvalidArgumentError
        ``workers`` below 1, or a flag that is not a bool, before any file is read.
    """
    check_count("workers", workers, none="a read-ahead helper thread when it pays")
    check_flag("recursive", recursive)
    check_flag("follow_symlinks", follow_symlinks)
    check_flag("headers_only", headers_only)
    inputs = as_inputs(paths)
    instances = web_instances(inputs, headers_only)
    inventory = Inventory(roots=tuple(_name(root) for root in inputs))
    entries: list[Path | Source | SkippedFile] = []
    bounds = None if within is None else _as_paths(within)
    for root in inputs:
        if not isinstance(root, Path):
            entries.append(root)
        elif root in instances:
            entries.append(instances[root])
        elif root.is_dir():
            entries.extend(_walk(root, recursive, follow_symlinks, bounds))
        else:
            entries.extend(file_entries(root, headers_only) or [_root_entry(root)])
    classified = _classify_all(entries, 2 if workers is None else workers)
    sources = {entry.name: entry for entry in entries
               if not isinstance(entry, (Path, SkippedFile))}
    for found in _recognise_damaged(classified, sources):
        if isinstance(found, SkippedFile):
            inventory.skipped.append(found)
        else:
            inventory.headers.append(found)
    return inventory
