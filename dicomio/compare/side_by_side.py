"""Read one series with several backends, each in its own process, and compare the results.

Each backend runs in a fresh Python process (:mod:`dicomio.compare.worker`) with a timeout, so a
toolkit that crashes (a segfault, an abort) or hangs becomes a failed row of the report, never a
dead command. The child writes its array to a ``.npy`` file and a small JSON result;
the parent compares the arrays slice by slice (memory-mapped) against the reference backend.

Per backend the report gives: status, wall time, dtype, shape, the largest absolute difference
and the number of differing voxels against the reference, how far dicomio's affine moves any
voxel centre against the reference's, and the geometry the toolkit itself reports (SimpleITK's
origin/spacing/direction, ...) against dicomio's.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.registry import BackendSpec, ReportedGeometry, backend_specs, get_spec
from dicomio.compare.worker import Request
from dicomio.series.info import SeriesInfo
from dicomio.series.summary import SCHEMA_VERSION, describe_series

__all__ = [
    "DEFAULT_TIMEOUT",
    "GEOMETRY_TOLERANCE_MM",
    "BackendResult",
    "Comparison",
    "affine_displacement",
    "compare_series",
    "default_backends",
    "run_backend",
    "voxel_difference",
]

Status = Literal["ok", "failed", "unsupported", "not installed"]

#: Seconds a backend may take (interpreter start-up included) before it is stopped.
DEFAULT_TIMEOUT = 300.0
#: Two geometries agree when no voxel centre moves further than this (mm).
GEOMETRY_TOLERANCE_MM = 1e-4
_WORKER = "import sys; from dicomio.compare.worker import main; main(sys.argv[1])"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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
    affine_diff_mm
        Largest distance a voxel centre moves between this affine and the reference's.
    reported_diff_mm
        Largest distance a voxel centre moves between the toolkit's geometry and dicomio's.
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
    affine_diff_mm: float | None = None
    reported_diff_mm: float | None = None
    disagreement: str | None = None
    array_file: Path | None = field(default=None, repr=False)

    @property
    def ran(self) -> bool:
        """The backend was started (it succeeded or failed, as opposed to being skipped)."""
        return self.status in ("ok", "failed")

    @property
    def reported_agrees(self) -> bool | None:
        """The toolkit's own geometry matches dicomio's (None when it reports none)."""
        if self.reported_diff_mm is None:
            return None
        return self.reported_diff_mm <= GEOMETRY_TOLERANCE_MM

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
            "geometry_tolerance_mm": GEOMETRY_TOLERANCE_MM,
            "strict_geometry": self.strict_geometry,
            "agree": self.agree,
            "results": [r.to_dict() for r in self.results],
        }


def _finite(value: float | None) -> float | None:
    """JSON has no infinity or NaN: those become null (the row's ``disagreement`` says why)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


# --- the numbers ---------------------------------------------------------------------------------

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


# --- running one backend in its own process ------------------------------------------------------

def _portable(spec: BackendSpec) -> BackendSpec | None:
    """The spec if it can be pickled into the child (its callables must be importable)."""
    try:
        pickle.dumps(spec)
    except (pickle.PicklingError, AttributeError, TypeError):
        return None
    return spec


def _child_environment() -> dict[str, str]:
    """The parent's environment, with its import path (a source tree, a test folder)."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return environment


def _log_tail(folder: Path, lines: int = 12) -> str:
    try:
        text = (folder / "output.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.rstrip() for line in _ANSI.sub("", text).splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"crashed: killed by {name}"
    return f"crashed: the process exited with code {code} without a result"


def run_backend(
    series: SeriesInfo,
    backend: str,
    folder: str | os.PathLike[str],
    *,
    rescale: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> BackendResult:
    """Load ``series`` with one backend in a fresh process; never raises for what it does.

    Parameters
    ----------
    series
        The series to read.
    backend
        A registered backend name.
    folder
        An empty folder for this run: the array (``array.npy``), the result and the process'
        output are left there.
    rescale
        As in :func:`dicomio.load_volume`.
    timeout
        Seconds before the process is stopped and the row marked failed.

    Returns
    -------
    BackendResult
        Status ``"ok"`` with ``array_file`` set, or ``"failed"``, ``"unsupported"``,
        ``"not installed"`` with the reason.
    """
    spec = get_spec(backend)
    row = BackendResult(backend=backend, status="ok", version=spec.version())
    if not spec.installed():
        row.status, row.reason = "not installed", spec.install_hint()
        return row
    unable = spec.cannot_read(series)
    if unable is not None:
        row.status, row.reason = "unsupported", unable
        return row

    workdir = Path(folder)
    request = Request(series, backend, _portable(spec), rescale)
    (workdir / "request.pickle").write_bytes(pickle.dumps(request))
    with open(workdir / "output.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(workdir)], stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, env=_child_environment())
        try:
            process.wait(timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:  # a timeout, or Ctrl-C while waiting: never leave the toolkit running
            if process.poll() is None:
                process.kill()
                process.wait()
    result_file = workdir / "result.json"
    if timed_out:
        row.status, row.reason = "failed", f"timed out after {timeout:g} s (process stopped)"
    elif not result_file.exists():
        row.status, row.reason = "failed", _exit_description(process.returncode)
    else:
        _fill(row, json.loads(result_file.read_text(encoding="utf-8")), workdir)
    if row.status == "failed" and (timed_out or not result_file.exists()):
        tail = _log_tail(workdir)
        if tail:
            row.reason = f"{row.reason}; last output:\n{tail}"
    return row


def _fill(row: BackendResult, result: dict[str, Any], folder: Path) -> None:
    row.status = result["status"]
    if row.status != "ok":
        row.reason = result["reason"]
        return
    row.seconds = result["seconds"]
    row.dtype = result["dtype"]
    row.shape = tuple(result["shape"])
    row.decoders = tuple(result["decoders"])
    row.warnings = tuple(result["warnings"])
    row.affine = np.asarray(result["affine"], dtype=np.float64)
    if result["reported"] is not None:
        reported = result["reported"]
        row.reported = ReportedGeometry(
            tuple(reported["origin"]), tuple(reported["spacing"]),
            tuple(tuple(r) for r in reported["direction"]))
        row.reported_diff_mm = affine_displacement(row.reported.affine(), row.affine,
                                                   row.shape)
    row.array_file = folder / "array.npy"


# --- the comparison ------------------------------------------------------------------------------

def default_backends() -> list[str]:
    """Every backend registered now, ``auto``'s order first."""
    return [spec.name for spec in backend_specs()]


def compare_series(
    series: SeriesInfo,
    backends: Sequence[str] | None = None,
    *,
    reference: str | None = "pydicom",
    rescale: bool = True,
    tolerance: float = 0.0,
    timeout: float = DEFAULT_TIMEOUT,
    strict_geometry: bool = False,
    on_backend: Callable[[str], None] | None = None,
) -> Comparison:
    """Read ``series`` with each backend (one process each) and compare them.

    Parameters
    ----------
    series
        The series, from :func:`dicomio.scan` or :func:`dicomio.list_series`.
    backends
        Names to run, in order; default :func:`default_backends` (every registered one).
    reference
        The backend the others are compared with; when it did not succeed (or is not among
        ``backends``), the first that did.
    rescale
        As in :func:`dicomio.load_volume`.
    tolerance
        Largest absolute voxel difference still counted as agreement (lossy syntaxes decode
        slightly differently in different decoders).
    timeout
        Seconds each backend may take.
    strict_geometry
        Count a toolkit whose own reported geometry differs from dicomio's as a disagreement.
    on_backend
        Called with each backend's name before it runs (progress display).

    Raises
    ------
    ValueError
        An unknown backend name.
    """
    names = list(dict.fromkeys(backends if backends is not None else default_backends()))
    for name in names:
        get_spec(name)
    with tempfile.TemporaryDirectory(prefix="dicomio-compare-") as scratch:
        results = []
        for name in names:
            if on_backend is not None:
                on_backend(name)
            folder = Path(scratch) / name
            folder.mkdir()
            results.append(run_backend(series, name, folder, rescale=rescale, timeout=timeout))
        ok = [r for r in results if r.status == "ok"]
        chosen = next((r for r in ok if r.backend == reference), ok[0] if ok else None)
        if chosen is not None:
            for row in ok:
                _diff_against(row, chosen, tolerance)
        for row in results:
            row.array_file = None  # the scratch folder is gone after this block
    return Comparison(series, results, chosen.backend if chosen else None, tolerance, rescale,
                      strict_geometry)


def _diff_against(row: BackendResult, reference: BackendResult, tolerance: float) -> None:
    """Fill the difference columns of ``row`` against ``reference`` (both succeeded)."""
    assert row.shape is not None and row.affine is not None and reference.affine is not None
    assert row.array_file is not None and reference.array_file is not None
    problems = []
    row.affine_diff_mm = affine_displacement(row.affine, reference.affine, row.shape)
    if row.affine_diff_mm > GEOMETRY_TOLERANCE_MM:
        problems.append(f"affine differs by {row.affine_diff_mm:.3g} mm")
    if row.shape != reference.shape:
        problems.insert(0, f"shape {list(row.shape)} vs {list(reference.shape or ())}")
    else:
        mine = np.load(row.array_file, mmap_mode="r")
        theirs = np.load(reference.array_file, mmap_mode="r")
        row.max_abs_diff, row.differing_voxels = voxel_difference(mine, theirs)
        if row.max_abs_diff > tolerance:
            problems.append(f"{row.differing_voxels} voxel(s) differ, by up to "
                            f"{row.max_abs_diff:g}")
    if row.dtype != reference.dtype:
        problems.insert(0, f"dtype {row.dtype} vs {reference.dtype}")
    if problems:
        row.disagreement = "; ".join(problems) + f" (against {reference.backend})"
