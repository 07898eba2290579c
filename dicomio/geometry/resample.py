"""Resample a sheared or unevenly spaced stack onto a regular orthogonal grid.

What ``load_volume(..., irregular="resample")`` does, in two independent steps, as dcm2niix does
for its ``_Tilt`` and ``_Eq`` outputs:

1. **Gantry tilt** (slices sheared: their positions drift in-plane). Each slice is shifted
   in-plane by its own drift, so that every slice lies straight above the first one. The shift
   is exact geometry; the values are interpolated *within the slice* (bilinear, which for the
   usual tilt about the x axis is linear along the columns). The grid grows by the whole pixels
   the shift needs, so no voxel is lost; new voxels hold the lowest value of the volume (as
   dcm2niix does). Slices are never mixed with their neighbours in this step.
2. **Uneven spacing** (gaps of different sizes, missing slices). The slices are resampled along
   the normal at the smallest gap, from the first slice to the last, each output slice
   interpolated linearly between the two input slices around it. At most twice the number of
   input slices are made (then the spacing is widened to cover the stack), as dcm2niix does.

Integer volumes are rounded to the nearest integer (the dtype is kept); float volumes keep
their dtype. The result's affine is orthogonal: column 0 is the normal times the new spacing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.geometry.conventions import affine_from, slice_normal

__all__ = ["Regularized", "regularize"]

_STRAIGHT = 1e-3  # pixels: smaller in-plane drifts are not worth interpolating


@dataclass(frozen=True)
class Regularized:
    """A resampled stack: the array, its orthogonal affine, and what was done."""

    array: NDArray[Any]
    affine: NDArray[np.float64]
    notes: tuple[str, ...]


def regularize(
    array: NDArray[Any],
    positions: NDArray[np.float64],
    orientation: tuple[float, ...],
    pixel_spacing: tuple[float, ...],
    *,
    spacing_tolerance: float = 0.01,
) -> Regularized:
    """Resample ``array`` (slice, row, column[, sample]) whose slice ``k`` lies at
    ``positions[k]`` (sorted along the normal) onto a regular orthogonal grid.

    Parameters
    ----------
    spacing_tolerance
        Gaps that differ by less than this (mm) count as equal: no resampling along the normal.
    """
    iop = np.asarray(orientation, dtype=np.float64)
    row_cosine, column_cosine = iop[:3], iop[3:]
    normal = slice_normal(orientation)
    points = np.asarray(positions, dtype=np.float64)
    depth = (points - points[0]) @ normal
    drift = points - points[0] - np.outer(depth, normal)
    shifts = np.stack([drift @ column_cosine / pixel_spacing[0],
                       drift @ row_cosine / pixel_spacing[1]], axis=1)  # (rows, columns)
    shifts[np.abs(shifts) < _STRAIGHT] = 0.0  # rounding of the positions, not a tilt
    notes = []
    origin = points[0]
    if np.abs(shifts).max() > _STRAIGHT:
        array, low = _unshear(array, shifts)
        origin = origin + low[0] * pixel_spacing[0] * column_cosine \
            + low[1] * pixel_spacing[1] * row_cosine
        notes.append(f"gantry tilt corrected: slices shifted in-plane by up to "
                     f"{np.abs(shifts).max():.2f} pixels (bilinear within each slice); grid "
                     f"now {array.shape[1]}x{array.shape[2]}")
    gaps = np.diff(depth)
    step = float(np.median(gaps)) if gaps.size else 1.0
    if gaps.size and np.ptp(gaps) > spacing_tolerance:
        array, step = _equalize(array, depth)
        notes.append(f"uneven slice spacing resampled linearly along the normal to "
                     f"{array.shape[0]} slices {step:.4g} mm apart (smallest gap)")
    affine = affine_from(orientation, pixel_spacing, origin, normal * step)
    return Regularized(array, affine, tuple(notes))


def _cast(values: NDArray[np.float64], dtype: np.dtype[Any]) -> NDArray[Any]:
    if dtype.kind in "iu":
        return np.rint(values).astype(dtype)
    return values.astype(dtype)


def _unshear(
    array: NDArray[Any], shifts: NDArray[np.float64]
) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """Shift slice ``k`` in-plane by ``shifts[k]`` (rows, columns) pixels onto a grid large
    enough for all; return the new array and the grid's offset (rows, columns) from slice 0."""
    low = np.floor(shifts.min(axis=0)).astype(np.intp)
    high = np.ceil(shifts.max(axis=0)).astype(np.intp)
    n, rows, columns = array.shape[:3]
    out_rows, out_columns = rows + high[0] - low[0], columns + high[1] - low[1]
    fill = array.min()
    out = np.full((n, out_rows, out_columns, *array.shape[3:]), fill, dtype=np.float64)
    for k in range(n):
        # Output pixel (j, i) shows input pixel (j + low - shift) of slice k.
        offset = shifts[k] - low
        whole = np.floor(offset).astype(np.intp)
        fraction = offset - whole
        _place_bilinear(array[k].astype(np.float64), whole, fraction, out[k], float(fill))
    return _cast(out, array.dtype), low


def _place_bilinear(image: NDArray[np.float64], whole: NDArray[np.intp],
                    fraction: NDArray[np.float64], out: NDArray[np.float64],
                    fill: float) -> None:
    """Write ``image`` into ``out`` translated by ``whole + fraction`` pixels (bilinear)."""
    rows, columns = image.shape[:2]
    # Pad by one pixel of fill so that the weights blend the edges with the background.
    padded = np.full((rows + 2, columns + 2, *image.shape[2:]), fill)
    padded[1:-1, 1:-1] = image
    fr, fc = fraction
    # Sample at (j - fr, i - fc) of the padded image for the translated position j, i.
    blended = ((1 - fr) * (1 - fc) * padded[1:, 1:] + fr * (1 - fc) * padded[:-1, 1:]
               + (1 - fr) * fc * padded[1:, :-1] + fr * fc * padded[:-1, :-1])
    top, left = int(whole[0]), int(whole[1])
    height = min(blended.shape[0], out.shape[0] - top)
    width = min(blended.shape[1], out.shape[1] - left)
    out[top:top + height, left:left + width] = blended[:height, :width]


def _equalize(array: NDArray[Any], depth: NDArray[np.float64]) -> tuple[NDArray[Any], float]:
    """Resample slices at ``depth`` (ascending, from 0) every smallest gap, linearly."""
    gaps = np.diff(depth)
    step = float(gaps[gaps > 0].min())
    count = math.floor(depth[-1] / step + 1e-6) + 1
    if count > 2 * len(depth):
        count = 2 * len(depth)
        step = float(depth[-1]) / (count - 1)
    targets = np.arange(count) * step
    upper = np.clip(np.searchsorted(depth, targets, side="left"), 1, len(depth) - 1)
    lower = upper - 1
    weight = np.clip((targets - depth[lower]) / (depth[upper] - depth[lower]), 0.0, 1.0)
    shape = (-1,) + (1,) * (array.ndim - 1)
    values = (array[lower].astype(np.float64) * (1 - weight).reshape(shape)
              + array[upper].astype(np.float64) * weight.reshape(shape))
    return _cast(values, array.dtype), step
