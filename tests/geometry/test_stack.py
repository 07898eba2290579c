"""Geometry in pure NumPy: ordering, spacing from positions, gaps, duplicates, tilt."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dicomio
from dicomio.geometry.stack import (
    GeometryTolerances,
    analyse_stack,
    orientation_label,
    orientation_problem,
    position_problem,
    spacing_problem,
)
from tests.support.file_geometry import unit_normal

AXIAL = (1, 0, 0, 0, 1, 0)
OBLIQUE = (0.866025, 0.5, 0.0, -0.353553, 0.612372, 0.707107)


def positions_along(normal, distances, origin=(10.0, -20.0, 5.0)):
    return np.asarray(origin) + np.outer(distances, normal)


def test_sorted_by_position_along_normal_not_input_order() -> None:
    normal = unit_normal(OBLIQUE)  # the cross product written out in the test support
    distances = np.array([4.0, 0.0, 8.0, 2.0, 6.0])
    geometry = analyse_stack(positions_along(normal, distances), OBLIQUE, (0.5, 0.8))
    assert geometry.order.tolist() == [1, 3, 0, 4, 2]
    assert geometry.regular
    assert geometry.slice_spacing == pytest.approx(2.0)
    # column 0 = normal × spacing, column 1 = column cosine × PS[0], column 2 = row cosine × PS[1]
    np.testing.assert_allclose(geometry.affine[:3, 0], normal * 2.0, atol=1e-9)
    np.testing.assert_allclose(geometry.affine[:3, 1], np.array(OBLIQUE[3:]) * 0.5)
    np.testing.assert_allclose(geometry.affine[:3, 2], np.array(OBLIQUE[:3]) * 0.8)
    np.testing.assert_allclose(geometry.affine[:3, 3], positions_along(normal, [0.0])[0])


def test_spacing_never_comes_from_slice_thickness() -> None:
    geometry = analyse_stack(positions_along((0, 0, 1), [0, 3, 6, 9]), AXIAL, (1, 1),
                             slice_thickness=5.0)
    assert geometry.slice_spacing == pytest.approx(3.0)
    codes = {i.code: i.severity for i in geometry.issues}
    assert codes == {"THICKNESS_SPACING_MISMATCH": "info"}
    assert geometry.regular


def test_missing_slice_names_the_gap() -> None:
    geometry = analyse_stack(positions_along((0, 0, 1), [0, 2, 4, 8, 10]), AXIAL, (1, 1))
    (issue,) = geometry.errors
    assert issue.code == "MISSING_SLICE"
    assert issue.slices == (2, 3)
    assert "gap 4 mm" in issue.message and "1 slice(s) missing" in issue.message
    # accepted: first and last slices exactly placed, the true positions recorded
    np.testing.assert_allclose(geometry.affine[:3, 0], [0, 0, 2.5])
    np.testing.assert_allclose(geometry.positions[:, 2], [5, 7, 9, 13, 15])  # origin z = 5


def test_irregular_spacing() -> None:
    geometry = analyse_stack(positions_along((0, 0, 1), [0, 1.08, 5.08, 9.08, 16.08]),
                             AXIAL, (1, 1))
    assert [i.code for i in geometry.errors] == ["IRREGULAR_SPACING"]
    assert "slices 0 and 1" in geometry.errors[0].message


def test_duplicate_positions() -> None:
    geometry = analyse_stack(positions_along((0, 0, 1), [0, 2, 2, 4]), AXIAL, (1, 1))
    assert [i.code for i in geometry.errors] == ["DUPLICATE_POSITION"]
    assert geometry.errors[0].slices == (1, 2)


def test_gantry_tilt_detected_and_sheared_affine_places_every_slice() -> None:
    tilt = math.radians(15)
    steps = np.arange(6)[:, None] * (np.array([0, 0, 2.0]) + np.array([0, math.tan(tilt) * 2, 0]))
    points = np.array([1.0, 2.0, 3.0]) + steps
    geometry = analyse_stack(points, AXIAL, (0.5, 0.5))
    assert [i.code for i in geometry.errors] == ["GANTRY_TILT"]
    assert "15.00 degrees" in geometry.errors[0].message
    for k in range(6):
        np.testing.assert_allclose(geometry.affine @ [k, 0, 0, 1], [*points[k], 1], atol=1e-9)


def test_tiny_position_noise_is_not_tilt() -> None:
    rng = np.random.default_rng(0)
    points = positions_along((0, 0, 1), np.arange(50) * 1.25)
    points += rng.normal(0, 0.0005, points.shape)
    assert analyse_stack(points, AXIAL, (0.7, 0.7)).regular


def test_single_slice_uses_thickness_and_says_so() -> None:
    geometry = analyse_stack([[0, 0, 0]], AXIAL, (1, 1), slice_thickness=3.0)
    assert geometry.slice_spacing == 3.0
    assert geometry.issues[0].code == "SINGLE_SLICE" and geometry.regular


def test_tolerances_are_configurable() -> None:
    points = positions_along((0, 0, 1), [0, 2, 4.1, 6.1])
    assert not analyse_stack(points, AXIAL, (1, 1)).regular
    loose = GeometryTolerances(spacing_relative=0.1)
    assert analyse_stack(points, AXIAL, (1, 1), tolerances=loose).regular


@pytest.mark.parametrize(("orientation", "problem"), [
    (None, "missing"),
    ((1, 0, 0, 0, 1), "5 values"),
    ((1, 0, 0, 0, float("nan"), 0), "not finite"),
    ((1, 0, 0, 0.5, 0.866, 0), "not orthogonal"),
    ((2, 0, 0, 0, 1, 0), "not unit"),
])
def test_orientation_problems(orientation, problem) -> None:
    assert problem in orientation_problem(orientation)


def test_orientation_labels() -> None:
    assert orientation_label(AXIAL) == "AXIAL"
    assert orientation_label((1, 0, 0, 0, 0, -1)) == "CORONAL"
    assert orientation_label((0, 1, 0, 0, 0, -1)) == "SAGITTAL"
    assert orientation_label(OBLIQUE) == "OBLIQUE"


@pytest.mark.parametrize("position", [(0.0, 0.0, 1.5e308), (-2e6, 0.0, 0.0), (0.0, 1e300, 0.0)])
def test_a_position_far_outside_any_patient_is_invalid(position) -> None:
    problem = position_problem(position)
    assert problem is not None and "beyond 1e+06 mm" in problem
    assert position_problem((-999_999.0, 0.0, 250.0)) is None
    assert spacing_problem((0.5, 1e308)) is not None and spacing_problem((0.5, 0.7)) is None


def test_gaps_too_wide_for_a_float_ratio_are_irregular_not_an_overflow() -> None:
    """1e308 / 0.5 overflows: the gap is still reported, never an OverflowError."""
    geometry = analyse_stack([(0, 0, 0), (0, 0, 0.5), (0, 0, 1.0), (0, 0, 1e308)], AXIAL,
                             (1.0, 1.0))
    assert [i.code for i in geometry.errors] == ["IRREGULAR_SPACING"]
    assert geometry.errors[0].slices == (2, 3)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.1, 5.0, True])
def test_tolerances_that_would_switch_a_check_off_are_refused(value) -> None:
    """A NaN orientation tolerance let a 45-degree shear through: every threshold must be a
    finite number in its range, given in code as in a configuration file."""
    with pytest.raises(dicomio.ConfigError, match="orientation"):
        dicomio.GeometryTolerances(orientation=value)
    assert dicomio.GeometryTolerances(orientation=0.05).orientation == 0.05
