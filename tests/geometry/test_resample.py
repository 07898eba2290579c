"""irregular="resample": gantry tilt and uneven spacing onto a regular orthogonal grid.

The phantoms hold a linear function of the patient position, which linear interpolation
reproduces exactly: every resampled voxel must equal the function at the voxel centre its
affine claims (within the rounding of stored and output integers).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import dicomio
from dicomio.geometry.resample import regularize
from dicomio.testing.synthetic import SeriesSpec
from tests.support.cases import OBLIQUE
from tests.support.file_geometry import file_stack, unit_normal

SPEC = SeriesSpec(shape=(6, 20, 16), pixel_spacing=(0.8, 0.6), slice_spacing=2.0,
                  rescale_intercept=0.0)


def tilted_positions(spec: SeriesSpec) -> np.ndarray:
    """Instance k at ``origin + k × (spacing × normal + tan(tilt) × |spacing| × column
    cosine)``: the positions the test states and writes."""
    step = (spec.slice_spacing * unit_normal(spec.orientation) + math.tan(math.radians(
        spec.tilt_degrees)) * abs(spec.slice_spacing) * np.asarray(spec.orientation[3:]))
    return np.asarray(spec.origin) + np.outer(np.arange(spec.shape[0]), step)


def linear_phantom(spec: SeriesSpec, positions: np.ndarray) -> tuple[np.ndarray, object]:
    """Stored values f(voxel centre), and f."""
    iop = np.asarray(spec.orientation)
    gradient = 11.0 * iop[3:] + 7.0 * iop[:3] + 13.0 * unit_normal(spec.orientation)

    def f(points: np.ndarray) -> np.ndarray:
        return 2000.0 + (points - positions[0]) @ gradient

    j, i = np.meshgrid(np.arange(spec.shape[1]), np.arange(spec.shape[2]), indexing="ij")
    centres = (positions[:, None, None, :] + j[..., None] * spec.pixel_spacing[0] * iop[3:]
               + i[..., None] * spec.pixel_spacing[1] * iop[:3])
    return np.rint(f(centres)).astype(np.uint16), f


def centres(volume: dicomio.Volume) -> np.ndarray:
    return volume.index_to_lps(np.stack(np.indices(volume.shape[:3]), axis=-1))


def in_plane_index(points: np.ndarray, positions: np.ndarray,
                   spec: SeriesSpec) -> tuple[np.ndarray, np.ndarray]:
    """Continuous (row, column) of each point in the written slice nearest to it."""
    iop = np.asarray(spec.orientation)
    normal = unit_normal(spec.orientation)
    depths = (positions - positions[0]) @ normal
    depth = (points - positions[0]) @ normal
    k = np.abs(depth[..., None] - depths).argmin(axis=-1)
    offset = points - positions[k]
    return offset @ iop[3:] / spec.pixel_spacing[0], offset @ iop[:3] / spec.pixel_spacing[1]


@pytest.mark.parametrize("orientation", [SPEC.orientation, OBLIQUE], ids=["axial", "oblique"])
def test_gantry_tilt_is_corrected_exactly(make_series, orientation) -> None:
    spec = SPEC.with_(tilt_degrees=20.0, orientation=orientation)
    positions = tilted_positions(spec)
    stored, f = linear_phantom(spec, positions)
    truth = make_series(spec, stored=stored, positions=positions)
    with pytest.raises(dicomio.GeometryError, match=r"GANTRY_TILT.*irregular='resample'"):
        dicomio.load_volume(truth.folder)
    volume = dicomio.load_volume(truth.folder, irregular="resample")
    drift = math.tan(math.radians(20)) * 2.0 * 5 / 0.8  # pixels, over the stack
    assert volume.shape == (6, 20 + math.ceil(drift), 16)
    assert volume.dtype == np.uint16  # 12-bit stored values, no intercept
    normal = unit_normal(orientation)
    np.testing.assert_allclose(volume.affine[:3, 0], normal * 2.0, atol=1e-5)  # orthogonal
    np.testing.assert_allclose(volume.affine[:3, 3], positions[0], atol=1e-9)
    points = centres(volume)
    j, i = in_plane_index(points, positions, spec)
    # Away from the edges (where the lowest value is blended in), the function itself:
    valid = (j >= 1) & (j <= spec.shape[1] - 2) & (i >= 0) & (i <= spec.shape[2] - 1)
    assert valid.mean() > 0.6
    assert np.abs(volume.array[valid] - f(points[valid])).max() <= 1
    outside = (j <= -1) | (j >= spec.shape[1])  # beyond the written rows: the lowest value
    assert outside.any() and np.all(volume.array[outside] == stored.min())
    assert any(w.startswith("resampled: gantry tilt corrected") for w in
               volume.provenance.warnings)
    np.testing.assert_allclose(volume.slice_positions, points[:, 0, 0], atol=1e-9)


def test_uneven_gaps_are_resampled_at_the_smallest(make_series) -> None:
    depths = np.array([0.0, 2.0, 4.0, 7.0, 9.0, 15.0])  # gaps 2 2 3 2 6
    spec = SPEC.with_(orientation=OBLIQUE)
    normal = unit_normal(OBLIQUE)
    positions = np.asarray(spec.origin) + np.outer(depths, normal)
    stored, f = linear_phantom(spec, positions)
    truth = make_series(spec, stored=stored, positions=positions, naming="uid")
    issues = {i.code for i in dicomio.list_series(truth.folder)[0].issues}
    assert {"IRREGULAR_SPACING", "MISSING_SLICE"} <= issues
    volume = dicomio.load_volume(truth.folder, irregular="resample")
    assert volume.shape == (8, 20, 16) and volume.spacing[0] == pytest.approx(2.0)
    points = centres(volume)
    assert np.abs(volume.array - f(points)).max() <= 1
    for k in range(3):  # the slices on the new grid come back unchanged
        np.testing.assert_array_equal(volume.array[k], stored[k])


def test_a_missing_slice_is_interpolated_from_its_neighbours(make_series) -> None:
    truth = make_series(SPEC, skip=[3])
    volume = dicomio.load_volume(truth.folder, irregular="resample", rescale=False)
    assert volume.shape == (6, 20, 16)
    expected = np.rint((truth.stored[2].astype(float) + truth.stored[3]) / 2)
    np.testing.assert_array_equal(volume.array[3], expected)
    np.testing.assert_array_equal(volume.array[[0, 1, 2, 4, 5]], truth.stored)


def test_float_volumes_keep_their_dtype(make_series) -> None:
    truth = make_series(SPEC.with_(rescale_slope=0.5, rescale_intercept=-3.25), skip=[2])
    volume = dicomio.load_volume(truth.folder, irregular="resample")
    assert volume.dtype == np.float32
    expected = (truth.modality_values()[1] + truth.modality_values()[2]) / 2
    np.testing.assert_allclose(volume.array[2], expected, rtol=1e-6)


def test_stored_values_with_different_slopes_cannot_be_resampled(make_series) -> None:
    truth = make_series(SPEC.with_(rescale_slope=[1, 2, 1, 1, 1, 1]), skip=[4])
    with pytest.raises(dicomio.GeometryError, match="different RescaleSlope"):
        dicomio.load_volume(truth.folder, irregular="resample", rescale=False)
    assert dicomio.load_volume(truth.folder, irregular="resample").shape == (6, 20, 16)


def test_regular_series_are_not_touched(make_series) -> None:
    truth = make_series(SPEC)
    volume = dicomio.load_volume(truth.folder, irregular="resample")
    np.testing.assert_array_equal(volume.array, truth.modality_values())
    assert not any("resampled" in w for w in volume.provenance.warnings)


def test_at_most_twice_the_slices_are_made() -> None:
    """A stray slice very close to another must not explode the volume (dcm2niix's cap)."""
    depths = np.array([0.0, 0.1, 10.0, 20.0])
    positions = np.outer(depths, [0, 0, 1.0])
    array = np.arange(4, dtype=np.int16)[:, None, None] * np.ones((4, 2, 3), np.int16)
    result = regularize(array, positions, (1, 0, 0, 0, 1, 0), (1.0, 1.0))
    assert result.array.shape[0] == 8
    assert result.affine[2, 0] == pytest.approx(20.0 / 7)


@pytest.mark.corpus
def test_real_tilted_ct_with_uneven_gaps(corpus) -> None:
    """dcm_qa_ct GE: 18.5 degree gantry tilt and gaps of 1.08, 4 and 7 mm."""
    folder = corpus("dcm_qa_ct/In/GE")
    issues = {i.code for i in dicomio.list_series(folder)[0].issues}
    assert {"GANTRY_TILT", "IRREGULAR_SPACING"} <= issues
    accepted = dicomio.load_volume(folder, irregular="accept")
    volume = dicomio.load_volume(folder, irregular="resample")
    direction = volume.direction
    np.testing.assert_allclose(direction.T @ direction, np.eye(3), atol=1e-9)  # orthogonal
    files = file_stack(accepted.provenance.files)  # the files' positions, read with pydicom
    depth = files.positions @ files.normal
    # The smallest gap (1.08 mm) would make over 100 slices from 28: capped at twice as many.
    assert (depth[-1] - depth[0]) / np.diff(depth).min() > 2 * 28
    assert volume.shape[0] == 56
    assert volume.spacing[0] == pytest.approx((depth[-1] - depth[0]) / 55)
    assert volume.shape[1] > accepted.shape[1] and volume.shape[2] == accepted.shape[2]
    # Slice 0 is not moved: its pixels are where the affine says, untouched.
    row = volume.lps_to_index(accepted.index_to_lps([0, 0, 0]))
    np.testing.assert_allclose(row, np.rint(row), atol=1e-6)
    top = int(np.rint(row[1]))
    np.testing.assert_array_equal(volume.array[0, top:top + 512], accepted.array[0])
