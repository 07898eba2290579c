"""The contenders: dicomio (``auto`` and each installed backend) and the toolkits used directly.

Every contender is a function ``folder -> Loaded``: the volume as a NumPy array in the
toolkit's own layout, plus whatever must stay alive for the array to stay valid. Peers are
used the way their documentation shows, each given the series folder and left to find and
sort the files itself; where a toolkit offers a zero-copy NumPy view, the view is used (the
fastest way to get an array out of it).

Nothing here imports dicomio or a toolkit at import time: a fresh process (``fresh.py``)
imports only what its contender lists in :attr:`Contender.imports`, before timing its first
load.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Contender", "Loaded", "check_against_truth", "contender", "contenders",
           "second_decoders"]


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
    # What a fresh process imports before its first load is timed: what a user has imported
    # before the call. dicomio's own backends import their codecs when they first read, and
    # that is part of the first call; a toolkit backend's toolkit is imported beforehand, as
    # it is for the toolkit used directly.
    imports: tuple[str, ...] = ()


def _dicomio(backend: str) -> Callable[[Path], Loaded]:
    def load(folder: Path) -> Loaded:
        import dicomio

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


def _pydicom_loop(folder: Path, plugin: str = "") -> Loaded:
    """The loop of the common tutorials: read every file, sort by position, stack pixel_array.

    It sorts along the slice normal (not by file name) and applies the rescale, so that its
    result is comparable with dicomio's. ``plugin`` names the pydicom decoding plugin to use
    (default: pydicom's choice).
    """
    import pydicom

    datasets = [pydicom.dcmread(path) for path in sorted(folder.iterdir())]
    if plugin:
        for ds in datasets:
            ds.pixel_array_options(decoding_plugin=plugin)
    iop = np.asarray(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    datasets.sort(key=lambda ds: float(np.asarray(ds.ImagePositionPatient, dtype=float) @ normal))
    first = datasets[0]
    volume = np.empty((len(datasets), first.Rows, first.Columns), dtype=np.int16)
    for k, ds in enumerate(datasets):
        volume[k] = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return Loaded(volume)


_VTK_MODULES = ("vtkmodules.util.numpy_support", "vtkmodules.vtkCommonCore",
                "vtkmodules.vtkIOImage")
# dicomio's own backends: their codecs are imported by the first call (issue 15 times it).
_NATIVE_BACKENDS = ("auto", "direct")


def _peers() -> list[Contender]:
    return [
        Contender("SimpleITK", _simpleitk, False, imports=("SimpleITK",)),
        Contender("vtkDICOMImageReader", _vtk, False,
                  compressed_unsupported="reads no encapsulated (compressed) pixel data",
                  imports=_VTK_MODULES),
        Contender("pydicom loop", _pydicom_loop, False, imports=("pydicom",)),
    ]


def _dicomio_contender(backend: str, requires: tuple[str, ...] = ()) -> Contender:
    toolkit = () if backend in _NATIVE_BACKENDS else requires
    return Contender(f"dicomio {backend}", _dicomio(backend), True,
                     imports=("dicomio", *toolkit))


def contenders() -> list[Contender]:
    """Every contender installed here: dicomio first (``auto``, then each backend), then peers."""
    from dicomio.backends.registry import backend_specs

    found = [_dicomio_contender("auto")]
    found += [_dicomio_contender(spec.name, spec.requires)
              for spec in backend_specs() if spec.installed()]
    return [c for c in found + _peers() if _installed(c)]


def contender(name: str) -> Contender:
    """The contender called ``name``, built without importing dicomio for a peer."""
    if name.startswith("dicomio "):
        return next(c for c in contenders() if c.name == name)
    return next(c for c in _peers() if c.name == name)


def second_decoders(
    syntax: str, used: tuple[str, ...] = ()
) -> list[tuple[str, Callable[[Path], Loaded]]]:
    """Decoders other than the ones dicomio ``used`` (its provenance's decoders) for
    ``syntax``, in the order to try them: pydicom with each of its installed plugins that
    decodes it (GDCM first, then pylibjpeg...) in the tutorials' loop, then SimpleITK (GDCM
    with its own codec builds); none when ``syntax`` is not compressed."""
    from pydicom.pixels.decoders.base import get_decoder

    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        return []
    if not decoder.is_encapsulated:
        return []
    found: list[tuple[str, Callable[[Path], Loaded]]] = [
        (f"pydicom + {plugin}", functools.partial(_pydicom_loop, plugin=plugin))
        for plugin in ("gdcm", "pylibjpeg", "pyjpegls", "pydicom", "pillow")
        if plugin in decoder.available_plugins and not any(plugin in u for u in used)]
    if _installed(_peers()[0]):
        found.append(("SimpleITK (its GDCM)", _simpleitk))
    return found


def _installed(contender: Contender) -> bool:
    import importlib.util

    module = {"SimpleITK": "SimpleITK", "vtkDICOMImageReader": "vtk"}.get(contender.name)
    return module is None or importlib.util.find_spec(module) is not None


def is_right(check: str) -> bool:
    """Whether a :func:`check_against_truth` answer means the right volume."""
    return check == "identical" or check.startswith("within ")


def largest_difference(array: np.ndarray, other: np.ndarray) -> int:
    """The largest absolute difference between two integer volumes of one shape."""
    return int(np.abs(array.astype(np.int32) - other.astype(np.int32)).max())


def check_against_truth(array: np.ndarray, truth: np.ndarray, tolerance: int = 0) -> str:
    """``"identical"``, ``"within N of the truth ..."`` (a lossy series: ``tolerance`` is the
    encoder's largest error), or how ``array`` differs from the expected volume."""
    if array.shape != truth.shape:
        return f"shape {array.shape} instead of {truth.shape}"
    if not array.any():
        return "all zeros"
    same_values = np.array_equal(array, truth)
    if same_values and array.dtype == truth.dtype:
        return "identical"
    if same_values:
        return f"identical values, dtype {array.dtype} instead of {truth.dtype}"
    if tolerance and array.dtype == truth.dtype:
        largest = largest_difference(array, truth)
        if largest <= tolerance:
            return f"within {tolerance} of the truth (largest difference {largest})"
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
