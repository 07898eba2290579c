"""The sidecar fields of the readout and of the image's axes: phase encoding, echo spacing, slice
timing (for :mod:`dicomio.io.sidecar`).

These depend on the NIfTI image they describe. PhaseEncodingDirection names the voxel axis
(``i``, ``j``, ``k``) along which the phase was encoded, with ``-`` when the encoding ran
against the axis: the image's voxel axes are compared with the phase-encoding direction in the
patient frame (the column cosine for InPlanePhaseEncodingDirection ``COL``, the row cosine for
``ROW``, reversed when the vendor says the polarity is negative). SliceTiming lists the slices in
the order of the image's ``k`` axis. dcm2niix's image reverses the rows, dicomio's does not: a
phase encoded down the columns is ``j-`` in the first, ``j`` in the second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.elements import attribute, frame_item, numbers, text
from dicomio.dicom.frame import Frame
from dicomio.dicom.siemens import (
    bandwidth_per_pixel_phase_encode,
    dwell_time,
    frame_time_after_start,
    mosaic_slice_times,
    phase_encoding_positive,
)
from dicomio.geometry.conventions import nifti_axes
from dicomio.io.headers import SeriesHeaders

__all__ = ["phase_encoding_fields", "plain", "slice_timing"]

FloatArray = NDArray[np.float64]


def plain(value: float) -> float | int:
    """A number as a sidecar writes it: integral values as integers, others without float
    noise (ten significant digits)."""
    value = float(f"{value:.10g}")
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def in_plane_phase(headers: SeriesHeaders, first: Frame) -> str | None:
    """InPlanePhaseEncodingDirection as ``COL`` or ``ROW``, or None."""
    value = text(frame_item(headers.dataset(first), first.index, "MRFOVGeometrySequence",
                            "InPlanePhaseEncodingDirection")).upper()
    return {"ROW": "ROW", "COL": "COL", "COLUMN": "COL"}.get(value)


def phase_encoding_fields(headers: SeriesHeaders, first: Frame,
                          affine: FloatArray | None) -> dict[str, Any]:
    """AcquisitionMatrixPE, ReconMatrixPE, BandwidthPerPixelPhaseEncode, EffectiveEchoSpacing,
    TotalReadoutTime, DwellTime, PhaseEncodingDirection (PhaseEncodingAxis when the polarity is
    unknown) and InPlanePhaseEncodingDirectionDICOM; empty when the phase-encoding direction is
    not given."""
    along = in_plane_phase(headers, first)
    if along is None:
        return {}
    fields: dict[str, Any] = {}
    dataset = headers.dataset(first)
    steps = numbers(frame_item(dataset, first.index, "MRFOVGeometrySequence",
                               "MRAcquisitionPhaseEncodingStepsInPlane"))
    matrix = numbers(attribute(dataset, "AcquisitionMatrix"))
    if steps:
        fields["AcquisitionMatrixPE"] = int(steps[0])
    elif matrix and len(matrix) == 4 and (matrix[2] or matrix[3]):
        fields["AcquisitionMatrixPE"] = int(matrix[2] or matrix[3])
    rows, columns = first.shape[:2]
    recon = int(rows if along == "COL" or rows == columns else columns)
    fields["ReconMatrixPE"] = recon
    bandwidth = bandwidth_per_pixel_phase_encode(dataset, first.index)
    if bandwidth is not None:
        spacing = 1.0 / (bandwidth * recon)
        fields["BandwidthPerPixelPhaseEncode"] = plain(bandwidth)
        fields["EffectiveEchoSpacing"] = plain(spacing)
        fields["TotalReadoutTime"] = plain(spacing * (recon - 1))
    dwell = dwell_time(dataset)
    if dwell is not None:
        fields["DwellTime"] = plain(dwell)
    if affine is not None and first.orientation is not None:
        iop = np.asarray(first.orientation, dtype=np.float64)
        axis, sign = _nifti_axis(iop[3:6] if along == "COL" else iop[:3], affine)
        positive = phase_encoding_positive(dataset, first.index)
        if positive is None:
            fields["PhaseEncodingAxis"] = axis
        else:
            fields["PhaseEncodingDirection"] = axis + ("" if (sign > 0) == positive else "-")
    fields["InPlanePhaseEncodingDirectionDICOM"] = along
    return fields


def _nifti_axis(vector: FloatArray, affine: FloatArray) -> tuple[str, float]:
    """The voxel axis (``i``, ``j``, ``k``) most nearly along an LPS ``vector``, and the sign."""
    projections = vector @ nifti_axes(affine)
    index = int(np.argmax(np.abs(projections)))
    return "ijk"[index], float(np.sign(projections[index]))


def slice_timing(headers: SeriesHeaders, affine: FloatArray,
                 repetition: float | None) -> list[float | int] | None:
    """Each slice's acquisition time (s) after the volume's first, in the order of the image's
    k axis: Siemens mosaics (CSA MosaicRefAcqTimes, by tile) and XA enhanced files (each frame's
    time after start); None for other series.

    Which volume's times, as dcm2niix chooses (its ``checkSliceTiming``): CMRR's multiband
    sequences record wrong times in the first volume (times past midnight in
    ``dcm_qa/fMRI_MB_int``, 2.5 ms off elsewhere), so a mosaic series takes the second volume's
    when the first's are all equal, span more than TR, or span another time than the second's;
    an enhanced series takes the second volume's (measured: dcm_qa_xa30, dcm_qa_enh).
    """
    volumes = headers.volumes
    times = _volume_times(headers, volumes[0])
    if len(volumes) > 1:
        second = _volume_times(headers, volumes[1])
        if second is not None and _second_is_better(times, second, repetition,
                                                    mosaic=volumes[0][0].tile is not None):
            times = second
    if times is None or any(f.position is None for f in volumes[0]):
        return None
    positions = np.array([f.position for f in volumes[0]], dtype=np.float64)
    along_k = positions @ nifti_axes(affine)[:, 2]
    return [plain(v) for v in times[np.argsort(along_k, kind="stable")]]


def _volume_times(headers: SeriesHeaders, frames: tuple[Frame, ...]) -> FloatArray | None:
    """The acquisition times (s) of a volume's slices, in slice order, after its first."""
    times: list[float | None]
    if all(f.tile is not None for f in frames):
        per_tile = mosaic_slice_times(headers.dataset(frames[0]))
        if per_tile is None or len(per_tile) < len(frames):
            return None
        times = [per_tile[f.tile.number] for f in frames if f.tile is not None]
    else:
        times = [frame_time_after_start(headers.dataset(f), f.index) for f in frames]
    if any(t is None for t in times):
        return None
    values = np.array(times, dtype=np.float64)
    return values - values.min()


def _second_is_better(first: FloatArray | None, second: FloatArray, repetition: float | None,
                      mosaic: bool) -> bool:
    """Whether the second volume's times replace the first's (see :func:`slice_timing`)."""
    span = float(second.max())
    if span <= 0 or (repetition is not None and span >= repetition):
        return False
    if first is None or not mosaic:
        return True
    first_span = float(first.max())
    return (first_span <= 0 or (repetition is not None and first_span > repetition)
            or abs(first_span - span) > 1e-5 * max(first_span, span, 1.0))
