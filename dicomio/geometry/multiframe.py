"""Multi-frame images: each frame's geometry, rescale and timing.

Enhanced images describe every frame in functional groups; RT Dose grids, a classic multi-frame
image, place frame ``k`` at ``GridFrameOffsetVector[k]`` along the normal
(:func:`grid_offset_frames`). Other classic multi-frame files (cine, secondary capture) record
no per-frame position: their frames share the file's geometry.


An enhanced CT/MR/PET file (and legacy-converted or parametric-map ones) describes its frames in
two sequences: ``SharedFunctionalGroupsSequence`` (one item, true of every frame) and
``PerFrameFunctionalGroupsSequence`` (one item per frame). A per-frame macro overrides the
shared one. dicomio reads, for each frame:

============================================  =======================================
macro                                          what it gives the frame
============================================  =======================================
PlanePositionSequence                          ImagePositionPatient
PlaneOrientationSequence                       ImageOrientationPatient
PixelMeasuresSequence                          PixelSpacing, SliceThickness
PixelValueTransformationSequence               RescaleSlope, RescaleIntercept
FrameContentSequence                           TemporalPositionIndex, DimensionIndexValues,
                                               FrameAcquisitionDateTime
``*FrameTypeSequence`` (MR, CT, PET...)        FrameType
MRDiffusionSequence                            DiffusionDirectionality
Philips private (2005,140F)                    MRScaleSlope (2005,100E)
============================================  =======================================

Where a macro is absent from both, the top-level attribute (if any) is used. Frames are then
sorted along their normal like the slices of a classic series; frames of one file that differ in
FrameType (a Philips file holding magnitude and field-map frames) become separate stacks.
Vendor-private scaling (Philips "scale slope" (2005,100E)) is read but not applied: dicomio
honours the DICOM RescaleSlope/RescaleIntercept of each frame unless asked for Philips'
floating-point values (:func:`dicomio.series.vendor.philips_precise`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dicomio.dicom.frame import Frame, seconds
from dicomio.dicom.source import read_dataset
from dicomio.dicom.types import FileHeader
from dicomio.errors import InvalidDicomError
from dicomio.geometry.conventions import slice_normal
from dicomio.geometry.stack import orientation_problem, position_problem

__all__ = ["RT_DOSE", "functional_group_frames", "grid_offset_frames"]

RT_DOSE = "1.2.840.10008.5.1.4.1.1.481.2"


def _first(item: Any, sequence: str) -> Any:
    """The first item of ``sequence`` inside a functional-group item, or None."""
    if item is None:
        return None
    value = item.get(sequence)  # a pydicom Sequence (a list of items), or None
    return value[0] if value else None


def _macro(per_frame: Any, shared: Any, sequence: str) -> Any:
    found = _first(per_frame, sequence)
    return found if found is not None else _first(shared, sequence)


def _floats(value: Any, size: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    values = tuple(float(v) for v in (value if isinstance(value, Sequence) and
                                      not isinstance(value, str) else [value]))
    return values if len(values) == size else None


def _float(item: Any, keyword: str) -> float | None:
    value = None if item is None else item.get(keyword)
    if value is None or value == "":
        return None
    return float(value)


def _frame_type(per_frame: Any, shared: Any) -> tuple[str, ...]:
    for item in (per_frame, shared):
        if item is None:
            continue
        for element in item:
            if element.keyword.endswith("FrameTypeSequence") and element.value:
                values = element.value[0].get("FrameType")
                if values:
                    return tuple(str(v) for v in (values if isinstance(values, Sequence)
                                                  and not isinstance(values, str) else [values]))
    return ()


def _philips_scale_slope(item: Any, shared: Any) -> float | None:
    """MRScaleSlope (2005,100E) in the Philips private item (2005,140F) of a frame (or of the
    shared groups); None when absent, or not a finite number."""
    for source in (item, shared):
        if source is None or (0x2005, 0x140F) not in source:
            continue
        private = source[0x2005, 0x140F].value
        if not isinstance(private, Sequence) or not private or \
                (0x2005, 0x100E) not in private[0]:
            continue
        value = private[0][0x2005, 0x100E].value
        if isinstance(value, bytes):  # an implicit-VR file: the FL's raw bytes
            value = struct.unpack("<f", value)[0] if len(value) == 4 else None
        if isinstance(value, Sequence):
            value = value[0] if value else None
        number = None if value is None else float(value)
        return number if number is not None and math.isfinite(number) else None
    return None


def _read(header: FileHeader) -> Any:

    try:
        return read_dataset(header.origin, stop_before_pixels=True)
    except Exception as exc:  # pydicom raises many types for damaged files
        raise InvalidDicomError(f"cannot read the header with pydicom: {exc}",
                                path=header.path) from None


def grid_offset_frames(header: FileHeader) -> list[Frame]:
    """The frames of an RT Dose grid: frame ``k`` lies ``GridFrameOffsetVector[k] -
    GridFrameOffsetVector[0]`` mm from ImagePositionPatient along the normal.

    (The first offset is 0 for relative offsets; for absolute ones, allowed for axial grids
    only, it is the z of ImagePositionPatient: the differences are the same.)

    Raises
    ------
    InvalidDicomError
        GridFrameOffsetVector is missing, not numbers, or does not hold one value per frame.
    """
    fmt = header.pixel
    assert fmt is not None
    dataset = _read(header)
    try:
        value = dataset.get("GridFrameOffsetVector")
        offsets = None if value is None else tuple(float(v) for v in (
            value if isinstance(value, Sequence) and not isinstance(value, str) else [value]))
    except Exception as exc:  # pydicom raises many types for damaged values
        raise InvalidDicomError(f"cannot read GridFrameOffsetVector: {type(exc).__name__}: "
                                f"{exc}", path=header.path) from None
    count = fmt.number_of_frames
    if offsets is None or len(offsets) != count:
        found = "missing" if offsets is None else f"{len(offsets)} values"
        raise InvalidDicomError(f"GridFrameOffsetVector is {found} for {count} frames",
                                path=header.path)
    single = Frame.single(header)
    if position_problem(header.position) or orientation_problem(header.orientation):
        return [replace(single, index=k) for k in range(count)]  # grouping says why
    assert header.orientation is not None
    start = np.asarray(header.position, dtype=np.float64)
    normal = slice_normal(header.orientation)
    return [replace(single, index=k, position=tuple(
        float(v) for v in start + (offset - offsets[0]) * normal))
        for k, offset in enumerate(offsets)]


def functional_group_frames(header: FileHeader) -> list[Frame]:
    """The frames of an enhanced multi-frame file, each described by its functional groups.

    Raises
    ------
    InvalidDicomError
        The file cannot be parsed, or its per-frame functional groups do not hold one item per
        frame.
    """
    fmt = header.pixel
    assert fmt is not None
    dataset = _read(header)
    try:
        shared = _first(dataset, "SharedFunctionalGroupsSequence")
        per_frame: list[Any] = list(dataset.get("PerFrameFunctionalGroupsSequence") or [])
    except Exception as exc:  # pydicom raises many types for damaged files
        raise InvalidDicomError(f"cannot read the functional groups: {exc}",
                                path=header.path) from None
    count = fmt.number_of_frames
    if per_frame and len(per_frame) != count:
        raise InvalidDicomError(
            f"PerFrameFunctionalGroupsSequence has {len(per_frame)} items for "
            f"{count} frames", path=header.path)
    frames = []
    for index in range(count):
        item = per_frame[index] if per_frame else None
        try:
            frames.append(_frame(header, index, item, shared))
        except Exception as exc:  # a value pydicom or dicomio cannot convert, a damaged VR
            raise InvalidDicomError(f"malformed functional groups of frame {index + 1}: "
                                    f"{type(exc).__name__}: {exc}", path=header.path) from None
    return frames


def _frame(header: FileHeader, index: int, item: Any, shared: Any) -> Frame:
    plane = _macro(item, shared, "PlanePositionSequence")
    orientation = _macro(item, shared, "PlaneOrientationSequence")
    measures = _macro(item, shared, "PixelMeasuresSequence")
    values = _macro(item, shared, "PixelValueTransformationSequence")
    content = _macro(item, shared, "FrameContentSequence")
    diffusion = _macro(item, shared, "MRDiffusionSequence")
    scale = _philips_scale_slope(item, shared)
    position = _floats(plane.get("ImagePositionPatient"), 3) if plane else None
    iop = _floats(orientation.get("ImageOrientationPatient"), 6) if orientation else None
    spacing = _floats(measures.get("PixelSpacing"), 2) if measures else None
    slope = _float(values, "RescaleSlope")
    intercept = _float(values, "RescaleIntercept")
    thickness = _float(measures, "SliceThickness")
    temporal = content.get("TemporalPositionIndex") if content else None
    dimensions = content.get("DimensionIndexValues") if content else None
    when = None
    if content is not None:
        when = seconds(str(content.get("FrameAcquisitionDateTime") or
                           content.get("FrameReferenceDateTime") or ""))
    return Frame(
        header, index,
        position=position if position is not None else header.position,
        orientation=iop if iop is not None else header.orientation,
        pixel_spacing=spacing if spacing is not None else header.pixel_spacing,
        rescale_slope=slope if slope is not None else header.rescale_slope,
        rescale_intercept=intercept if intercept is not None else header.rescale_intercept,
        slice_thickness=thickness if thickness is not None else header.slice_thickness,
        frame_type=_frame_type(item, shared),
        temporal_index=int(temporal) if temporal not in (None, "") else None,
        acquisition_time=when,
        dimension_index=tuple(int(v) for v in (
            dimensions if isinstance(dimensions, Sequence) else [dimensions]))
        if dimensions not in (None, "") else (),
        scale_slope=scale if scale is not None else header.philips_scale_slope,
        diffusion_directionality=str(diffusion.get("DiffusionDirectionality") or "")
        if diffusion is not None else header.diffusion_directionality,
    )
