"""``load_volume``: from a folder (or files) to a :class:`Volume` you can trust."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.assembly import read_plan
from dicomio.backends import ReadOptions, select
from dicomio.errors import (
    GeometryError,
    MissingGeometryError,
    MultipleSeriesError,
    NoDicomFilesError,
    RepeatedPositionsError,
    SeriesNotFoundError,
    UnreadableFilesError,
)
from dicomio.fourd import mixed_image_types, split_volumes
from dicomio.frame import Frame
from dicomio.geometry import GeometryTolerances, StackGeometry, affine_from, analyse_stack
from dicomio.resample import regularize
from dicomio.sanity import check_pixel_data_size
from dicomio.series import Inventory, PathInput, SeriesInfo, scan
from dicomio.volume import Provenance, Volume, Volume4D
from dicomio.zero_guard import check_not_all_zero

__all__ = ["choose_series", "load_4d", "load_volume"]

Irregular = Literal["raise", "accept", "resample"]


def choose_series(
    found: list[SeriesInfo], selector: int | str | None, *, path: Any = None
) -> SeriesInfo:
    """Pick one series by index, UID (or ``uid#stack`` key); the only one when ``None``.

    Raises
    ------
    MultipleSeriesError
        ``selector`` is None (or a UID shared by several stacks) and there is a choice to make.
    SeriesNotFoundError
        Nothing matches ``selector``.
    """
    if selector is None:
        if len(found) > 1:
            raise MultipleSeriesError(found, path=path)
        return found[0]
    if isinstance(selector, (int, np.integer)) and not isinstance(selector, bool):
        if not -len(found) <= selector < len(found):
            raise SeriesNotFoundError(
                f"series index {selector} is out of range: there are {len(found)} series",
                path=path)
        return found[int(selector)]
    if isinstance(selector, str):
        text = selector.strip()
        if text.isdigit() and all(s.uid != text for s in found):
            return choose_series(found, int(text), path=path)
        matches = [s for s in found if text in (s.key, s.uid)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise MultipleSeriesError(matches, path=path)
    raise SeriesNotFoundError(
        f"no series matches {selector!r}; available: "
        + ", ".join(f"[{i}] {s.key}" for i, s in enumerate(found)), path=path)


def load_volume(
    path: PathInput | SeriesInfo,
    backend: str = "auto",
    *,
    series: int | str | None = None,
    rescale: bool = True,
    irregular: Irregular = "raise",
    ignore_unreadable: bool = False,
    workers: int | None = None,
    decoder: str | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
) -> Volume:
    """Load one series as a :class:`Volume`.

    Parameters
    ----------
    path
        A folder (searched recursively), a file, a list of them, or a :class:`SeriesInfo` from
        :func:`dicomio.list_series`.
    backend
        ``"auto"`` (the fastest installed backend able to read the series), ``"direct"``,
        ``"pydicom"``, ``"sitk"`` or ``"vtk"``. A named backend never falls back to another.
    series
        Which series, when ``path`` holds several: an index into :func:`dicomio.list_series`,
        a SeriesInstanceUID, or a ``uid#stack`` key.
    rescale
        True: modality values (HU for CT) with the contract's dtype rules. False: stored values,
        high bits masked and sign-extended.
    irregular
        ``"raise"`` (default): missing slices, irregular spacing, gantry tilt and missing
        geometry raise :class:`GeometryError`. ``"accept"``: load anyway, record the issues in
        ``provenance.warnings`` and each slice's true position in ``slice_positions`` (the
        affine steps by the mean slice step, sheared for gantry tilt). ``"resample"``: resample
        tilted or unevenly spaced slices onto a regular orthogonal grid, as dcm2niix does
        (:mod:`dicomio.resample` states the interpolation).
    ignore_unreadable
        Load even if some DICOM files under ``path`` could not be read (they are listed in the
        warnings); by default that raises :class:`UnreadableFilesError`.
    workers
        Threads decoding (direct backend); default: the usable cores. 1 also keeps the header
        scan in the calling thread (no read-ahead helper).
    decoder
        Force a decoder: ``"imagecodecs"``, ``"pylibjpeg"``, ``"gdcm"``, ...
    tolerances
        Thresholds of the geometry checks.

    Returns
    -------
    Volume
        ``array`` of shape (slice, row, column[, sample]) and ``affine`` mapping ``(k, j, i)``
        to LPS mm.

    Raises
    ------
    RepeatedPositionsError
        The series holds several images per position: its message says whether it is a 4-D
        series (then :func:`load_4d` loads it) and how its volumes would be ordered.
    DicomIOError
        A subclass naming the file and the problem: see :mod:`dicomio.errors`.
    """
    chosen, warnings = _choose(path, series, ignore_unreadable, tolerances, workers)
    if chosen.geometry is not None and _repeated(chosen.geometry):
        raise _repeated_positions_error(chosen, tolerances)
    placement = _placement(chosen, chosen.geometry, irregular, warnings)
    read = _read(chosen, chosen.frames, backend, ReadOptions(rescale, workers, decoder))
    array, affine, positions = _regularize(read.array, placement, chosen, chosen.frames,
                                           irregular, rescale, warnings)
    volume = Volume(array, affine, _metadata(chosen),
                    read.provenance(chosen, chosen.frames, warnings), positions)
    if read.reported_geometry is not None:
        volume.metadata["reported_geometry"] = read.reported_geometry  # type: ignore[index]
    return volume


def load_4d(
    path: PathInput | SeriesInfo,
    backend: str = "auto",
    *,
    series: int | str | None = None,
    rescale: bool = True,
    irregular: Irregular = "raise",
    ignore_unreadable: bool = False,
    workers: int | None = None,
    decoder: str | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
) -> Volume4D:
    """Load a series holding several volumes of the same slices as a :class:`Volume4D`.

    The images at each slice position are split into volumes and ordered by the first key that
    every image has and that tells them apart: TemporalPositionIndex/Identifier,
    DimensionIndexValues, acquisition time, InstanceNumber, then the stored order (see
    :mod:`dicomio.fourd`; the key used is ``Volume4D.order_rule``). A series without repeated
    positions loads as a single volume.

    Parameters are those of :func:`load_volume`; ``irregular`` applies to the slices of each
    volume (which all share one geometry).

    Returns
    -------
    Volume4D
        ``array`` of shape (volume, slice, row, column[, sample]) and the shared ``affine``;
        ``vol4d[t]`` is volume ``t`` as a :class:`Volume`.

    Raises
    ------
    RepeatedPositionsError
        The positions do not all hold the same number of images (incomplete volumes or mixed
        acquisitions), or the volumes do not share their slice positions.
    DicomIOError
        As for :func:`load_volume`.
    """
    chosen, warnings = _choose(path, series, ignore_unreadable, tolerances, workers)
    layout = split_volumes(chosen, tolerances)
    if layout.problem is not None:
        raise RepeatedPositionsError(
            f"series {chosen.key} cannot be split into volumes: {layout.problem}",
            path=chosen.frames[0].path, issues=chosen.issues)
    mixed = mixed_image_types(layout)
    if mixed:
        warnings.append(mixed)
    geometry = None if chosen.geometry is None else \
        _shared_geometry(chosen, layout.volumes, tolerances)
    placement = _placement(chosen, geometry, irregular, warnings)
    frames = [frame for volume in layout.volumes for frame in volume]
    read = _read(chosen, frames, backend, ReadOptions(rescale, workers, decoder))
    n_volumes, n_slices = layout.n_volumes, len(layout.volumes[0])
    stacked = read.array.reshape(n_volumes, n_slices, *read.array.shape[1:])
    views = list(stacked)
    results = [_regularize(view, placement, chosen, volume, irregular, rescale,
                           warnings if t == 0 else [])
               for t, (view, volume) in enumerate(zip(views, layout.volumes, strict=True))]
    unchanged = all(r[0] is view for r, view in zip(results, views, strict=True))
    array = stacked if unchanged else np.stack([r[0] for r in results])
    metadata = _metadata(chosen)
    metadata["NumberOfVolumes"] = n_volumes
    return Volume4D(array, results[0][1], metadata, read.provenance(chosen, frames, warnings),
                    layout.rule, layout.keys, results[0][2])


def _choose(
    path: PathInput | SeriesInfo, series: int | str | None, ignore_unreadable: bool,
    tolerances: GeometryTolerances, workers: int | None = None,
) -> tuple[SeriesInfo, list[str]]:
    """Find the series to load, and the warnings it starts with."""
    inventory: Inventory | None = None
    if isinstance(path, SeriesInfo):
        chosen = path
    else:
        found, inventory = scan(path, tolerances=tolerances, workers=workers)
        if not found:
            raise NoDicomFilesError("no DICOM image found", path=_display(path),
                                    skipped=inventory.skipped)
        chosen = choose_series(found, series, path=_display(path))
    warnings = list(chosen.warnings)
    if inventory is not None and inventory.unreadable:
        if not ignore_unreadable:
            raise UnreadableFilesError(inventory.unreadable)
        warnings += [f"skipped unreadable {s.path}: {s.reason}" for s in inventory.unreadable]
    return chosen, warnings


@dataclass
class _Read:
    """The slices a backend read, assembled, and how."""

    array: NDArray[Any]
    backend: str
    decoders: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    warnings: list[str]
    reported_geometry: Any

    def provenance(self, series: SeriesInfo, frames: Sequence[Frame],
                   warnings: list[str]) -> Provenance:
        return Provenance(
            backend=self.backend,
            decoders=self.decoders,
            transfer_syntaxes=series.transfer_syntaxes,
            files=tuple(dict.fromkeys(f.path for f in frames)),
            warnings=tuple(warnings + self.warnings),
            skipped_backends=self.skipped,
            series_uid=series.key,
        )


def _read(series: SeriesInfo, frames: Sequence[Frame], backend: str,
          options: ReadOptions) -> _Read:
    """Read ``frames`` of ``series`` with the chosen backend, as slices in that order."""
    plan = read_plan(series, frames)
    # Refuse pixel data that cannot hold the declared images before allocating for them.
    size_warnings = [w for w in map(check_pixel_data_size, plan.stored.headers) if w]
    spec, skipped = select(plan.stored, backend)
    result = spec.reader().read(plan.stored, options)
    warnings = size_warnings + list(result.warnings)
    zeros = check_not_all_zero(result.array, plan.stored, options, spec.name)
    if zeros:
        warnings.append(zeros)
    # What a toolkit reports describes the images it read: only then the volume's geometry.
    reported = result.reported_geometry if plan.identity else None
    return _Read(plan.assemble(result.array), spec.name, result.decoders, tuple(skipped),
                 warnings, reported)


def _display(path: Any) -> Any:
    return path if not isinstance(path, (list, tuple)) or len(path) != 1 else path[0]


def _repeated(geometry: StackGeometry) -> bool:
    return any(i.code == "DUPLICATE_POSITION" for i in geometry.errors)


def _repeated_positions_error(series: SeriesInfo,
                              tolerances: GeometryTolerances) -> RepeatedPositionsError:
    """Explain a stack with repeated positions: a 4-D series, or why it is not one."""
    assert series.geometry is not None
    repeated = next(i for i in series.geometry.errors if i.code == "DUPLICATE_POSITION")
    layout = split_volumes(series, tolerances)
    if layout.problem is None:
        mixed = mixed_image_types(layout)
        message = (f"series {series.key} is 4-D, not a single volume: {layout.describe()} "
                   f"({series.n_slices} images). Load it with dicomio.load_4d() (array "
                   f"(volume, slice, row, column); load_4d(...)[t] is volume t)"
                   + (f"; note: {mixed}" if mixed else ""))
    else:
        message = (f"series {series.key} is not a single volume: {repeated.message}; and not "
                   f"a 4-D series either: {layout.problem}")
    return RepeatedPositionsError(message, path=series.frames[0].path,
                                  issues=series.geometry.issues)


def _shared_geometry(series: SeriesInfo, volumes: Sequence[Sequence[Frame]],
                     tolerances: GeometryTolerances) -> StackGeometry:
    """The geometry of the first volume, after checking every volume has the same slices."""
    first = volumes[0]
    reference = np.asarray([f.position for f in first], dtype=np.float64)
    for t, volume in enumerate(volumes[1:], start=1):
        positions = np.asarray([f.position for f in volume], dtype=np.float64)
        distance = float(np.max(np.linalg.norm(positions - reference, axis=1)))
        if distance > max(tolerances.duplicate, 1e-3):
            raise RepeatedPositionsError(
                f"series {series.key}: volume {t} does not have the slice positions of volume "
                f"0 (up to {distance:.3g} mm apart): not one 4-D series",
                path=volume[0].path, issues=series.issues)
    head = first[0]
    assert head.orientation is not None and head.pixel_spacing is not None
    return analyse_stack(reference, head.orientation, head.pixel_spacing,
                         slice_thickness=head.slice_thickness, tolerances=tolerances)


def _placement(
    series: SeriesInfo, geometry: StackGeometry | None, irregular: Irregular,
    warnings: list[str],
) -> StackGeometry | NDArray[np.float64]:
    """The checked geometry (or, without geometry, a nominal affine), after enforcing the
    geometry policy."""
    first = series.frames[0].path
    if geometry is None:
        if series.n_slices > 1 and irregular != "accept":
            raise MissingGeometryError(
                f"cannot place the {series.n_slices} slices of series {series.key} in space: "
                f"{_geometry_problem(series)}. Pass irregular='accept' to stack them in "
                f"stored order (InstanceNumber, then frame number) with a nominal affine.",
                path=first)
        warnings.append(f"no usable geometry ({series.geometry_problem}): slices ordered by "
                        f"InstanceNumber (then frame number), affine is nominal (identity "
                        f"directions, PixelSpacing or 1 mm, SpacingBetweenSlices or 1 mm)")
        return _nominal_affine(series)
    for issue in geometry.issues:
        if issue.severity == "error" and irregular == "raise":
            errors = "; ".join(f"{i.code}: {i.message}" for i in geometry.errors)
            raise GeometryError(
                f"series {series.key} is not a regular volume: {errors}. Pass "
                f"irregular='accept' to load it with the per-slice positions recorded, or "
                f"irregular='resample' to resample it onto a regular grid.",
                path=first, issues=geometry.issues)
        if issue.severity in ("error", "warning"):
            warnings.append(f"{issue.code}: {issue.message}")
    return geometry


def _geometry_problem(series: SeriesInfo) -> str:
    """Why a series cannot be placed, saying so plainly for multi-frame files without
    per-frame geometry (an enhanced file whose functional groups were stripped)."""
    header = series.frames[0].header
    fmt = header.pixel
    if fmt is not None and fmt.number_of_frames > 1 and not header.has_functional_groups \
            and header.position is None:
        return (f"{series.geometry_problem} ({header.path.name} holds {fmt.number_of_frames} "
                f"frames but neither per-frame functional groups nor ImagePositionPatient: "
                f"where each frame lies is not recorded)")
    return series.geometry_problem or "unknown"


def _nominal_affine(series: SeriesInfo) -> NDArray[np.float64]:
    frame = series.frames[0]
    spacing = frame.pixel_spacing or (1.0, 1.0)
    if len(spacing) != 2 or not all(np.isfinite(spacing)) or min(spacing) <= 0:
        spacing = (1.0, 1.0)
    step = frame.header.spacing_between_slices
    step = step if step and np.isfinite(step) and step > 0 else 1.0
    return affine_from((1, 0, 0, 0, 1, 0), spacing, (0, 0, 0), (0, 0, step))


def _regularize(
    array: NDArray[Any], placement: StackGeometry | NDArray[np.float64], series: SeriesInfo,
    frames: Sequence[Frame], irregular: Irregular, rescale: bool, warnings: list[str],
) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.float64] | None]:
    """The array, affine and slice positions, resampled when asked and needed."""
    if not isinstance(placement, StackGeometry):
        return array, placement, None
    needs = {i.code for i in placement.errors} & _RESAMPLED
    if irregular != "resample" or not needs:
        return array, placement.affine, placement.positions
    if not rescale and len({(f.slope, f.intercept) for f in frames}) > 1:
        raise GeometryError(
            f"series {series.key}: cannot resample stored values of slices with different "
            f"RescaleSlope/RescaleIntercept; use rescale=True", path=frames[0].path,
            issues=placement.issues)
    head = frames[0]
    assert head.orientation is not None and head.pixel_spacing is not None
    result = regularize(array, placement.positions, head.orientation, head.pixel_spacing)
    warnings += [f"resampled: {note}" for note in result.notes]
    n = result.array.shape[0]
    positions = np.column_stack([np.arange(n), np.zeros(n), np.zeros(n), np.ones(n)])
    return result.array, result.affine, (positions @ result.affine.T)[:, :3]


_RESAMPLED = frozenset({"GANTRY_TILT", "IRREGULAR_SPACING", "MISSING_SLICE"})


def _metadata(series: SeriesInfo) -> dict[str, Any]:
    header = series.frames[0].header
    fmt = series.pixel
    slopes = [f.slope for f in series.frames]
    intercepts = [f.intercept for f in series.frames]
    return {
        "SeriesInstanceUID": series.uid,
        "SeriesNumber": series.number,
        "SeriesDescription": series.description,
        "Modality": series.modality,
        "Manufacturer": header.manufacturer,
        "StudyInstanceUID": header.study_uid,
        "FrameOfReferenceUID": header.frame_of_reference_uid,
        "ImageType": series.image_type,
        "PhotometricInterpretation": fmt.photometric_interpretation,
        "BitsAllocated": fmt.bits_allocated,
        "BitsStored": fmt.bits_stored,
        "PixelRepresentation": fmt.pixel_representation,
        "RescaleSlope": slopes[0] if len(set(slopes)) == 1 else slopes,
        "RescaleIntercept": intercepts[0] if len(set(intercepts)) == 1 else intercepts,
        "RescaleType": header.rescale_type,
        "SliceThickness": header.slice_thickness,
        "WindowCenter": header.window_center,
        "WindowWidth": header.window_width,
        "ImageOrientationPatient": series.orientation,
        "PixelSpacing": series.frames[0].pixel_spacing,
        "Mosaic": series.is_mosaic,
        "NumberOfFrames": fmt.number_of_frames,
    }
