"""What a comparison measured: one row per backend, and the numbers behind them.

:class:`Comparison` is the report of :func:`dicomio.compare.side_by_side.compare_series`; its
rows are :class:`BackendResult`. The differences are computed here: voxel by voxel
(:func:`voxel_difference`, slice by slice so memory-mapped arrays stay cheap), voxel centre by
voxel centre (:func:`affine_displacement`), and between the geometry a toolkit itself reports
and dicomio's affine (:func:`reported_displacement`, slice by slice when the toolkit placed each
slice itself, and :func:`implied_slice_order`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import ReportedGeometry
from dicomio.series.info import SeriesInfo
from dicomio.series.summary import SCHEMA_VERSION, describe_series

__all__ = [
    "GEOMETRY_TOLERANCE_MM",
    "BackendResult",
    "Comparison",
    "SliceOrder",
    "Status",
    "VolumeDifference",
    "affine_displacement",
    "diff_against",
    "implied_slice_order",
    "reported_displacement",
    "voxel_difference",
]

Status = Literal["ok", "failed", "unsupported", "not installed"]
#: How a toolkit's slices run along dicomio's slice axis: ``"same"`` (slice k + 1 further along
#: it than slice k, as in dicomio), ``"reversed"``, ``"mixed"`` (back and forth) or ``"none"``
#: (they do not advance along it: the toolkit stacks them along another axis).
SliceOrder = Literal["same", "reversed", "mixed", "none"]


#: Two geometries agree when no voxel centre moves further than this (mm).
GEOMETRY_TOLERANCE_MM = 1e-4


@dataclass(frozen=True)
class VolumeDifference:
    """One volume of a 4-D series against the same volume of the reference: its index (from
    0), the largest absolute difference and the number of differing voxels."""

    volume: int
    max_abs_diff: float
    differing_voxels: int

    def to_dict(self) -> dict[str, Any]:
        return {"volume": self.volume, "max_abs_diff": _finite(self.max_abs_diff),
                "differing_voxels": self.differing_voxels}


@dataclass
class BackendResult:
    """One row of a comparison: what one backend did with the series.

    Attributes
    ----------
    backend, version
        The backend's name and its toolkit's version.
    status
        ``"ok"``, ``"failed"`` (an error, a crash or a timeout: see ``reason``),
        ``"unsupported"`` (installed but cannot read this series) or ``"not installed"``.
    reason
        Why it did not succeed (with the last lines the process printed, for a crash).
    seconds
        Wall time of :func:`dicomio.load_volume` inside the backend's process (toolkit import
        included, interpreter start-up excluded).
    dtype, shape, decoders, warnings
        What the backend returned.
    affine
        dicomio's affine for the volume (the same for every backend, by the contract).
    reported
        The geometry the toolkit itself reports, when it reports one.
    max_abs_diff, differing_voxels
        Against the reference backend (``None`` when the shapes differ or it did not run).
    volumes, volume_differences
        Of a 4-D series: how many volumes the backend read (None for one volume), and each
        volume against the reference's (empty when not compared).
    affine_diff_mm
        Largest distance a voxel centre moves between this affine and the reference's.
    reported_diff_mm
        Largest distance a voxel centre moves between the toolkit's geometry and dicomio's.
    reported_slice_order
        The slice order the toolkit's geometry implies against dicomio's (``None`` for a single
        slice or no reported geometry).
    geometry_tolerance_mm
        Largest ``reported_diff_mm`` still counted as the same geometry.
    disagreement
        Why this row disagrees with the reference, or ``None``.
    """

    backend: str
    status: Status
    reason: str | None = None
    version: str | None = None
    seconds: float | None = None
    dtype: str | None = None
    shape: tuple[int, ...] | None = None
    decoders: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    affine: NDArray[np.float64] | None = None
    reported: ReportedGeometry | None = None
    max_abs_diff: float | None = None
    differing_voxels: int | None = None
    volumes: int | None = None
    volume_differences: tuple[VolumeDifference, ...] = ()
    affine_diff_mm: float | None = None
    reported_diff_mm: float | None = None
    reported_slice_order: SliceOrder | None = None
    geometry_tolerance_mm: float = GEOMETRY_TOLERANCE_MM
    disagreement: str | None = None
    array_file: Path | None = field(default=None, repr=False)

    @property
    def ran(self) -> bool:
        """The backend was started (it succeeded or failed, as opposed to being skipped)."""
        return self.status in ("ok", "failed")

    @property
    def differing_volumes(self) -> list[VolumeDifference]:
        """The volumes of a 4-D series that differ from the reference's."""
        return [v for v in self.volume_differences if v.differing_voxels]

    @property
    def reported_agrees(self) -> bool | None:
        """The toolkit's own geometry matches dicomio's (None when it reports none)."""
        if self.reported_diff_mm is None:
            return None
        return self.reported_diff_mm <= self.geometry_tolerance_mm

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (schema ``dicomio/schemas/compare.schema.json``)."""
        reported = None
        if self.reported is not None:
            reported = {
                "origin": [float(v) for v in self.reported.origin],
                "spacing": [float(v) for v in self.reported.spacing],
                "direction": [[float(v) for v in row] for row in self.reported.direction],
                "max_displacement_mm": _finite(self.reported_diff_mm),
                "agrees": self.reported_agrees,
                "slice_order": self.reported_slice_order,
                "has_direction": self.reported.has_direction,
                "per_slice_positions": len(self.reported.positions),
                "source": self.reported.source,
            }
        return {
            "backend": self.backend,
            "status": self.status,
            "reason": self.reason,
            "version": self.version,
            "seconds": None if self.seconds is None else round(self.seconds, 4),
            "dtype": self.dtype,
            "shape": None if self.shape is None else list(self.shape),
            "decoders": list(self.decoders),
            "warnings": list(self.warnings),
            "max_abs_diff": _finite(self.max_abs_diff),
            "differing_voxels": self.differing_voxels,
            "volumes": None if self.volumes is None else {
                "count": self.volumes,
                "compared": [v.to_dict() for v in self.volume_differences]},
            "affine_diff_mm": _finite(self.affine_diff_mm),
            "reported_geometry": reported,
            "agrees": None if self.status != "ok" else self.disagreement is None,
            "disagreement": self.disagreement,
        }


@dataclass
class Comparison:
    """The result of :func:`compare_series`.

    ``reference`` is the backend the others were compared with (the requested one when it
    succeeded, else the first that did; ``None`` when none did).
    """

    series: SeriesInfo
    results: list[BackendResult]
    reference: str | None
    tolerance: float = 0.0
    rescale: bool = True
    strict_geometry: bool = False
    geometry_tolerance: float = GEOMETRY_TOLERANCE_MM

    @property
    def ran(self) -> list[BackendResult]:
        return [r for r in self.results if r.ran]

    @property
    def agree(self) -> bool:
        """Every backend that ran succeeded, and all agree with the reference.

        With ``strict_geometry`` the geometry each toolkit reports must match dicomio's too.
        """
        ok = [r for r in self.results if r.status == "ok"]
        if not ok or any(r.status == "failed" for r in self.results):
            return False
        if any(r.disagreement is not None for r in ok):
            return False
        return not (self.strict_geometry and any(r.reported_agrees is False for r in ok))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: the ``dicomio compare --format json`` output."""
        return {
            "schema": f"dicomio.compare/{SCHEMA_VERSION}",
            "series": describe_series(self.series),
            "reference": self.reference,
            "rescale": self.rescale,
            "tolerance": self.tolerance,
            "geometry_tolerance_mm": self.geometry_tolerance,
            "strict_geometry": self.strict_geometry,
            "agree": self.agree,
            "results": [r.to_dict() for r in self.results],
        }


def _finite(value: float | None) -> float | None:
    """JSON has no infinity or NaN: those become null (the row's ``disagreement`` says why)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def voxel_difference(a: NDArray[Any], b: NDArray[Any]) -> tuple[float, int]:
    """Largest absolute difference and number of differing voxels of two same-shape arrays.

    Computed slice by slice (the arrays may be memory-mapped), in int64 for integer arrays and
    float64 otherwise. NaN equals NaN; NaN against a number is an infinite difference.
    """
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    integer = a.dtype.kind in "iub" and b.dtype.kind in "iub"
    work = np.int64 if integer else np.float64
    largest, count = 0.0, 0
    for k in range(a.shape[0] if a.ndim else 1):
        x = np.asarray(a[k] if a.ndim else a, dtype=work)
        y = np.asarray(b[k] if b.ndim else b, dtype=work)
        diff = np.abs(x - y)
        if not integer:
            both_nan = np.isnan(x) & np.isnan(y)
            diff[both_nan] = 0
            diff[np.isnan(diff)] = np.inf
        differing = diff != 0
        count += int(np.count_nonzero(differing))
        if differing.any():
            largest = max(largest, float(diff.max()))
    return largest, count


def affine_displacement(
    first: NDArray[np.float64], second: NDArray[np.float64], shape: Sequence[int]
) -> float:
    """Largest distance (mm) between where two affines put the same voxel centre.

    The difference of two affine maps is affine, so over the index box of ``shape`` its largest
    norm is reached at a corner: the eight corners are checked.
    """
    delta = np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)
    extent = [max(int(n) - 1, 0) for n in shape[:3]]
    corners = np.array([[k, j, i, 1.0] for k in (0, extent[0]) for j in (0, extent[1])
                        for i in (0, extent[2])])
    return float(np.max(np.linalg.norm(corners @ delta[:3].T, axis=1)))


def reported_displacement(
    reported: ReportedGeometry, affine: NDArray[np.float64], shape: Sequence[int]
) -> float:
    """Largest distance (mm) between where a toolkit puts a voxel centre and where ``affine``
    (dicomio's) does, over a volume of spatial ``shape`` (slices, rows, columns).

    When the toolkit placed each slice itself (``reported.positions``), each slice is checked
    at its four corners from its own position; otherwise the toolkit's grid is an affine and
    :func:`affine_displacement` applies.
    """
    n, rows, columns = (int(v) for v in shape[:3])
    if len(reported.positions) != n:
        return affine_displacement(reported.affine(), affine, shape)
    theirs_plane = reported.affine()[:3, 1:3]
    ours = np.asarray(affine, dtype=np.float64)
    corners = np.array([[j, i] for j in (0, max(rows - 1, 0)) for i in (0, max(columns - 1, 0))],
                       dtype=np.float64)
    slices = np.arange(n, dtype=np.float64)
    theirs = reported.slice_origins(n)[:, None, :] + (corners @ theirs_plane.T)[None]
    mine = (slices[:, None, None] * ours[:3, 0] + (corners @ ours[:3, 1:3].T)[None]
            + ours[:3, 3])
    return float(np.max(np.linalg.norm(theirs - mine, axis=2)))


def implied_slice_order(
    reported: ReportedGeometry, affine: NDArray[np.float64], n_slices: int
) -> SliceOrder | None:
    """How the toolkit's slices run along dicomio's slice axis (column 0 of ``affine``): the
    toolkit's slice origins (its per-slice positions, else its grid), projected on that axis,
    step by step. None for a single slice."""
    if n_slices < 2:
        return None
    axis = np.asarray(affine, dtype=np.float64)[:3, 0]
    length = float(np.linalg.norm(axis))
    if length == 0:
        return None
    steps = np.diff(reported.slice_origins(n_slices) @ (axis / length))
    # A step shorter than this (mm) does not advance along the axis.
    still = 1e-3
    if np.all(steps > still):
        return "same"
    if np.all(steps < -still):
        return "reversed"
    if np.all(np.abs(steps) <= still):
        return "none"
    return "mixed"


def volume_differences(a: NDArray[Any], b: NDArray[Any]) -> tuple[VolumeDifference, ...]:
    """Each volume of two same-shape 4-D arrays (volumes first) against the other's, as
    :func:`voxel_difference` measures it."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return tuple(VolumeDifference(t, *voxel_difference(a[t], b[t])) for t in range(len(a)))


def _volume_list(volumes: Sequence[VolumeDifference], count: int | None) -> str:
    """``in volumes 1, 4 of 10`` (the first few, then how many more)."""
    shown = ", ".join(str(v.volume) for v in volumes[:8])
    more = f" and {len(volumes) - 8} more" if len(volumes) > 8 else ""
    return f"in volume(s) {shown}{more} of {count}"


def diff_against(row: BackendResult, reference: BackendResult, tolerance: float,
                 spatial: Sequence[int] | None = None) -> None:
    """Fill the difference columns of ``row`` against ``reference`` (both succeeded); a 4-D
    series volume by volume too. ``spatial`` is the (slices, rows, columns) of one volume
    (default: the first three axes of the row's shape)."""
    assert row.shape is not None and row.affine is not None and reference.affine is not None
    assert row.array_file is not None and reference.array_file is not None
    problems = []
    row.affine_diff_mm = affine_displacement(row.affine, reference.affine,
                                             row.shape if spatial is None else spatial)
    if row.affine_diff_mm > GEOMETRY_TOLERANCE_MM:
        problems.append(f"affine differs by {row.affine_diff_mm:.3g} mm")
    if row.shape != reference.shape:
        problems.insert(0, f"shape {list(row.shape)} vs {list(reference.shape or ())}")
    else:
        mine = np.load(row.array_file, mmap_mode="r")
        theirs = np.load(reference.array_file, mmap_mode="r")
        if row.volumes is not None and reference.volumes is not None:
            row.volume_differences = volume_differences(mine, theirs)
            row.max_abs_diff = max((v.max_abs_diff for v in row.volume_differences),
                                   default=0.0)
            row.differing_voxels = sum(v.differing_voxels for v in row.volume_differences)
        else:
            row.max_abs_diff, row.differing_voxels = voxel_difference(mine, theirs)
        if row.max_abs_diff > tolerance:
            where = "" if not row.volume_differences else (
                " " + _volume_list(row.differing_volumes, row.volumes))
            problems.append(f"{row.differing_voxels} voxel(s) differ{where}, by up to "
                            f"{row.max_abs_diff:g}")
    if row.dtype != reference.dtype:
        problems.insert(0, f"dtype {row.dtype} vs {reference.dtype}")
    if problems:
        row.disagreement = "; ".join(problems) + f" (against {reference.backend})"
