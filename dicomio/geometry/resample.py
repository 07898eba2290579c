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

The output is at most :data:`MAX_GROWTH` times the voxels read: positions that drift further
(damaged or forged: three 1 KB files could otherwise ask for gigabytes) are refused before
anything is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.errors import GeometryError
from dicomio.geometry.conventions import affine_from, slice_normal
from dicomio.geometry.stack import median

__all__ = ["MAX_GROWTH", "Regularized", "regularize"]

_STRAIGHT = 1e-3  # pixels: smaller in-plane drifts are not worth interpolating

MAX_GROWTH = 8
"""The most voxels a resampled volume may have, as a multiple of the voxels read. Uneven spacing
at most doubles the slices; a real gantry tilt (at most 30°) widens the grid by the drift of the
last slice, under three times even for a stack four times as long as the field of view is wide.
More means the positions are damaged."""


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
    path: str | Path | None = None,
) -> Regularized:
    """Resample ``array`` (slice, row, column[, sample]) whose slice ``k`` lies at
    ``positions[k]`` (sorted along the normal) onto a regular orthogonal grid.

    Parameters
    ----------
    spacing_tolerance
        Gaps that differ by less than this (mm) count as equal: no resampling along the normal.
    path
        The series' first file, named by the error.

    Raises
    ------
    GeometryError
        The grid would hold more than :data:`MAX_GROWTH` times the voxels of ``array``, or the
        positions are too far apart to compute with.
    """
    iop = np.asarray(orientation, dtype=np.float64)
    row_cosine, column_cosine = iop[:3], iop[3:]
    normal = slice_normal(orientation)
    points = np.asarray(positions, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        depth = (points - points[0]) @ normal
        drift = points - points[0] - np.outer(depth, normal)
        shifts = np.stack([drift @ column_cosine / pixel_spacing[0],
                           drift @ row_cosine / pixel_spacing[1]], axis=1)  # (rows, columns)
    if not (np.isfinite(shifts).all() and np.isfinite(depth).all()):
        raise GeometryError("cannot resample: the slice positions are too far apart to compute "
                            "with", path=path)
    shifts[np.abs(shifts) < _STRAIGHT] = 0.0  # rounding of the positions, not a tilt
    gaps = np.diff(depth)
    uneven = bool(gaps.size and np.ptp(gaps) > spacing_tolerance)
    _check_growth(array.shape, shifts, len(depth) if not uneven else _slices(depth)[0], path)
    notes = []
    origin = points[0]
    if np.abs(shifts).max() > _STRAIGHT:
        array, low = _unshear(array, shifts)
        origin = origin + low[0] * pixel_spacing[0] * column_cosine \
            + low[1] * pixel_spacing[1] * row_cosine
        notes.append(f"gantry tilt corrected: slices shifted in-plane by up to "
                     f"{np.abs(shifts).max():.2f} pixels (bilinear within each slice); grid "
                     f"now {array.shape[1]}x{array.shape[2]}")
    step = median(gaps) if gaps.size else 1.0
    if uneven:
        array, step = _equalize(array, depth)
        notes.append(f"uneven slice spacing resampled linearly along the normal to "
                     f"{array.shape[0]} slices {step:.4g} mm apart (smallest gap)")
    affine = affine_from(orientation, pixel_spacing, origin, normal * step)
    return Regularized(array, affine, tuple(notes))


def _grid(shifts: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The whole pixels (rows, columns) the grid grows by, before and after slice 0's."""
    return (np.floor(shifts.min(axis=0)).astype(np.intp),
            np.ceil(shifts.max(axis=0)).astype(np.intp))


def _check_growth(shape: tuple[int, ...], shifts: NDArray[np.float64], slices: int,
                  path: str | Path | None) -> None:
    """Refuse a resampled grid of more than MAX_GROWTH times the voxels read."""
    low, high = _grid(shifts)
    rows, columns = shape[1] + int(high[0] - low[0]), shape[2] + int(high[1] - low[1])
    read = shape[0] * shape[1] * shape[2]
    made = slices * rows * columns
    if made > MAX_GROWTH * read:
        raise GeometryError(
            f"cannot resample: the positions would make a grid of {slices}x{rows}x{columns} "
            f"voxels, {made / read:.3g} times the {shape[0]}x{shape[1]}x{shape[2]} read (at most "
            f"{MAX_GROWTH} times): the slice positions drift too far to be a gantry tilt or "
            f"uneven spacing", path=path)


def _cast(values: NDArray[np.float64], dtype: np.dtype[Any]) -> NDArray[Any]:
    if dtype.kind in "iu":
        return np.rint(values).astype(dtype)
    return values.astype(dtype)


def _unshear(
    array: NDArray[Any], shifts: NDArray[np.float64]
) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """Shift slice ``k`` in-plane by ``shifts[k]`` (rows, columns) pixels onto a grid large
    enough for all; return the new array and the grid's offset (rows, columns) from slice 0."""
    low, high = _grid(shifts)
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
    count, step = _slices(depth)
    targets = np.arange(count) * step
    upper = np.clip(np.searchsorted(depth, targets, side="left"), 1, len(depth) - 1)
    lower = upper - 1
    weight = np.clip((targets - depth[lower]) / (depth[upper] - depth[lower]), 0.0, 1.0)
    shape = (-1,) + (1,) * (array.ndim - 1)
    values = (array[lower].astype(np.float64) * (1 - weight).reshape(shape)
              + array[upper].astype(np.float64) * weight.reshape(shape))
    return _cast(values, array.dtype), step


def _slices(depth: NDArray[np.float64]) -> tuple[int, float]:
    """How many slices, how far apart, to resample slices at ``depth`` onto: every smallest
    gap, at most twice as many as there are."""
    gaps = np.diff(depth)
    step = float(gaps[gaps > 0].min())
    count = math.floor(depth[-1] / step + 1e-6) + 1
    if count > 2 * len(depth):
        count = 2 * len(depth)
        step = float(depth[-1]) / (count - 1)
    return count, step
