"""The one stage from a chosen series to array, affine and provenance.

Every caller that reads pixels goes through here: :func:`dicomio.load_volume`,
:func:`dicomio.load_4d` and the validator's pixel checks (:mod:`dicomio.validate.checks`).

- :func:`read_series` reads chosen frames of a series with a backend, once each: the size
  check before allocating, the backend's choice (skipped backends recorded), the read, the
  all-zero guard, mosaic tiles cut out and 4-D frames reordered (:mod:`dicomio.pixels.assembly`).
  Asked to, it also counts the stored values that use bits above BitsStored, from the same
  decode (the validator's VALUES_OUT_OF_RANGE).
- :func:`placement` enforces the geometry policy (``irregular``) on the checked geometry, or
  gives the nominal affine of a series without one.
- :func:`regularized` gives the array, affine and slice positions, resampled onto a regular
  grid when asked and needed.
- :func:`series_metadata` is the ``Volume.metadata`` of a series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import BackendSpec, ReadOptions, ReadResult, ReportedGeometry
from dicomio.backends.registry import select
from dicomio.dicom.checks import check_pixel_data_size
from dicomio.dicom.frame import Frame
from dicomio.errors import (
    BackendCannotReadError,
    DecoderFailedError,
    GeometryError,
    InvalidArgumentError,
    MissingGeometryError,
    Remedy,
)
from dicomio.geometry.conventions import affine_from
from dicomio.geometry.resample import regularize
from dicomio.geometry.stack import (
    StackGeometry,
    orientation_problem,
    position_problem,
    spacing_problem,
)
from dicomio.pixels.assembly import read_plan
from dicomio.pixels.codestream import rle_frame_excess
from dicomio.pixels.values import count_out_of_range, to_stored
from dicomio.pixels.zero_guard import check_not_all_zero
from dicomio.series.info import SeriesInfo
from dicomio.series.layout import SeriesLayout
from dicomio.series.vendor import CONVENTION_CODES
from dicomio.volume import Provenance

__all__ = ["WARNED_FILES", "Irregular", "SeriesRead", "merged_per_file", "placement",
           "read_series", "regularized", "series_metadata"]

Irregular = Literal["raise", "accept", "resample"]


@dataclass
class SeriesRead:
    """What :func:`read_series` read, and how.

    Attributes
    ----------
    array
        The slices asked for, in that order: (slice, row, column[, sample]).
    backend
        The backend that read them.
    decoders
        The decoders it used.
    skipped
        ``(backend, reason)`` for each backend ``auto`` passed over.
    warnings
        Pixel data longer than its frames need (or RLE data holding frames beyond
        NumberOfFrames), and what the backend warned about.
    reported_geometry
        The geometry the toolkit itself reported (SimpleITK, VTK, pydicom, dcm2niix), when
        the images it read are the slices asked for; else None.
    all_zero
        The zero guard's note when every voxel is zero and so is the pixel data; else None.
    out_of_range
        With ``count_out_of_range``: for each file that has any, how many of its stored
        values use bits above BitsStored, in the order of the slices; else empty.
    """

    array: NDArray[Any]
    backend: str
    decoders: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    warnings: list[str]
    reported_geometry: ReportedGeometry | None
    all_zero: str | None = None
    out_of_range: dict[Path, int] = field(default_factory=dict)

    def provenance(self, series: SeriesInfo, frames: Sequence[Frame], warnings: list[str],
                   *, resampled: bool = False, volumes: int = 1) -> Provenance:
        """The provenance of a volume of ``frames`` (``volumes`` volumes of the same slices,
        in (volume, slice) order), ``warnings`` (the caller's) first.

        It carries the toolkit's :attr:`reported_geometry` when that describes the volume's
        slices: not when they were ``resampled`` onto another grid (:func:`regularized`), nor
        for several volumes unless the toolkit placed the slices of one volume (dcm2niix, which
        reads 4-D series itself); the other toolkits are given every image as one stack, and
        their grid of it (a step of span / (images - 1)) is not the volumes'.
        """
        zeros = [] if self.all_zero is None else [self.all_zero]
        reported = None if resampled else self.reported_geometry
        if reported is not None and volumes > 1 \
                and len(reported.positions) != len(frames) // volumes:
            reported = None
        return Provenance(
            backend=self.backend,
            decoders=self.decoders,
            transfer_syntaxes=series.transfer_syntaxes,
            files=tuple(dict.fromkeys(f.path for f in frames)),
            warnings=merged_per_file([*warnings, *self.warnings, *zeros],
                                     {str(f.path) for f in frames}),
            skipped_backends=self.skipped,
            series_uid=series.key,
            reported_geometry=reported,
            conventions=tuple(note.message for note in series.notes
                              if note.code in CONVENTION_CODES),
        )


#: How many files a warning said of several files names (the others are counted).
WARNED_FILES = 3


def merged_per_file(warnings: Sequence[str], files: set[str]) -> tuple[str, ...]:
    """``warnings``, each once, with the same warning about several of ``files`` (``"<file>:
    <what>"``) said once: ``"<what> (20 files: a, b, c, ...)"``, where the first was."""
    said: dict[str, dict[str, None]] = {}  # what is said → the files it is said of
    for warning in warnings:
        file, _, what = warning.partition(": ")
        if what and file in files:
            said.setdefault(what, {})[file] = None
        else:
            said.setdefault(warning, {})
    merged = []
    for what, named in said.items():
        if len(named) > 1:
            shown = list(named)[:WARNED_FILES] + (["..."] if len(named) > WARNED_FILES else [])
            merged.append(f"{what} ({len(named)} files: {', '.join(shown)})")
        else:
            merged.append(f"{next(iter(named))}: {what}" if named else what)
    return tuple(merged)


def read_series(
    series: SeriesInfo,
    frames: Sequence[Frame] | None = None,
    backend: str = "auto",
    options: ReadOptions = ReadOptions(),
    *,
    count_out_of_range: bool = False,
    lazy: bool = False,
    chunks: int | None = None,
) -> SeriesRead:
    """Read ``frames`` of ``series`` with a backend, each stored image decoded once.

    Parameters
    ----------
    series
        The chosen series.
    frames
        The slices wanted, in the order wanted (default: the series' slices). The images of
        several volumes or the tiles of mosaics are fine: each stored image is read once
        (:func:`dicomio.pixels.assembly.read_plan`).
    backend
        ``"auto"`` or a backend's name (see :func:`dicomio.backends.registry.select`).
    options
        Passed to the backend.
    count_out_of_range
        Also count, per file, the stored values that use bits above BitsStored
        (:func:`dicomio.pixels.values.count_out_of_range`), from the same decode: the backend
        is asked to keep those bits (``ReadOptions.keep_high_bits``), they are counted here,
        then masked as the backend would have. Needs ``options.rescale`` False. A toolkit
        that masks them itself (GDCM, in SimpleITK) leaves none to count.
    lazy
        Read nothing yet: the array is a Dask array whose chunks read their slices when
        computed, with the direct backend (:mod:`dicomio.backends.lazy`); ``backend`` must be
        ``"auto"`` or ``"direct"``. The size check runs now, on the headers; the zero guard
        runs on each decoded chunk.
    chunks
        With ``lazy``: slices per chunk (None: one; a mosaic's tiles together).

    Raises
    ------
    DicomIOError
        The pixel data is too short for the declared images (before anything is allocated),
        no backend can read the series, decoding failed, or the backend returned zeros where
        the data is not zero (:func:`dicomio.pixels.zero_guard.check_not_all_zero`).
    """
    plan = read_plan(series, frames)
    # Refuse pixel data that cannot hold the declared images before allocating for them.
    size_warnings = [w for header in plan.stored.headers
                     for w in (check_pixel_data_size(header), rle_frame_excess(header)) if w]
    if lazy:
        from dicomio.backends.lazy import lazy_slices

        spec, _ = select(plan.stored, "direct")
        array, decoders = lazy_slices(series, series.frames if frames is None else frames,
                                       options, chunks)
        return SeriesRead(array, spec.name, decoders, (), size_warnings, None)
    asked = replace(options, keep_high_bits=True) if count_out_of_range else options
    spec, skipped, result = _read_with(plan.stored, backend, asked)
    counts = _count_and_mask(result.array, plan.stored) if count_out_of_range else {}
    zeros = check_not_all_zero(result.array, plan.stored, options.rescale, spec.name)
    # What a toolkit reports describes the images it read: only then the volume's geometry.
    reported = result.reported_geometry if plan.identity else None
    if reported is not None and any(plan.reversed_rows):
        # ... and the images as stored: rows flipped back turn its claim round with them.
        reported = reported.with_rows_reversed(series.rows) if all(plan.reversed_rows) \
            else None
    return SeriesRead(plan.assemble(result.array), spec.name, result.decoders, tuple(skipped),
                      size_warnings + list(result.warnings), reported, zeros, counts)


def _read_with(stored: SeriesInfo, backend: str, options: ReadOptions
               ) -> tuple[BackendSpec, list[tuple[str, str]], ReadResult]:
    """Read the stored images with ``backend``; with ``auto``, a backend whose decoders all
    fail on a sound frame gives way to the next one that can read the series, the reason kept
    with the backends passed over. The first failure is raised when no backend decodes it."""
    failed: list[tuple[str, str]] = []
    first: DecoderFailedError | None = None
    while True:
        try:
            spec, skipped = select(stored, backend, failed=failed)
        except BackendCannotReadError:
            if first is None:
                raise
            raise first from None
        try:
            return spec, skipped, spec.reader().read(stored, options)
        except DecoderFailedError as exc:
            if backend != "auto":
                raise
            first = first or exc
            failed.append((spec.name, f"failed to decode: {exc}"))


def _count_and_mask(array: NDArray[Any], stored: SeriesInfo) -> dict[Path, int]:
    """Count, per file, the values of ``array`` (the stored images of ``stored``, read with
    their high bits kept) that use bits above BitsStored; then mask and sign-extend them in
    place, as every backend does."""
    counts: dict[Path, int] = {}
    for k, frame in enumerate(stored.frames):
        fmt = frame.header.pixel
        assert fmt is not None
        found = count_out_of_range(array[k], fmt)
        if found:
            counts[frame.path] = counts.get(frame.path, 0) + found
        array[k] = to_stored(array[k], fmt)
    return counts


def placement(
    series: SeriesInfo, layout: SeriesLayout, irregular: Irregular, warnings: list[str],
) -> StackGeometry | NDArray[np.float64]:
    """The checked geometry of each volume of ``layout`` (or, without geometry, a nominal
    affine), after enforcing the geometry policy ``irregular`` (see
    :func:`dicomio.load_volume`).

    The issues accepted are appended to ``warnings``.

    Raises
    ------
    MissingGeometryError
        Several slices without a usable geometry, unless ``irregular="accept"`` (the frames of
        one cine file, which has no patient geometry by definition, load in stored order).
    GeometryError
        A geometry error (missing slice, irregular spacing, tilt...) with ``irregular="raise"``.
    """
    first, geometry = series.frames[0].path, layout.geometry
    if layout.as_stored:
        if irregular != "accept":
            raise MissingGeometryError(
                f"cannot place the {series.n_slices} slices of series {series.key} as their "
                f"file says: {layout.problem}.", path=_unplaced_file(series),
                remedies=(Remedy("irregular", "accept", "load the frames as stored"),))
        warnings.append(f"frames taken as stored: {layout.problem}")
    if geometry is None:
        if layout.kind == "unplaced" and not layout.as_stored and irregular != "accept":
            raise MissingGeometryError(
                f"cannot place the {series.n_slices} slices of series {series.key} in space: "
                f"{_geometry_problem(series)}.", path=_unplaced_file(series),
                remedies=(Remedy("irregular", "accept", "stack them in stored order "
                                 "(InstanceNumber, then frame number) with a nominal affine"),))
        warnings.append(f"no usable geometry ({series.geometry_problem}): slices ordered by "
                        f"InstanceNumber (then frame number), affine is nominal (identity "
                        f"directions, PixelSpacing or 1 mm, SpacingBetweenSlices or 1 mm)")
        return _nominal_affine(series)
    for issue in geometry.issues:
        if issue.severity == "error" and irregular == "raise":
            errors = "; ".join(f"{i.code}: {i.message}" for i in geometry.errors)
            raise GeometryError(
                f"series {series.key} is not a regular volume: {errors}.", path=first,
                issues=geometry.issues, remedies=(
                    Remedy("irregular", "accept", "load it with the per-slice positions "
                                                  "recorded"),
                    Remedy("irregular", "resample", "resample it onto a regular grid")))
        if issue.severity in ("error", "warning"):
            warnings.append(f"{issue.code}: {issue.message}")
    return geometry


def _unplaced_file(series: SeriesInfo) -> Path:
    """The file that keeps a series from being placed, as grouping found it: the first one
    when its orientation or pixel spacing is unusable, else the first whose position is."""
    first = series.frames[0]
    if orientation_problem(first.orientation) or spacing_problem(first.pixel_spacing):
        return first.path
    return next((f.path for f in series.frames if position_problem(f.position)), first.path)


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


def regularized(
    array: NDArray[Any], placement: StackGeometry | NDArray[np.float64], series: SeriesInfo,
    frames: Sequence[Frame], irregular: Irregular, rescale: bool, warnings: list[str],
) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.float64] | None]:
    """The array, affine and slice positions (None without geometry) of the slices read for
    ``frames``, resampled onto a regular grid when ``irregular="resample"`` and the geometry
    needs it (what was done is appended to ``warnings``)."""
    if not isinstance(placement, StackGeometry):
        return array, placement, None
    needs = {i.code for i in placement.errors} & _RESAMPLED
    if irregular != "resample" or not needs:
        return array, placement.affine, placement.positions
    if not isinstance(array, np.ndarray):  # a lazy (Dask) array: resampling reads it all
        raise InvalidArgumentError(
            f"series {series.key} needs resampling ({', '.join(sorted(needs))}), which reads "
            f"the whole series at once: a lazy volume cannot be resampled.",
            path=frames[0].path, remedies=(
                Remedy("lazy", False, "load it into memory and resample it"),
                Remedy("irregular", "accept", "load it lazily with the per-slice positions "
                                              "recorded")))
    if not rescale and len({(f.slope, f.intercept) for f in frames}) > 1:
        raise GeometryError(
            f"series {series.key}: cannot resample stored values of slices with different "
            f"RescaleSlope/RescaleIntercept.", path=frames[0].path, issues=placement.issues,
            remedies=(Remedy("rescale", True, "resample modality values"),))
    head = frames[0]
    assert head.orientation is not None and head.pixel_spacing is not None
    result = regularize(array, placement.positions, head.orientation, head.pixel_spacing,
                        path=head.path)
    warnings += [f"resampled: {note}" for note in result.notes]
    n = result.array.shape[0]
    positions = np.column_stack([np.arange(n), np.zeros(n), np.zeros(n), np.ones(n)])
    return result.array, result.affine, (positions @ result.affine.T)[:, :3]


_RESAMPLED = frozenset({"GANTRY_TILT", "IRREGULAR_SPACING", "MISSING_SLICE"})


def series_metadata(series: SeriesInfo) -> dict[str, Any]:
    """The ``Volume.metadata`` of a series: its main attributes, from the headers."""
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
