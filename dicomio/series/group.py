"""Group image headers into series, and series into sorted stacks of slices.

The second step after :mod:`dicomio.series.discover`, from headers only:

1. :func:`read_frames` turns each file into its 2-D frames (one per frame, or per mosaic tile,
   placed by :mod:`dicomio.geometry.multiframe` and :mod:`dicomio.geometry.mosaic`);
2. :func:`group` splits the frames by SeriesInstanceUID, then into stacks where orientation,
   image size or pixel spacing differ (a localizer inside a series);
3. each stack is sorted along its normal and its geometry checked
   (:func:`dicomio.geometry.stack.analyse_stack`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from dicomio.dicom.frame import Frame
from dicomio.dicom.types import FileHeader
from dicomio.errors import DicomIOError, InvalidDicomError, translated
from dicomio.geometry.mosaic import is_mosaic, mosaic_frames
from dicomio.geometry.multiframe import RT_DOSE, functional_group_frames, grid_offset_frames
from dicomio.geometry.stack import (
    GeometryTolerances,
    StackGeometry,
    analyse_stack,
    orientation_problem,
    position_problem,
    spacing_problem,
)
from dicomio.series.info import SeriesInfo, SeriesNote
from dicomio.series.vendor import (
    file_conventions,
    image_kind,
    pepolar_polarity,
    stack_key,
    stack_notes,
)

__all__ = ["group", "read_frames"]


def read_frames(header: FileHeader) -> tuple[list[Frame], list[SeriesNote]]:
    """The 2-D images a file holds, and what went wrong finding them.

    - a Siemens mosaic (ImageType MOSAIC): one frame per tile (:mod:`dicomio.geometry.mosaic`);
    - an enhanced multi-frame file: one frame per frame, described by its functional groups
      (:mod:`dicomio.geometry.multiframe`);
    - an RT Dose grid: one frame per frame, placed by GridFrameOffsetVector;
    - otherwise one frame per frame, sharing the file's geometry (a classic multi-frame file
      without per-frame positions cannot be placed in space: grouping says so).

    A mosaic, functional groups or grid offsets that cannot be used leave the file as plain
    frames, as stored, and a note says why: FRAMES_AS_STORED for a problem of the data that
    dicomio foresaw (:class:`~dicomio.errors.InvalidDicomError`), INTERNAL_ERROR for any
    other failure (translated by :func:`dicomio.errors.from_foreign`). Frames as stored are not
    where the file says they are: the series is then unplaced (:mod:`dicomio.series.layout`),
    and loading it refuses unless told to accept.

    The vendor conventions that concern single images are then applied
    (:func:`dicomio.series.vendor.file_conventions`): GE ``epi_pepolar`` images stored with
    their rows reversed are marked, UIH grids are frames as stored.
    """
    frames, notes = _file_frames(header)
    return file_conventions(header, frames, notes)


def _file_frames(header: FileHeader) -> tuple[list[Frame], list[SeriesNote]]:
    """:func:`read_frames` before the vendor conventions."""
    notes: list[SeriesNote] = []
    count = header.pixel.number_of_frames if header.pixel is not None else 1
    try:
        with translated(header.path, "placing the frames of the file"):
            # A single-frame image that says MOSAIC is a mosaic, whatever else it carries.
            if is_mosaic(header) and count == 1:
                return mosaic_frames(header), notes
            if header.has_functional_groups:
                return functional_group_frames(header), notes
            if header.sop_class_uid == RT_DOSE and count > 1:
                return grid_offset_frames(header), notes
    except DicomIOError as exc:
        code = "FRAMES_AS_STORED" if isinstance(exc, InvalidDicomError) else "INTERNAL_ERROR"
        notes.append(SeriesNote(code, f"{header.path}: {exc.message}; its frames are used as "
                                      f"stored", (header.path,)))
    single = Frame.single(header)
    if count == 1:
        return [single], notes
    return [replace(single, index=i) for i in range(count)], notes


def _stack_key(frame: Frame) -> tuple[object, ...]:
    """Frames that can share a volume: same shape, pixel format, pixel spacing, for enhanced
    frames FrameType (magnitude and field-map frames of one file are two stacks), and what
    vendor conventions tell apart (:func:`dicomio.series.vendor.stack_key`: the kind of image,
    rows stored reversed)."""
    fmt = frame.header.pixel
    assert fmt is not None
    spacing = frame.pixel_spacing
    # Invalid spacings (NaN, inf) group together, to be reported once for the stack.
    rounded = (None if spacing is None or not all(math.isfinite(v) for v in spacing)
               else tuple(round(v, 4) for v in spacing))
    return (frame.shape, fmt.bits_allocated, rounded, frame.frame_type, *stack_key(frame))


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


def _drop_duplicates(frames: list[Frame]) -> tuple[list[Frame], dict[int, list[SeriesNote]]]:
    """Drop the copies of an image (same SeriesNumber, SOP instance, frame and position).

    Different images sharing one SOPInstanceUID (at different positions, or with different
    InstanceNumbers) are kept, and noted: an archive keyed by that UID keeps only one of them.

    Returns the frames kept, and the notes keyed by ``id()`` of the first frame of each UID.
    """
    kept: dict[tuple[object, ...], list[Frame]] = {}
    unique: list[Frame] = []
    copies: dict[int, list[tuple[Frame, Frame]]] = defaultdict(list)
    shared: dict[int, list[Frame]] = defaultdict(list)
    for frame in frames:
        uid = frame.header.sop_instance_uid
        if not uid:
            unique.append(frame)
            continue
        tile = -1 if frame.tile is None else frame.tile.number
        same_uid = kept.setdefault((_number(frame), uid, frame.index, tile), [])
        original = next((f for f in same_uid if _same_image(f, frame)), None)
        if original is not None:
            copies[id(same_uid[0])].append((frame, original))
            continue
        if same_uid:
            shared[id(same_uid[0])].append(frame)
        same_uid.append(frame)
        unique.append(frame)
    notes: dict[int, list[SeriesNote]] = defaultdict(list)
    for first, pairs in copies.items():
        listed = "; ".join(f"{copy.path} (copy of {original.path.name})"
                           for copy, original in pairs[:3])
        more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
        notes[first].append(SeriesNote(
            "DUPLICATE_FILE",
            f"dropped {len(pairs)} copy(ies) of an image (same SOPInstanceUID "
            f"{pairs[0][1].header.sop_instance_uid}, same position): {listed}{more}",
            tuple(copy.path for copy, _ in pairs)))
    by_id = {id(f): f for f in unique}
    for first, others in shared.items():
        group_ = [by_id[first], *others]
        notes[first].append(SeriesNote(
            "SHARED_SOP_INSTANCE_UID",
            f"{len(group_)} different images share SOPInstanceUID "
            f"{group_[0].header.sop_instance_uid} (different positions or InstanceNumbers): "
            f"{', '.join(f.path.name for f in group_[:6])}; dicomio keeps each, but an archive "
            f"keyed by that UID keeps only one", tuple(f.path for f in group_)))
    return unique, notes


def _same_image(first: Frame, other: Frame) -> bool:
    """Whether ``other`` repeats ``first`` (a copy of its file): same size, position and
    InstanceNumber."""
    if first.shape != other.shape or \
            first.header.instance_number != other.header.instance_number:
        return False
    if first.position is None or other.position is None:
        return first.position is None and other.position is None
    try:
        return bool(np.allclose(first.position, other.position, atol=1e-3, rtol=0,
                                equal_nan=True))  # the same invalid position is the same
    except (TypeError, ValueError):  # positions of different lengths
        return False


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
    notes: dict[str, list[SeriesNote]] = defaultdict(list)
    for header in headers:
        frames, problems = read_frames(header)
        by_series[header.series_uid].extend(frames)
        notes[header.series_uid] += problems

    result: list[SeriesInfo] = []
    for uid, frames in by_series.items():
        try:
            with translated(_files_of(frames), f"grouping series {uid}"):
                result += _stacks(uid, frames, notes[uid], tolerances)
        except DicomIOError as exc:
            result.append(_ungrouped(uid, frames, notes[uid], exc))
    result.sort(key=lambda s: (s.number is None, s.number or 0, s.uid, s.stack))
    return result


def _stacks(uid: str, frames: list[Frame], file_notes: list[SeriesNote],
            tolerances: GeometryTolerances) -> list[SeriesInfo]:
    """The sorted stacks of one SeriesInstanceUID."""
    frames, dropped = _drop_duplicates(frames)
    by_shape: dict[tuple[object, ...], list[Frame]] = defaultdict(list)
    for frame in frames:
        key = (_number(frame), *_stack_key(frame))
        by_shape[key].append(frame)
    stacks = [s for shape in by_shape.values()
              for s in _split_by_orientation(shape, tolerances.orientation)]
    stacks.sort(key=lambda s: (_number(s[0]), -len(s),
                               _stored_order(min(s, key=_stored_order))))
    result = []
    for index, members in enumerate(stacks):
        ordered, geometry, problem = _geometry(members, tolerances)
        head = members[0].header
        polarity = pepolar_polarity(head)
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
            notes=(*_notes_of(ordered, file_notes, dropped),
                   *stack_notes(ordered, stacks, index, uid)),
            image_kind=image_kind(members[0])[0],
            polarity=None if polarity is None or polarity.reversed is None else
            ("reversed" if members[0].rows_reversed else "forward"),
        ))
    return result


def _files_of(frames: list[Frame]) -> list[Path]:
    """The files of ``frames``, each once, in order."""
    return list(dict.fromkeys(frame.path for frame in frames))


def _ungrouped(uid: str, frames: list[Frame], file_notes: list[SeriesNote],
               error: DicomIOError) -> SeriesInfo:
    """A series whose grouping failed: its frames in stored order, without geometry, and the
    failure as an INTERNAL_ERROR note (loading it then refuses it, validating reports it)."""
    ordered = sorted(frames, key=_stored_order)
    head = ordered[0].header
    files = tuple(_files_of(ordered))
    return SeriesInfo(
        uid=uid, number=head.series_number, description=head.series_description,
        modality=head.modality, frames=tuple(ordered), geometry=None,
        geometry_problem=f"the series could not be grouped: {error.message}",
        notes=(*file_notes, SeriesNote("INTERNAL_ERROR", str(error), files)))


def _notes_of(frames: list[Frame], file_notes: list[SeriesNote],
              dropped: dict[int, list[SeriesNote]]) -> tuple[SeriesNote, ...]:
    """The notes about the files of one stack: those of its files, then its dropped copies
    and shared UIDs."""
    files = {f.path for f in frames}
    mine = [note for note in file_notes if files.intersection(note.files)]
    return tuple(mine) + tuple(note for f in frames for note in dropped.get(id(f), ()))
