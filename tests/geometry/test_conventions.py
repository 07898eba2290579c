"""The axis and coordinate conventions, each against matrices written out by hand."""

from __future__ import annotations

import numpy as np

from dicomio.geometry.conventions import (
    affine_from,
    affine_from_nifti,
    affine_from_xyz,
    is_orthogonal,
    nifti_affine,
    slice_normal,
    xyz_geometry,
)

# An oblique-free but fully anisotropic contract affine: slices along z (4 mm), rows along y
# (3 mm), columns along x (2 mm), origin (10, 20, 30) LPS.
AFFINE = np.array([[0, 0, 2, 10], [0, 3, 0, 20], [4, 0, 0, 30], [0, 0, 0, 1]], float)


def test_affine_columns_are_slice_step_column_cosine_row_cosine_origin() -> None:
    # Row cosine along +x, column cosine along +y (axial), PixelSpacing (3, 2).
    built = affine_from((1, 0, 0, 0, 1, 0), (3.0, 2.0), (10, 20, 30), (0, 0, 4))
    np.testing.assert_array_equal(built, AFFINE)
    np.testing.assert_array_equal(slice_normal((1, 0, 0, 0, 1, 0)), [0, 0, 1])
    np.testing.assert_array_equal(slice_normal((0, 1, 0, 0, 0, -1)), [-1, 0, 0])  # sagittal


def test_nifti_affine_is_ras_of_reversed_axes_and_back() -> None:
    expected = np.array([[-2, 0, 0, -10], [0, -3, 0, -20], [0, 0, 4, 30], [0, 0, 0, 1]], float)
    np.testing.assert_array_equal(nifti_affine(AFFINE), expected)
    np.testing.assert_array_equal(affine_from_nifti(expected), AFFINE)


def test_xyz_geometry_is_itk_order_and_back() -> None:
    origin, spacing, direction = xyz_geometry(AFFINE)
    np.testing.assert_array_equal(origin, [10, 20, 30])
    np.testing.assert_array_equal(spacing, [2, 3, 4])  # x = column, y = row, z = slice
    np.testing.assert_array_equal(direction, np.eye(3))
    np.testing.assert_array_equal(affine_from_xyz(origin, spacing, direction.ravel()), AFFINE)


def test_a_sheared_affine_is_not_orthogonal() -> None:
    assert is_orthogonal(AFFINE)
    tilted = AFFINE.copy()
    tilted[:3, 0] = [0, 4 * np.sin(np.radians(15)), 4 * np.cos(np.radians(15))]
    assert not is_orthogonal(tilted)
