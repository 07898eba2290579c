"""The one stage from a chosen series to array, affine and provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.registry import ReadOptions, select
from dicomio.dicom.checks import check_pixel_data_size
from dicomio.dicom.frame import Frame
from dicomio.errors import (
    GeometryError,
    MissingGeometryError,
    RepeatedPositionsError,
)
from dicomio.geometry.conventions import affine_from
from dicomio.geometry.fourd import mixed_image_types, split_volumes
from dicomio.geometry.resample import regularize
from dicomio.geometry.stack import GeometryTolerances, StackGeometry, analyse_stack
from dicomio.pixels.assembly import read_plan
from dicomio.pixels.zero_guard import check_not_all_zero
from dicomio.series.info import SeriesInfo
from dicomio.volume import Provenance

Irregular = Literal["raise", "accept", "resample"]


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
