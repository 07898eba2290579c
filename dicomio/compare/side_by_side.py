"""Read one series with several backends, each in its own process, and compare the results.

Each backend runs in a fresh Python process (:mod:`dicomio.compare.worker`) with a timeout, so a
toolkit that crashes (a segfault, an abort) or hangs becomes a failed row of the report, never a
dead command. The child writes its array to a ``.npy`` file and a small JSON result;
the parent compares the arrays slice by slice (memory-mapped) against the reference backend.

Per backend the report gives: status, wall time, dtype, shape, the largest absolute difference
and the number of differing voxels against the reference, how far dicomio's affine moves any
voxel centre against the reference's, and the geometry the toolkit itself reports (SimpleITK's
origin/spacing/direction, VTK's origin and spacing, the positions pydicom reads from each file,
dcm2niix's sform...) against dicomio's: the largest distance between the voxel centres each
places, and the slice order the toolkit's geometry implies.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dicomio.backends.base import BackendSpec, ReportedGeometry
from dicomio.backends.registry import backend_specs, get_spec
from dicomio.compare.report import (
    GEOMETRY_TOLERANCE_MM,
    BackendResult,
    Comparison,
    diff_against,
    implied_slice_order,
    reported_displacement,
)
from dicomio.compare.worker import Request
from dicomio.errors import Remedy
from dicomio.read import Irregular
from dicomio.series.info import SeriesInfo
from dicomio.series.retrieve import with_pixel_data

__all__ = ["DEFAULT_TIMEOUT", "compare_series", "default_backends", "run_backend",
           "spatial_shape"]

#: Seconds a backend may take (interpreter start-up included) before it is stopped.
DEFAULT_TIMEOUT = 300.0


_WORKER = "import sys; from dicomio.compare.worker import main; main(sys.argv[1])"


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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
    irregular: Irregular = "accept",
    timeout: float = DEFAULT_TIMEOUT,
    name_remedy: Callable[[Remedy], str] = Remedy.python,
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
    rescale, irregular
        As in :func:`dicomio.load_volume`.
    timeout
        Seconds before the process is stopped and the row marked failed.
    name_remedy
        How a failure's reason names the argument that gets past it (a picklable function;
        the command line gives :func:`dicomio.cli.options.option_for`).

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
    request = Request(series, backend, _portable(spec), rescale, irregular, name_remedy)
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
        _fill(row, json.loads(result_file.read_text(encoding="utf-8")), workdir, series)
    if row.status == "failed" and (timed_out or not result_file.exists()):
        tail = _log_tail(workdir)
        if tail:
            row.reason = f"{row.reason}; last output:\n{tail}"
    return row


def _fill(row: BackendResult, result: dict[str, Any], folder: Path, series: SeriesInfo) -> None:
    row.status = result["status"]
    if row.status != "ok":
        row.reason = result["reason"]
        return
    row.seconds = result["seconds"]
    row.dtype = result["dtype"]
    row.shape = tuple(result["shape"])
    row.volumes = result.get("volumes")
    row.decoders = tuple(result["decoders"])
    row.warnings = tuple(result["warnings"])
    row.affine = np.asarray(result["affine"], dtype=np.float64)
    if result["reported"] is not None:
        row.reported = ReportedGeometry.from_dict(result["reported"])
        spatial = spatial_shape(row.shape, len(series.frame_shape))
        row.reported_diff_mm = reported_displacement(row.reported, row.affine, spatial)
        row.reported_slice_order = implied_slice_order(row.reported, row.affine, spatial[0])
    row.array_file = folder / "array.npy"


def spatial_shape(shape: Sequence[int], image_dimensions: int) -> tuple[int, int, int]:
    """(slices, rows, columns) of a volume's array ``shape`` whose images have
    ``image_dimensions`` axes (2, or 3 for colour): a 4-D array's volume axis is dropped."""
    start = max(len(shape) - image_dimensions - 1, 0)
    n, rows, columns = (int(v) for v in shape[start:start + 3])
    return (n, rows, columns)


def default_backends() -> list[str]:
    """Every backend registered now, ``auto``'s order first."""
    return [spec.name for spec in backend_specs()]


def compare_series(
    series: SeriesInfo,
    backends: Sequence[str] | None = None,
    *,
    reference: str | None = "pydicom",
    rescale: bool = True,
    irregular: Irregular = "accept",
    tolerance: float = 0.0,
    timeout: float = DEFAULT_TIMEOUT,
    strict_geometry: bool = False,
    geometry_tolerance: float = GEOMETRY_TOLERANCE_MM,
    on_backend: Callable[[str], None] | None = None,
    name_remedy: Callable[[Remedy], str] = Remedy.python,
) -> Comparison:
    """Read ``series`` with each backend (one process each) and compare them.

    Parameters
    ----------
    series
        The series, from :func:`dicomio.scan` or :func:`dicomio.list_series` (a DICOMweb
        series listed from its metadata is retrieved here, once for every backend:
        :func:`~dicomio.series.retrieve.with_pixel_data`).
    backends
        Names to run, in order; default :func:`default_backends` (every registered one).
    reference
        The backend the others are compared with; when it did not succeed (or is not among
        ``backends``), the first that did.
    rescale
        As in :func:`dicomio.load_volume`.
    irregular
        As in :func:`dicomio.load_volume`; by default irregular geometry is read as it lies.
    tolerance
        Largest absolute voxel difference still counted as agreement (lossy syntaxes decode
        slightly differently in different decoders).
    timeout
        Seconds each backend may take.
    strict_geometry
        Count a toolkit whose own reported geometry differs from dicomio's as a disagreement.
    geometry_tolerance
        Largest distance (mm) between a toolkit's voxel centres and dicomio's still counted as
        the same geometry.
    on_backend
        Called with each backend's name before it runs (progress display).
    name_remedy
        As for :func:`run_backend`.

    Raises
    ------
    ValueError
        An unknown backend name.
    DicomWebError
        A series listed from metadata could not be retrieved.
    """
    names = list(dict.fromkeys(backends if backends is not None else default_backends()))
    for name in names:
        get_spec(name)
    series = with_pixel_data(series)
    with tempfile.TemporaryDirectory(prefix="dicomio-compare-") as scratch:
        results = []
        for name in names:
            if on_backend is not None:
                on_backend(name)
            folder = Path(scratch) / name
            folder.mkdir()
            row = run_backend(series, name, folder, rescale=rescale, irregular=irregular,
                              timeout=timeout, name_remedy=name_remedy)
            row.geometry_tolerance_mm = geometry_tolerance
            results.append(row)
        ok = [r for r in results if r.status == "ok"]
        chosen = next((r for r in ok if r.backend == reference), ok[0] if ok else None)
        if chosen is not None:
            for row in ok:
                assert row.shape is not None
                diff_against(row, chosen, tolerance,
                             spatial_shape(row.shape, len(series.frame_shape)))
        for row in results:
            row.array_file = None  # the scratch folder is gone after this block
    return Comparison(series, results, chosen.backend if chosen else None, tolerance, rescale,
                      strict_geometry, geometry_tolerance)
