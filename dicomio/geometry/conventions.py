"""The one home of dicomio's axis and coordinate conventions.

dicomio's contract (docs/contract.md):

- arrays are indexed ``(k, j, i)`` = (slice, row, column);
- an affine maps ``(k, j, i, 1)`` to patient **LPS** millimetres at the voxel centre: column 0 is
  the slice step, column 1 the column cosine × PixelSpacing[0] (down the rows), column 2 the row
  cosine × PixelSpacing[1] (along a row), column 3 the position of voxel (0, 0, 0).

Other toolkits index the other way round, ``(x, y, z) = (i, j, k)``: ITK and VTK in LPS, NIfTI in
**RAS**. Every translation between these conventions is written here, once; the writers, the
converters, the backends' reported geometry and ``compare`` all use these functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "LPS_TO_RAS",
    "REVERSE_INDEX",
    "affine_from",
    "affine_from_nifti",
    "affine_from_xyz",
    "is_orthogonal",
    "lps_ras",
    "nifti_affine",
    "nifti_axes",
    "reverse_index",
    "slice_normal",
    "xyz_geometry",
]

FloatArray = NDArray[np.float64]

#: LPS ↔ RAS: negate x and y (its own inverse).
LPS_TO_RAS: FloatArray = np.diag([-1.0, -1.0, 1.0, 1.0])
#: Swaps index axes 0 and 2: ``(k, j, i)`` ↔ ``(i, j, k)`` (its own inverse).
REVERSE_INDEX: FloatArray = np.array(
    [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=np.float64)


def slice_normal(orientation: Sequence[float]) -> FloatArray:
    """Unit normal ``row cosine × column cosine`` of an ImageOrientationPatient value."""
    iop = np.asarray(orientation, dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:6])
    return normal / np.linalg.norm(normal)


def affine_from(
    orientation: Sequence[float],
    pixel_spacing: Sequence[float],
    origin: Sequence[float] | FloatArray,
    slice_step: Sequence[float] | FloatArray,
) -> FloatArray:
    """Build the 4×4 affine of the contract.

    Parameters
    ----------
    orientation
        ImageOrientationPatient (row cosine, then column cosine).
    pixel_spacing
        PixelSpacing: (spacing between rows, spacing between columns).
    origin
        ImagePositionPatient of slice 0.
    slice_step
        Vector from slice k to slice k + 1 (normal × spacing for an orthogonal stack).
    """
    iop = np.asarray(orientation, dtype=np.float64)
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(slice_step, dtype=np.float64)
    affine[:3, 1] = iop[3:6] * float(pixel_spacing[0])
    affine[:3, 2] = iop[0:3] * float(pixel_spacing[1])
    affine[:3, 3] = np.asarray(origin, dtype=np.float64)
    return affine


def reverse_index(affine: FloatArray) -> FloatArray:
    """The same affine for the reversed index order: ``(k, j, i)`` ↔ ``(i, j, k)``."""
    return np.asarray(affine, dtype=np.float64) @ REVERSE_INDEX


def lps_ras(affine: FloatArray) -> FloatArray:
    """The same affine with world coordinates flipped between LPS and RAS (either way)."""
    return LPS_TO_RAS @ np.asarray(affine, dtype=np.float64)


def nifti_affine(affine: FloatArray) -> FloatArray:
    """NIfTI's affine (voxel ``(i, j, k)`` → RAS mm) of a contract affine."""
    return lps_ras(reverse_index(affine))


def affine_from_nifti(affine: FloatArray) -> FloatArray:
    """The contract affine of a NIfTI affine (the inverse of :func:`nifti_affine`)."""
    return reverse_index(lps_ras(affine))


def nifti_axes(affine: FloatArray) -> FloatArray:
    """The unit LPS directions (columns) of a NIfTI image's voxel axes ``i, j, k``, from its
    affine (RAS): what b-vectors and phase-encoding directions are expressed along."""
    matrix = lps_ras(np.asarray(affine, dtype=np.float64))[:3, :3]
    return matrix / np.linalg.norm(matrix, axis=0)


def xyz_geometry(affine: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Origin, spacing and direction in ITK/VTK's ``(x, y, z)`` index order, LPS.

    ``direction`` is 3×3, its columns the unit directions of x, y and z.
    """
    matrix = reverse_index(affine)[:3, :3]
    spacing = np.linalg.norm(matrix, axis=0)
    return np.asarray(affine, dtype=np.float64)[:3, 3].copy(), spacing, matrix / spacing


def affine_from_xyz(
    origin: Sequence[float] | FloatArray, spacing: Sequence[float] | FloatArray,
    direction: Sequence[float] | FloatArray,
) -> FloatArray:
    """The contract affine of an ``(x, y, z)``-indexed LPS image (ITK, VTK).

    ``direction`` is a 3×3 matrix, or its 9 values row-major, whose columns are the x, y and z
    directions.
    """
    matrix = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    xyz = np.eye(4)
    xyz[:3, :3] = matrix * np.asarray(spacing, dtype=np.float64)
    xyz[:3, 3] = np.asarray(origin, dtype=np.float64)
    return reverse_index(xyz)


def is_orthogonal(affine: FloatArray, tolerance: float = 1e-4) -> bool:
    """The axes of ``affine`` are perpendicular (every cosine below ``tolerance``, ~0.006°):
    false for a sheared affine (gantry tilt accepted as it is)."""
    axes = np.asarray(affine, dtype=np.float64)[:3, :3]
    axes = axes / np.linalg.norm(axes, axis=0)
    return bool(np.max(np.abs(axes.T @ axes - np.eye(3))) < tolerance)
