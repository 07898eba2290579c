"""The contenders: dicomio (``auto`` and each installed backend) and the toolkits used directly.

Every contender is a function ``folder -> Loaded``: the volume as a NumPy array in the
toolkit's own layout, plus whatever must stay alive for the array to stay valid. Peers are
used the way their documentation shows, each given the series folder and left to find and
sort the files itself; where a toolkit offers a zero-copy NumPy view, the view is used (the
fastest way to get an array out of it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import dicomio
from dicomio.backends.registry import backend_specs

__all__ = ["Contender", "Loaded", "check_against_truth", "contenders"]


@dataclass
class Loaded:
    """A loaded volume (``array``) and the toolkit objects that own its memory."""

    array: np.ndarray
    keep: Any = None


@dataclass(frozen=True)
class Contender:
    """A way to read a series folder into an array."""

    name: str
    load: Callable[[Path], Loaded]
    is_dicomio: bool
    # Why it cannot read compressed data (None: it can).
    compressed_unsupported: str | None = None


def _dicomio(backend: str) -> Callable[[Path], Loaded]:
    def load(folder: Path) -> Loaded:
        return Loaded(dicomio.load_volume(folder, backend=backend).array)

    return load


def _simpleitk(folder: Path) -> Loaded:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    image = reader.Execute()
    return Loaded(sitk.GetArrayViewFromImage(image), image)


def _vtk(folder: Path) -> Loaded:
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkLogger, vtkObject
    from vtkmodules.vtkIOImage import vtkDICOMImageReader

    # It logs an error per file it cannot decode (compressed data); the result check reports it.
    vtkObject.GlobalWarningDisplayOff()
    vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
    reader = vtkDICOMImageReader()
    reader.SetDirectoryName(str(folder))
    reader.Update()
    image = reader.GetOutput()
    columns, rows, slices = image.GetDimensions()
    array = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(slices, rows, columns)
    return Loaded(array, (reader, image))


def _pydicom_loop(folder: Path) -> Loaded:
    """The loop of the common tutorials: read every file, sort by position, stack pixel_array.

    It sorts along the slice normal (not by file name) and applies the rescale, so that its
    result is comparable with dicomio's.
    """
    import pydicom

    datasets = [pydicom.dcmread(path) for path in sorted(folder.iterdir())]
    iop = np.asarray(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    datasets.sort(key=lambda ds: float(np.asarray(ds.ImagePositionPatient, dtype=float) @ normal))
    first = datasets[0]
    volume = np.empty((len(datasets), first.Rows, first.Columns), dtype=np.int16)
    for k, ds in enumerate(datasets):
        volume[k] = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return Loaded(volume)


def contenders() -> list[Contender]:
    """Every contender installed here: dicomio first (``auto``, then each backend), then peers."""
    found = [Contender("dicomio auto", _dicomio("auto"), True)]
    found += [Contender(f"dicomio {spec.name}", _dicomio(spec.name), True)
              for spec in backend_specs() if spec.installed()]
    found += [
        Contender("SimpleITK", _simpleitk, False),
        Contender("vtkDICOMImageReader", _vtk, False,
                  compressed_unsupported="reads no encapsulated (compressed) pixel data"),
        Contender("pydicom loop", _pydicom_loop, False),
    ]
    return [c for c in found if _installed(c)]


def _installed(contender: Contender) -> bool:
    import importlib.util

    module = {"SimpleITK": "SimpleITK", "vtkDICOMImageReader": "vtk"}.get(contender.name)
    return module is None or importlib.util.find_spec(module) is not None


def check_against_truth(array: np.ndarray, truth: np.ndarray) -> str:
    """``"identical"``, or how ``array`` differs from the expected volume."""
    if array.shape != truth.shape:
        return f"shape {array.shape} instead of {truth.shape}"
    if not array.any():
        return "all zeros"
    same_values = np.array_equal(array, truth)
    if same_values and array.dtype == truth.dtype:
        return "identical"
    if same_values:
        return f"identical values, dtype {array.dtype} instead of {truth.dtype}"
    # Describe the usual mistakes: rows upside down, slices reversed, no rescale.
    for flips, label in (((), ""), ((1,), "rows flipped"), ((0,), "slices reversed"),
                         ((0, 1), "rows flipped and slices reversed")):
        candidate = np.flip(array, axis=flips) if flips else array
        if flips and np.array_equal(candidate, truth):
            return f"differs: {label}"
        offset = int(truth.flat[0]) - int(candidate.flat[0])
        if offset and np.array_equal(candidate.astype(np.int32) + offset, truth):
            return f"differs: {', '.join(filter(None, [label, 'stored values (no rescale)']))}"
    wrong = int(np.count_nonzero(array != truth))
    return f"differs: {wrong} voxels"
