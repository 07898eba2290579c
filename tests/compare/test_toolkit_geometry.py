"""Each toolkit's own geometry against dicomio's affine: how far it places the voxel centres and
which slice order it implies, with the known differences of each toolkit stated as numbers.

Every expected number is written out by plain arithmetic from the generated series' spec.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import dicomio
from dicomio.backends.base import ReportedGeometry
from dicomio.backends.registry import get_spec
from dicomio.compare.report import implied_slice_order, reported_displacement
from dicomio.compare.side_by_side import compare_series, spatial_shape
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec
from tests.support.schemas import check_schema

AXIAL_IDENTITY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def installed(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not get_spec(name).installed(),
                              reason=f"{name} is not installed: {get_spec(name).install_hint()}")


def test_reported_displacement_of_a_grid_is_its_farthest_corner() -> None:
    # dicomio: slices along z every 2 mm from the origin; the toolkit starts 3 mm along x.
    ours = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0],
                     [0.0, 0.0, 0.0, 1.0]])
    toolkit = ReportedGeometry((3.0, 0.0, 0.0), (2.0, 1.0, 1.0),
                               ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)))
    assert reported_displacement(toolkit, ours, (4, 5, 6)) == pytest.approx(3.0)
    longer = ReportedGeometry((0.0, 0.0, 0.0), (2.1, 1.0, 1.0), toolkit.direction)
    assert reported_displacement(longer, ours, (4, 5, 6)) == pytest.approx(3 * 0.1)


def test_reported_displacement_follows_each_slice_the_toolkit_placed() -> None:
    """Per-slice positions: slice 2 is 1.5 mm off dicomio's grid, the others on it."""
    ours = np.eye(4)
    ours[:3, :3] = [[0, 0, 1], [0, 1, 0], [2, 0, 0]]  # slice step 2 mm along z
    positions = ((0.0, 0.0, 0.0), (0.0, 0.0, 2.0), (0.0, 0.0, 5.5), (0.0, 0.0, 6.0))
    toolkit = ReportedGeometry((0.0, 0.0, 0.0), (2.0, 1.0, 1.0),
                               ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)), positions)
    assert reported_displacement(toolkit, ours, (4, 3, 3)) == pytest.approx(1.5)
    assert implied_slice_order(toolkit, ours, 4) == "same"
    shuffled = ReportedGeometry(toolkit.origin, toolkit.spacing, toolkit.direction,
                                (positions[0], positions[2], positions[1], positions[3]))
    assert implied_slice_order(shuffled, ours, 4) == "mixed"


def test_implied_slice_order_says_reversed_and_none() -> None:
    ours = np.eye(4)
    ours[:3, :3] = [[0, 0, 1], [0, 1, 0], [2, 0, 0]]
    reversed_ = ReportedGeometry((0.0, 0.0, 6.0), (2.0, 1.0, 1.0),
                                 ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (-1.0, 0.0, 0.0)))
    assert implied_slice_order(reversed_, ours, 4) == "reversed"
    # A toolkit stacking the slices along x while dicomio's run along z: they do not advance.
    across = ReportedGeometry((0.0, 0.0, 0.0), (2.0, 1.0, 1.0), AXIAL_IDENTITY)
    assert implied_slice_order(across, ours, 4) == "none"
    assert implied_slice_order(across, ours, 1) is None


def test_spatial_shape_drops_the_volume_axis() -> None:
    assert spatial_shape((3, 5, 7, 9), 2) == (5, 7, 9)
    assert spatial_shape((5, 7, 9), 2) == (5, 7, 9)
    assert spatial_shape((5, 7, 9, 3), 3) == (5, 7, 9)      # colour volume
    assert spatial_shape((2, 5, 7, 9, 3), 3) == (5, 7, 9)   # colour 4-D


def test_reported_geometry_round_trips_through_json() -> None:
    geometry = ReportedGeometry((1.0, 2.0, 3.0), (2.0, 0.5, 0.5), AXIAL_IDENTITY,
                                ((1.0, 2.0, 3.0), (1.0, 2.0, 5.0)), has_direction=False,
                                source="a toolkit")
    assert ReportedGeometry.from_dict(geometry.to_dict()) == geometry
    legacy = {"origin": [1, 2, 3], "spacing": [2, 0.5, 0.5], "direction": AXIAL_IDENTITY}
    assert ReportedGeometry.from_dict(legacy).has_direction is True


# --- known toolkit differences, on a stack with a missing slice -------------------------------
# Six axial slices every 2.5 mm from z = 40, rows 9 × 0.7 mm, columns 11 × 0.9 mm, origin
# (-80, -60, 40); the third file is removed: the files lie at z = 40, 42.5, 47.5, 50, 52.5.
# Loaded with irregular="accept", dicomio's affine steps by the mean step (52.5 - 40) / 4.
MEAN_STEP = (52.5 - 40.0) / 4
FILE_Z = [40.0, 42.5, 47.5, 50.0, 52.5]


@pytest.fixture
def gapped(make_series):
    truth = make_series(SeriesSpec(shape=(6, 9, 11)))
    truth.files[2].unlink()
    (series,) = dicomio.list_series(truth.folder)
    return series


def explicit_affine(step: float) -> np.ndarray:
    return np.array([[0.0, 0.0, 0.9, -80.0], [0.0, 0.7, 0.0, -60.0], [step, 0.0, 0.0, 40.0],
                     [0.0, 0.0, 0.0, 1.0]])


def load(series, backend: str) -> tuple[dicomio.Volume, ReportedGeometry]:
    volume = dicomio.load_volume(series, backend=backend, irregular="accept")
    np.testing.assert_allclose(volume.affine, explicit_affine(MEAN_STEP), atol=1e-9)
    return volume, volume.provenance.reported_geometry


def test_pydicom_reports_each_file_where_it_is(gapped) -> None:
    """pydicom reads each file's own position: dicomio's mean-step grid is 1.25 mm off at the
    slice after the gap (47.5 against 40 + 2 × 3.125 = 46.25)."""
    volume, reported = load(gapped, "pydicom")
    np.testing.assert_allclose(reported.slice_origins(5)[:, 2], FILE_Z)
    assert reported.spacing == pytest.approx((MEAN_STEP, 0.7, 0.9))
    worst = max(abs(z - (40.0 + k * MEAN_STEP)) for k, z in enumerate(FILE_Z))
    assert worst == pytest.approx(1.25)
    assert reported_displacement(reported, volume.affine, volume.shape) == pytest.approx(worst)
    assert implied_slice_order(reported, volume.affine, 5) == "same"


@installed("sitk")
def test_simpleitk_spacing_is_the_mean_step_from_first_to_last(gapped) -> None:
    """ITK (SimpleITK 2.x) divides the first-to-last distance by n - 1: 3.125 mm here, not
    the first gap (2.5 mm); its grid is dicomio's accepted one."""
    volume, reported = load(gapped, "sitk")
    assert reported.spacing == pytest.approx((MEAN_STEP, 0.7, 0.9))
    assert reported.spacing[0] != pytest.approx(2.5)
    assert reported_displacement(reported, volume.affine, volume.shape) < 1e-4


@installed("vtk")
def test_vtk_has_no_position_and_no_direction(gapped) -> None:
    """VTK: origin (0, 0, 0) at the bottom-left pixel, identity directions, SliceThickness
    (2.5 mm) as the slice step. Its voxel (k, j, i) is at (0.9 i, 5.6 - 0.7 j, 2.5 k)."""
    volume, reported = load(gapped, "vtk")
    assert reported.has_direction is False
    assert reported.origin == pytest.approx((0.0, 8 * 0.7, 0.0))
    assert reported.spacing == pytest.approx((2.5, 0.7, 0.9))
    worst = max(math.dist((0.9 * i, 5.6 - 0.7 * j, 2.5 * k),
                          (-80 + 0.9 * i, -60 + 0.7 * j, 40 + MEAN_STEP * k))
                for k in (0, 4) for j in (0, 8) for i in (0, 10))
    assert worst == pytest.approx(math.sqrt(80**2 + 65.6**2 + 42.5**2))  # 111.85 mm
    assert reported_displacement(reported, volume.affine, volume.shape) == pytest.approx(worst)
    assert implied_slice_order(reported, volume.affine, 5) == "same"


@installed("dcm2niix")
def test_dcm2niix_grid_steps_by_the_first_gap(gapped) -> None:
    """dcm2niix writes the stored slices on a 2.5 mm grid from the first (and an equalised
    copy beside them): its last slice sits at z = 50, dicomio's at 52.5, the file at 52.5."""
    volume, reported = load(gapped, "dcm2niix")
    assert reported.spacing == pytest.approx((2.5, 0.7, 0.9), abs=1e-5)
    np.testing.assert_allclose(reported.slice_origins(5)[:, 2], [40, 42.5, 45, 47.5, 50],
                               atol=1e-4)
    assert reported_displacement(reported, volume.affine, volume.shape) == pytest.approx(
        4 * (MEAN_STEP - 2.5), abs=1e-4)
    warnings = " ".join(volume.provenance.warnings)
    assert "slice grid lies up to 2.5 mm from the files' positions" in warnings
    assert "_Eq_1.nii" in warnings


@installed("vtk")
def test_vtk_on_sagittal_slices_stacks_them_along_z(make_series) -> None:
    """Sagittal slices follow -x (row cosine (0, 1, 0) × column cosine (0, 0, -1)); VTK
    stacks them along +z: its slices do not advance along dicomio's slice axis."""
    truth = make_series(SeriesSpec(shape=(4, 9, 11), orientation=s.SAGITTAL))
    volume = dicomio.load_volume(truth.folder, backend="vtk")
    reported = volume.provenance.reported_geometry
    assert implied_slice_order(reported, volume.affine, 4) == "none"


@installed("sitk")
@installed("vtk")
@installed("dcm2niix")
def test_compare_measures_every_toolkit_on_the_gapped_stack(gapped) -> None:
    report = compare_series(gapped, ["pydicom", "sitk", "vtk", "dcm2niix"],
                            geometry_tolerance=0.01)
    rows = {row.backend: row for row in report.results}
    assert all(row.status == "ok" and row.disagreement is None for row in rows.values())
    assert rows["sitk"].reported_agrees is True
    # pydicom's grid is dicomio's; its per-slice positions reach the comparison whole: the
    # file after the gap is 1.25 mm from dicomio's grid.
    assert rows["pydicom"].reported_diff_mm == pytest.approx(1.25)
    assert rows["vtk"].reported_diff_mm == pytest.approx(math.sqrt(80**2 + 65.6**2 + 42.5**2))
    assert rows["vtk"].reported is not None and rows["vtk"].reported.has_direction is False
    check_schema("compare", report.to_dict())
    written = {row["backend"]: row["reported_geometry"] for row in report.to_dict()["results"]}
    assert {name: written[name]["per_slice_positions"] for name in written} == {
        "pydicom": 5, "sitk": 0, "vtk": 0, "dcm2niix": 5}
    assert written["vtk"]["has_direction"] is False and written["sitk"]["has_direction"] is True
    assert rows["dcm2niix"].reported_diff_mm == pytest.approx(2.5, abs=1e-4)
    assert rows["dcm2niix"].reported_agrees is False
    assert all(rows[name].reported_slice_order == "same" for name in rows)
    assert report.to_dict()["geometry_tolerance_mm"] == 0.01
    assert report.agree  # reported, not failed on, without strict_geometry
