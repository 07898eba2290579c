"""Find the DICOM images under some paths and group them into series of slices.

Three steps, each reading headers only, once per file:

1. :func:`discover` walks the paths and recognises DICOM by content; every other file is kept in
   the inventory with the reason it was skipped.
2. :func:`group` splits images by SeriesInstanceUID, then into stacks where orientation, image
   size or pixel spacing differ (a localizer inside a series).
3. Each stack is sorted along its normal and its geometry checked (:mod:`dicomio.geometry`).
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from dicomio.errors import InvalidDicomError, MissingGeometryError, NoDicomFilesError
from dicomio.frame import Frame
from dicomio.geometry import (
    GeometryIssue,
    GeometryTolerances,
    StackGeometry,
    analyse_stack,
    orientation_label,
    orientation_problem,
    position_problem,
    spacing_problem,
)
from dicomio.header import HEADER_BYTES, FileHeader, NotDicomError, PixelFormat, read_header
from dicomio.mosaic import is_mosaic, mosaic_frames
from dicomio.multiframe import RT_DOSE, functional_group_frames, grid_offset_frames
from dicomio.readahead import PROBE_FILES, WaitProbe, read_ahead
from dicomio.sanity import header_problem

__all__ = ["Frame", "Inventory", "SeriesInfo", "SkippedFile", "discover", "frames_of", "group",
           "list_series", "read_frames"]

PathInput = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
SkipCategory = Literal["not_dicom", "no_pixel_data", "unreadable", "other"]


@dataclass(frozen=True)
class SkippedFile:
    """A file that is not part of any series, and why.

    ``category`` is ``"not_dicom"`` (content is not DICOM), ``"no_pixel_data"`` (DICOM but not an
    image: DICOMDIR, SR, RT structures, presentation states...) or ``"unreadable"`` (could not be
    opened, or DICOM whose header is truncated or malformed: possibly a lost slice), or
    ``"other"`` (a folder reached twice through a symlink loop, a device or pipe).
    """

    path: Path
    reason: str
    category: SkipCategory


@dataclass
class Inventory:
    """What :func:`discover` found: image headers, and every skipped file with its reason."""

    headers: list[FileHeader] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    roots: tuple[Path, ...] = ()

    @property
    def unreadable(self) -> list[SkippedFile]:
        return [s for s in self.skipped if s.category == "unreadable"]


@dataclass(frozen=True, eq=False)
class SeriesInfo:
    """One stack of slices that can become one volume.

    Attributes
    ----------
    uid, number, description, modality
        SeriesInstanceUID, SeriesNumber, SeriesDescription and Modality.
    frames
        The slices (a file's frame, or a mosaic's tile), sorted along the slice normal
        (duplicates removed).
    geometry
        Sorted positions, affine and geometric issues; ``None`` when the stack has no usable
        geometry (see ``geometry_problem``).
    stack, n_stacks
        Index of this stack among the stacks of its series, and how many there are.
    warnings
        What was noticed while grouping (duplicate files dropped, ...).
    """

    uid: str
    number: int | None
    description: str
    modality: str
    frames: tuple[Frame, ...]
    geometry: StackGeometry | None
    geometry_problem: str | None = None
    stack: int = 0
    n_stacks: int = 1
    warnings: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """UID, with ``#stack`` appended when the series holds several stacks."""
        return self.uid if self.n_stacks == 1 else f"{self.uid}#{self.stack}"

    @property
    def pixel(self) -> PixelFormat:
        fmt = self.frames[0].header.pixel
        assert fmt is not None  # images without a pixel module are skipped in discover()
        return fmt

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """(rows, columns[, samples]) of one slice (a tile's, for a Siemens mosaic)."""
        return self.frames[0].shape

    @property
    def rows(self) -> int:
        return self.frame_shape[0]

    @property
    def columns(self) -> int:
        return self.frame_shape[1]

    @property
    def n_slices(self) -> int:
        return len(self.frames)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the volume: (slices, rows, columns[, samples])."""
        return (self.n_slices, *self.frame_shape)

    @property
    def image_type(self) -> tuple[str, ...]:
        """ImageType of the first image (its FrameType, for an enhanced frame)."""
        return self.frames[0].image_type

    @property
    def is_mosaic(self) -> bool:
        """The slices are tiles of Siemens mosaics (read whole, then cut)."""
        return self.frames[0].tile is not None

    @property
    def files(self) -> tuple[Path, ...]:
        """The files of the stack, in slice order, each once."""
        return tuple(dict.fromkeys(f.path for f in self.frames))

    @property
    def headers(self) -> tuple[FileHeader, ...]:
        return tuple({id(f.header): f.header for f in self.frames}.values())

    @property
    def transfer_syntaxes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.transfer_syntax.uid for h in self.headers))

    @property
    def orientation(self) -> tuple[float, ...] | None:
        return self.frames[0].orientation

    @property
    def orientation_label(self) -> str:
        return orientation_label(self.orientation)

    @property
    def spacing(self) -> tuple[float, float, float] | None:
        """Voxel spacing (slice, row, column) in mm, or None without geometry."""
        if self.geometry is None:
            return None
        return tuple(float(v) for v in np.linalg.norm(self.geometry.affine[:3, :3], axis=0))  # type: ignore[return-value]

    @property
    def issues(self) -> tuple[GeometryIssue, ...]:
        return self.geometry.issues if self.geometry is not None else ()

    def __repr__(self) -> str:
        return (f"SeriesInfo(key={self.key!r}, number={self.number}, "
                f"description={self.description!r}, modality={self.modality!r}, "
                f"shape={self.shape})")


# --- discovery ---------------------------------------------------------------------------------

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
    has the OS read the next ones ahead (:mod:`dicomio.readahead`) - unless ``workers`` is 1.
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


# --- grouping ----------------------------------------------------------------------------------

def read_frames(header: FileHeader) -> tuple[list[Frame], list[str]]:
    """The 2-D images a file holds, and what went wrong finding them.

    - a Siemens mosaic (ImageType MOSAIC): one frame per tile (:mod:`dicomio.mosaic`);
    - an enhanced multi-frame file: one frame per frame, described by its functional groups
      (:mod:`dicomio.multiframe`);
    - an RT Dose grid: one frame per frame, placed by GridFrameOffsetVector;
    - otherwise one frame per frame, sharing the file's geometry (a classic multi-frame file
      without per-frame positions cannot be placed in space: grouping says so).

    A mosaic or functional groups that cannot be used leave the file as plain frames, and the
    reason is returned as a warning.
    """
    warnings: list[str] = []
    count = header.pixel.number_of_frames if header.pixel is not None else 1
    try:
        if header.has_functional_groups:
            return functional_group_frames(header), warnings
        if is_mosaic(header):
            return mosaic_frames(header), warnings
        if header.sop_class_uid == RT_DOSE and count > 1:
            return grid_offset_frames(header), warnings
    except InvalidDicomError as exc:
        warnings.append(f"{header.path}: {exc.message}; its frames are used as stored")
    single = Frame.single(header)
    if count == 1:
        return [single], warnings
    return [replace(single, index=i) for i in range(count)], warnings


def frames_of(header: FileHeader) -> list[Frame]:
    """The 2-D frames held by a file (one for a classic single-frame image); see
    :func:`read_frames`."""
    return read_frames(header)[0]


def _stack_key(frame: Frame) -> tuple[object, ...]:
    """Frames that can share a volume: same shape, pixel format, pixel spacing and, for
    enhanced frames, FrameType (magnitude and field-map frames of one file are two stacks)."""
    fmt = frame.header.pixel
    assert fmt is not None
    spacing = frame.pixel_spacing
    # Invalid spacings (NaN, inf) group together, to be reported once for the stack.
    rounded = (None if spacing is None or not all(math.isfinite(v) for v in spacing)
               else tuple(round(v, 4) for v in spacing))
    return (frame.shape, fmt.bits_allocated, rounded, frame.frame_type)


def _number(frame: Frame) -> tuple[bool, int]:
    """SeriesNumber as a sort key (absent last)."""
    number = frame.header.series_number
    return (number is None, number or 0)


def _split_by_orientation(frames: list[Frame], tolerance: float) -> list[list[Frame]]:
    """Cluster frames whose orientation cosines agree within ``tolerance``."""
    clusters: list[tuple[np.ndarray | None, list[Frame]]] = []
    # A frame whose orientation was seen before joins the same cluster: looked up, not compared
    # with every cluster again (that made thousands of frames cost clusters x frames).
    seen: dict[tuple[float, ...] | None, list[Frame]] = {}
    for frame in frames:
        found = seen.get(frame.orientation)
        if found is not None:
            found.append(frame)
            continue
        iop = None if frame.orientation is None else np.asarray(frame.orientation, dtype=float)
        if iop is not None and not np.all(np.isfinite(iop)):
            iop = None  # invalid orientations group together, to be reported once
        for reference, members in clusters:
            if (reference is None and iop is None) or (
                reference is not None and iop is not None and reference.shape == iop.shape
                and np.all(np.abs(reference - iop) <= tolerance)
            ):
                members.append(frame)
                break
        else:
            members = [frame]
            clusters.append((iop, members))
        seen[frame.orientation] = members
    return [members for _, members in clusters]


def _drop_duplicates(frames: list[Frame]) -> tuple[list[Frame], dict[int, list[str]]]:
    """Drop frames that repeat the same SOP instance and frame (copies of one file).

    Returns the frames kept, and the warnings keyed by ``id()`` of the frame each copy repeats.
    """
    kept: dict[tuple[str, int, int], Frame] = {}
    unique: list[Frame] = []
    warnings: dict[int, list[str]] = defaultdict(list)
    for frame in frames:
        uid = frame.header.sop_instance_uid
        if not uid:
            unique.append(frame)
            continue
        tile = -1 if frame.tile is None else frame.tile.number
        first = kept.setdefault((uid, frame.index, tile), frame)
        if first is frame:
            unique.append(frame)
        else:
            warnings[id(first)].append(f"dropped {frame.path}: duplicate of {first.path} "
                                       f"(same SOPInstanceUID {uid})")
    return unique, warnings


def _geometry(
    frames: list[Frame], tolerances: GeometryTolerances
) -> tuple[list[Frame], StackGeometry | None, str | None]:
    """Sort frames along their normal; without usable geometry, by InstanceNumber."""
    first = frames[0]
    problems = [orientation_problem(first.orientation, tolerances.orientation),
                spacing_problem(first.pixel_spacing)]
    problems += [position_problem(f.position) for f in frames]
    problem = next((p for p in problems if p is not None), None)
    if problem is not None:
        # Last resort, and reported as such: InstanceNumber, then file name.
        ordered = sorted(frames, key=_stored_order)
        bad = next((f for f in frames if position_problem(f.position)), first)
        return ordered, None, f"{bad.path.name}: {problem}"
    assert first.orientation is not None and first.pixel_spacing is not None
    geometry = analyse_stack(
        [f.position for f in frames],  # type: ignore[misc]
        first.orientation,
        first.pixel_spacing,
        slice_thickness=first.slice_thickness,
        tolerances=tolerances,
    )
    return [frames[i] for i in geometry.order], geometry, None


def _stored_order(frame: Frame) -> tuple[object, ...]:
    """The last-resort order: InstanceNumber, file name, frame number, tile number."""
    number = frame.header.instance_number
    tile = 0 if frame.tile is None else frame.tile.number
    return (number is None, number or 0, str(frame.path), frame.index, tile)


def group(
    headers: Iterable[FileHeader], tolerances: GeometryTolerances = GeometryTolerances()
) -> list[SeriesInfo]:
    """Group image headers into sorted stacks, one :class:`SeriesInfo` each.

    Series are ordered by SeriesNumber then UID; the stacks of one series by SeriesNumber (files
    sharing a SeriesInstanceUID under different SeriesNumbers are different acquisitions, as
    dcm2niix treats them), decreasing size, then where their first image is stored
    (InstanceNumber, file name, frame number).
    """
    by_series: dict[str, list[Frame]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    for header in headers:
        frames, problems = read_frames(header)
        by_series[header.series_uid].extend(frames)
        notes[header.series_uid] += problems

    result: list[SeriesInfo] = []
    for uid, frames in by_series.items():
        frames, warnings = _drop_duplicates(frames)
        by_shape: dict[tuple[object, ...], list[Frame]] = defaultdict(list)
        for frame in frames:
            key = (_number(frame), *_stack_key(frame))
            by_shape[key].append(frame)
        stacks = [s for shape in by_shape.values()
                  for s in _split_by_orientation(shape, tolerances.orientation)]
        stacks.sort(key=lambda s: (_number(s[0]), -len(s),
                                   _stored_order(min(s, key=_stored_order))))
        for index, members in enumerate(stacks):
            ordered, geometry, problem = _geometry(members, tolerances)
            head = members[0].header
            result.append(SeriesInfo(
                uid=uid,
                number=head.series_number,
                description=head.series_description,
                modality=head.modality,
                frames=tuple(ordered),
                geometry=geometry,
                geometry_problem=problem,
                stack=index,
                n_stacks=len(stacks),
                warnings=tuple(notes[uid]) + tuple(w for f in ordered
                                                   for w in warnings.get(id(f), ())),
            ))
    result.sort(key=lambda s: (s.number is None, s.number or 0, s.uid, s.stack))
    return result


def list_series(
    paths: PathInput,
    *,
    tolerances: GeometryTolerances = GeometryTolerances(),
    workers: int | None = None,
) -> list[SeriesInfo]:
    """List the series (stacks of slices) under files or folders.

    Parameters
    ----------
    paths
        A file, a folder (searched recursively), or a sequence of them.
    tolerances
        Thresholds of the geometry checks.
    workers
        1: read every header in this thread only (see :func:`discover`).

    Returns
    -------
    list of SeriesInfo
        Sorted by SeriesNumber; each one sorted along its slice normal. The files that were
        skipped, with their reasons, are in :func:`scan`'s inventory.
    """
    return scan(paths, tolerances=tolerances, workers=workers)[0]


def scan(
    paths: PathInput,
    *,
    tolerances: GeometryTolerances = GeometryTolerances(),
    workers: int | None = None,
) -> tuple[list[SeriesInfo], Inventory]:
    """Like :func:`list_series`, and also return the :class:`Inventory` (skipped files)."""
    inventory = discover(paths, workers=workers)
    return group(inventory.headers, tolerances), inventory


def require_geometry(series: SeriesInfo) -> StackGeometry:
    """Return the stack's geometry or raise :class:`MissingGeometryError`."""
    if series.geometry is None:
        raise MissingGeometryError(
            f"cannot place the slices of series {series.key} in space: "
            f"{series.geometry_problem}",
            path=series.frames[0].path,
            issues=(GeometryIssue("MISSING_GEOMETRY", series.geometry_problem or ""),),
        )
    return series.geometry
