"""Slice geometry, in pure NumPy: normals, ordering, spacing, gaps, duplicates and tilt.

The contract (see ``docs/contract.md``): slices are ordered by ascending ``IPP · n`` where
``n = row cosine × column cosine``; spacing comes from the positions, never from
SliceThickness; the affine maps an index ``(k, j, i, 1)`` to LPS millimetres at the voxel
centre, with columns ``(n·Δ, column cosine·ΔPS[0], row cosine·PS[1], IPP of slice 0)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.errors import ConfigError
from dicomio.geometry.conventions import FloatArray, affine_from, slice_normal

__all__ = [
    "MAX_COORDINATE_MM",
    "GeometryIssue",
    "GeometryTolerances",
    "StackGeometry",
    "analyse_stack",
    "median",
    "orientation_label",
    "orientation_problem",
    "position_problem",
    "spacing_problem",
]

Severity = Literal["error", "warning", "info"]

#: Largest coordinate of a position, and largest pixel spacing, that can describe an image of
#: a patient (a kilometre): beyond it a value is invalid, as a non-finite one is. Arithmetic on
#: such values (1.5e308) overflows.
MAX_COORDINATE_MM = 1e6


@dataclass(frozen=True)
class GeometryIssue:
    """One geometric finding about a stack of slices.

    Attributes
    ----------
    code
        A stable code: ``MISSING_SLICE``, ``IRREGULAR_SPACING``, ``DUPLICATE_POSITION``,
        ``GANTRY_TILT``, ``THICKNESS_SPACING_MISMATCH``, ``MISSING_GEOMETRY``.
    message
        What was found, with the slices and distances involved.
    slices
        Indices, in sorted order, of the slices concerned.
    severity
        ``"error"`` issues make the stack irregular: loading it raises unless accepted.
    """

    code: str
    message: str
    slices: tuple[int, ...] = ()
    severity: Severity = "error"


#: The accepted range of each threshold of :class:`GeometryTolerances`: a NaN or an infinite
#: one would switch its check off (``orientation = nan`` lets a sheared stack pass).
TOLERANCE_RANGES: dict[str, tuple[float, float]] = {
    "spacing_relative": (0.0, 0.5),
    "spacing_absolute": (0.0, 1.0),
    "duplicate": (0.0, 1.0),
    "tilt_fraction": (0.0, 10.0),
    "thickness_relative": (0.0, 10.0),
    "orientation": (0.0, 0.1),
}


@dataclass(frozen=True)
class GeometryTolerances:
    """Thresholds of the geometry checks.

    Each must be finite and within :data:`TOLERANCE_RANGES` (else :class:`ConfigError`).

    Attributes
    ----------
    spacing_relative, spacing_absolute
        Two gaps are equal when they differ by less than
        ``max(spacing_absolute, spacing_relative * nominal spacing)`` (mm).
    duplicate
        Slices closer than this along the normal (mm) share one position.
    tilt_fraction
        Gantry tilt is reported when the positions drift in-plane, over the stack, by more than
        this fraction of the in-plane pixel spacing.
    thickness_relative
        SliceThickness may differ from the spacing by this fraction before it is reported.
    orientation
        Largest accepted error on unit length and orthogonality of the direction cosines.
    """

    spacing_relative: float = 0.01
    spacing_absolute: float = 0.01
    duplicate: float = 0.001
    tilt_fraction: float = 0.1
    thickness_relative: float = 0.01
    orientation: float = 1e-3

    def __post_init__(self) -> None:
        for name, (low, high) in TOLERANCE_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or not low <= value <= high:
                raise ConfigError(f"GeometryTolerances.{name} must be a finite number from "
                                  f"{low:g} to {high:g}, not {value!r}")


@dataclass(frozen=True)
class StackGeometry:
    """Where each slice of a stack lies, and what is irregular about it.

    Attributes
    ----------
    affine
        4×4 index ``(k, j, i)`` → LPS mm.
    order
        Permutation sorting the input slices by position along the normal.
    positions
        ImagePositionPatient of each slice, in sorted order, shape (n, 3).
    slice_spacing
        The nominal spacing along the normal (median gap; mean when irregular).
    issues
        Every finding, errors first.
    """

    affine: FloatArray
    order: NDArray[np.intp]
    positions: FloatArray
    slice_spacing: float
    issues: tuple[GeometryIssue, ...] = field(default=())

    @property
    def errors(self) -> tuple[GeometryIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def regular(self) -> bool:
        """No error issue: the slices form a regular grid."""
        return not self.errors


def median(values: NDArray[np.floating]) -> float:
    """The median of a non-empty 1-D array, as :func:`numpy.median` gives it.

    ``numpy.median`` imports ``numpy.ma`` at its first call (about 60 ms): more than a whole
    uncompressed slice read, paid by every fresh process that sorts a stack.
    """
    ordered = np.sort(values)
    n = ordered.size
    return float((ordered[(n - 1) // 2] + ordered[n // 2]) / 2)


def orientation_problem(orientation: Sequence[float] | None, tolerance: float = 1e-3) -> str | None:
    """Describe what is wrong with an ImageOrientationPatient value, or return None."""
    if orientation is None:
        return "ImageOrientationPatient is missing"
    if len(orientation) != 6:
        return f"ImageOrientationPatient has {len(orientation)} values instead of 6"
    iop = np.asarray(orientation, dtype=np.float64)
    if not np.all(np.isfinite(iop)):
        return f"ImageOrientationPatient is not finite: {list(orientation)}"
    row, col = iop[:3], iop[3:]
    if abs(np.linalg.norm(row) - 1) > tolerance or abs(np.linalg.norm(col) - 1) > tolerance:
        return f"ImageOrientationPatient cosines are not unit vectors: {list(orientation)}"
    if abs(float(row @ col)) > tolerance:
        return (f"ImageOrientationPatient cosines are not orthogonal "
                f"(dot product {float(row @ col):.3g}): {list(orientation)}")
    return None


def position_problem(position: Sequence[float] | None) -> str | None:
    """Describe what is wrong with an ImagePositionPatient value, or return None."""
    if position is None:
        return "ImagePositionPatient is missing"
    if len(position) != 3:
        return f"ImagePositionPatient has {len(position)} values instead of 3"
    if not all(math.isfinite(v) for v in position):
        return f"ImagePositionPatient is not finite: {list(position)}"
    if any(abs(v) > MAX_COORDINATE_MM for v in position):
        return (f"ImagePositionPatient is {list(position)}: beyond {MAX_COORDINATE_MM:g} mm, "
                f"far outside any patient")
    return None


def spacing_problem(pixel_spacing: Sequence[float] | None) -> str | None:
    """Describe what is wrong with a PixelSpacing value, or return None."""
    if pixel_spacing is None:
        return "PixelSpacing is missing"
    if len(pixel_spacing) != 2:
        return f"PixelSpacing has {len(pixel_spacing)} values instead of 2"
    if not all(math.isfinite(v) and v > 0 for v in pixel_spacing):
        return f"PixelSpacing is not positive and finite: {list(pixel_spacing)}"
    if any(v > MAX_COORDINATE_MM for v in pixel_spacing):
        return f"PixelSpacing is {list(pixel_spacing)}: beyond {MAX_COORDINATE_MM:g} mm"
    return None


def analyse_stack(
    positions: Sequence[Sequence[float]] | FloatArray,
    orientation: Sequence[float],
    pixel_spacing: Sequence[float],
    *,
    slice_thickness: float | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
) -> StackGeometry:
    """Sort a stack of slices and check that they form a regular grid.

    Parameters
    ----------
    positions
        ImagePositionPatient of each slice, in any order, shape (n, 3).
    orientation, pixel_spacing
        Shared by every slice of the stack (grouping guarantees it).
    slice_thickness
        SliceThickness, only to report when it disagrees with the spacing.
    tolerances
        Thresholds of the checks.

    Returns
    -------
    StackGeometry
        The order, the affine and every issue found. With error issues the affine uses the
        mean step from the first to the last slice, so the first and last slices are placed
        exactly; ``positions`` holds where each slice really is.
    """
    points = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    normal = slice_normal(orientation)
    distance = points @ normal
    order = np.argsort(distance, kind="stable")
    points, distance = points[order], distance[order]
    n = len(points)
    issues: list[GeometryIssue] = []

    if n == 1:
        spacing = slice_thickness if slice_thickness and slice_thickness > 0 else 1.0
        issues.append(GeometryIssue(
            "SINGLE_SLICE",
            f"a single slice: its spacing along the normal is taken as {spacing:g} mm "
            f"({'SliceThickness' if slice_thickness else 'no SliceThickness, so 1 mm'})",
            (0,), "info"))
        affine = affine_from(orientation, pixel_spacing, points[0], normal * spacing)
        return StackGeometry(affine, order, points, spacing, tuple(issues))

    gaps = np.diff(distance)
    duplicate = gaps < tolerances.duplicate
    distinct = gaps[~duplicate]
    nominal = median(distinct) if distinct.size else 0.0
    tolerance = max(tolerances.spacing_absolute, tolerances.spacing_relative * nominal)

    if duplicate.any():
        where = np.flatnonzero(duplicate)
        pairs = ", ".join(f"{k}/{k + 1} at {distance[k]:.3f} mm" for k in where[:6])
        more = f" and {len(where) - 6} more" if len(where) > 6 else ""
        issues.append(GeometryIssue(
            "DUPLICATE_POSITION",
            f"{len(where)} pair(s) of slices share a position along the normal "
            f"({pairs}{more}): several acquisitions or time points in one stack",
            tuple(int(i) for k in where for i in (k, k + 1))))

    if distinct.size:
        _check_gaps(gaps, duplicate, distance, nominal, tolerance, issues)

    # The grid steps between distinct positions: images repeating a position (the volumes of
    # a 4-D series) are not steps of it.
    steps = max(int(np.count_nonzero(~duplicate)), 1)
    step = (points[-1] - points[0]) / steps
    along = float(step @ normal)
    in_plane = points - points[0] - np.outer(distance - distance[0], normal)
    drift = float(np.max(np.linalg.norm(in_plane, axis=1)))
    if drift > tolerances.tilt_fraction * min(pixel_spacing) and along > 0:
        shear = step - along * normal
        angle = math.degrees(math.atan2(float(np.linalg.norm(shear)), along))
        issues.append(GeometryIssue(
            "GANTRY_TILT",
            f"slice positions drift {drift:.2f} mm in-plane over the stack: the slices are "
            f"sheared by {angle:.2f} degrees (gantry tilt)",
            tuple(range(n))))

    if slice_thickness and nominal > 0 and \
            abs(slice_thickness - nominal) > tolerances.thickness_relative * nominal:
        issues.append(GeometryIssue(
            "THICKNESS_SPACING_MISMATCH",
            f"SliceThickness is {slice_thickness:g} mm but the slices are {nominal:.4g} mm "
            f"apart (dicomio uses the spacing from positions)",
            (), "info"))

    errors = [i for i in issues if i.severity == "error"]
    if errors:
        spacing = along if along > 0 else nominal
        slice_step = step if along > 0 else normal * nominal
    else:
        spacing = nominal
        slice_step = normal * nominal
    issues.sort(key=lambda i: ("error", "warning", "info").index(i.severity))
    affine = affine_from(orientation, pixel_spacing, points[0], slice_step)
    return StackGeometry(affine, order, points, float(spacing), tuple(issues))


def _check_gaps(
    gaps: FloatArray,
    duplicate: NDArray[np.bool_],
    distance: FloatArray,
    nominal: float,
    tolerance: float,
    issues: list[GeometryIssue],
) -> None:
    missing: list[str] = []
    missing_slices: list[int] = []
    irregular: list[str] = []
    irregular_slices: list[int] = []
    for k, gap in enumerate(gaps):
        if duplicate[k] or abs(gap - nominal) <= tolerance:
            continue
        ratio = float(gap) / nominal
        # Positions checked by position_problem keep it finite; a caller's own may not.
        multiple = round(ratio) if math.isfinite(ratio) else 0
        text = f"slices {k} and {k + 1} ({distance[k]:.3f} → {distance[k + 1]:.3f} mm): " \
               f"gap {gap:.4g} mm"
        if multiple >= 2 and abs(gap - multiple * nominal) <= tolerance * multiple:
            missing.append(f"{text}, {multiple - 1} slice(s) missing")
            missing_slices += [k, k + 1]
        else:
            irregular.append(text)
            irregular_slices += [k, k + 1]
    if missing:
        issues.append(GeometryIssue(
            "MISSING_SLICE",
            f"slice spacing is {nominal:.4g} mm but {len(missing)} gap(s) are wider: "
            + "; ".join(missing[:6]) + ("; ..." if len(missing) > 6 else ""),
            tuple(missing_slices)))
    if irregular:
        issues.append(GeometryIssue(
            "IRREGULAR_SPACING",
            f"slice spacing is irregular (median {nominal:.4g} mm): "
            + "; ".join(irregular[:6]) + ("; ..." if len(irregular) > 6 else ""),
            tuple(irregular_slices)))


def orientation_label(orientation: Sequence[float] | None, tolerance: float = 0.05) -> str:
    """Name the plane of an ImageOrientationPatient: AXIAL, CORONAL, SAGITTAL or OBLIQUE."""
    if orientation is None or orientation_problem(orientation) is not None:
        return "UNKNOWN"
    normal = np.abs(slice_normal(orientation))
    axis = int(np.argmax(normal))
    if normal[axis] < 1 - tolerance:
        return "OBLIQUE"
    return ("SAGITTAL", "CORONAL", "AXIAL")[axis]
