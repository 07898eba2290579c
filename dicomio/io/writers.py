"""Write a :class:`~dicomio.Volume` to NIfTI, NRRD or NumPy ``.npz``, safely.

Each format keeps the geometry of the contract:

NIfTI (``.nii``, ``.nii.gz``; needs nibabel, the ``nifti`` extra)
    Voxel ``(i, j, k)`` is the volume's ``(column, row, slice)``; the sform (and the qform when
    the axes are orthogonal, that is without gantry tilt) maps it to RAS millimetres: the LPS
    affine with x and y negated. Colour is written as RGB24.
NRRD (``.nrrd``; needs pynrrd, the ``nrrd`` extra)
    ``space: left-posterior-superior``, with ``space directions`` and ``space origin`` taken
    from the affine (axes listed fastest first: column, row, slice). Colour adds a leading
    ``RGB-color`` axis. Gzip encoded.
NumPy (``.npz``)
    ``array`` (slice, row, column[, sample]), ``affine`` (4×4, LPS, as in the contract) and
    ``metadata``: a JSON string with the metadata, provenance and geometry.

Writes are atomic: the data goes to a temporary file in the target folder, is flushed to disk,
then renamed over the target. A failure leaves nothing behind, never a half-written file; the
input DICOM files are never overwritten, and an existing file only with ``overwrite=True``.
Non-finite geometry (an infinite spacing, a NaN origin) is never written: such a volume is
refused, naming its series and first file.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from dicomio._version import __version__
from dicomio.errors import MissingGeometryError
from dicomio.extras import pip_install
from dicomio.geometry.conventions import reverse_index
from dicomio.io.atomic import write_atomically
from dicomio.io.convert import to_nibabel
from dicomio.io.jsonsafe import safe_dumps
from dicomio.volume import Volume, Volume4D

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "Format",
    "check_finite",
    "check_writer",
    "format_of",
    "volume_metadata",
    "write_nifti_image",
    "write_volume",
]

Format = Literal["nifti", "nrrd", "npz"]


#: File name endings of each format.
FORMATS: dict[Format, tuple[str, ...]] = {
    "nifti": (".nii", ".nii.gz"),
    "nrrd": (".nrrd",),
    "npz": (".npz",),
}


#: The ending each format is written with when only the format is given.
EXTENSIONS: dict[Format, str] = {"nifti": ".nii.gz", "nrrd": ".nrrd", "npz": ".npz"}


#: What each format needs: the format's name, the module and its package, the dicomio extra
#: that installs it.
_PACKAGES = {
    "nifti": ("NIfTI", "nibabel", "nibabel", "nifti"),
    "nrrd": ("NRRD", "nrrd", "pynrrd", "nrrd"),
}


def format_of(path: str | os.PathLike[str]) -> Format:
    """The format a file name asks for, from its ending.

    Raises
    ------
    ValueError
        The ending is none of ``.nii``, ``.nii.gz``, ``.nrrd``, ``.npz``.
    """
    name = Path(path).name.lower()
    for fmt, endings in FORMATS.items():
        if name.endswith(endings):
            return fmt
    known = ", ".join(e for endings in FORMATS.values() for e in endings)
    raise ValueError(f"cannot tell the format of {Path(path).name!r}: use one of {known}")


def _writer_package(format: str) -> Any:
    """Import the package that writes ``format`` (None for .npz: NumPy)."""
    if format not in _PACKAGES:
        return None
    label, module, package, extra = _PACKAGES[format]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"writing {label} needs {package}: {pip_install(extra)}") from None


def check_writer(format: Format) -> None:
    """Raise ImportError (naming the pip extra) unless the package for ``format`` is
    installed."""
    _writer_package(format)


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    return str(value)


def volume_metadata(volume: Volume) -> dict[str, Any]:
    """Everything worth keeping beside the array: metadata, provenance and geometry."""
    return {
        "written_by": f"dicomio {__version__}",
        "axes": ["slice", "row", "column"] + (["sample"] if volume.array.ndim == 4 else []),
        "affine_space": "LPS",
        "spacing": list(volume.spacing),
        "origin": list(volume.origin),
        "metadata": dict(volume.metadata),
        "provenance": volume.provenance,
        "slice_positions": volume.slice_positions,
    }


def _write_npz(volume: Volume, handle: IO[bytes]) -> None:
    text = safe_dumps(volume_metadata(volume), default=_json_default)
    np.savez(handle, array=volume.array, affine=volume.affine, metadata=np.array(text))


def _write_nifti(volume: Volume, handle: IO[bytes], compress: bool) -> None:
    # the one NIfTI geometry policy (sform, qform, units)
    _write_image(to_nibabel(volume), volume.metadata, handle, compress)


def _write_image(image: Any, metadata: Mapping[str, Any], handle: IO[bytes],
                 compress: bool) -> None:
    nib = _writer_package("nifti")
    header = image.header
    description = str(metadata.get("SeriesDescription") or "")
    header["descrip"] = f"dicomio {__version__} {description}".strip()[:79].encode("ascii",
                                                                                   "replace")
    stream: Any = gzip.GzipFile(fileobj=handle, mode="wb", mtime=0) if compress else handle
    try:
        image.to_file_map({"image": nib.FileHolder(fileobj=stream),
                           "header": nib.FileHolder(fileobj=stream)})
    finally:
        if stream is not handle:
            stream.close()


def _write_nrrd(volume: Volume, handle: IO[bytes]) -> None:
    nrrd = _writer_package("nrrd")
    affine = volume.affine
    directions = list(reverse_index(affine)[:3, :3].T)  # column, row, slice
    kinds = ["domain", "domain", "domain"]
    if volume.array.ndim == 4:
        directions.insert(0, np.full(3, np.nan))  # "none": the samples are not a space axis
        kinds.insert(0, "RGB-color")
    header = {
        "space": "left-posterior-superior",
        "space directions": np.array(directions),
        "space origin": affine[:3, 3].copy(),
        "kinds": kinds,
        "encoding": "gzip",
        "content": f"dicomio {__version__}",
    }
    nrrd.write(handle, np.ascontiguousarray(volume.array), header, index_order="C")


def write_volume(
    volume: Volume,
    path: str | os.PathLike[str],
    *,
    format: Format | None = None,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike[str]] | None = None,
    within: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``volume`` to ``path`` as NIfTI, NRRD or ``.npz`` (see the module docstring).

    Parameters
    ----------
    volume
        What :func:`dicomio.load_volume` returned.
    path
        The file to write; its ending chooses the format unless ``format`` is given.
    format
        ``"nifti"`` (gzip-compressed when ``path`` ends in ``.gz``), ``"nrrd"`` or ``"npz"``.
    overwrite
        Replace an existing file (never one of the input files).
    protect
        Files that must never be overwritten; default: the volume's input files
        (``volume.provenance.files``).
    within
        A folder holding ``path`` (an output folder): the folders below it are created when
        missing, and the write never goes through a symbolic link among them (see
        :func:`dicomio.io.atomic.write_atomically`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    MissingGeometryError
        The affine holds a non-finite value (infinite spacing, NaN position...).
    FileExistsError
        ``path`` exists (and ``overwrite`` is False), or it is one of the protected files; or
        a folder between ``within`` and ``path`` is a symbolic link.
    FileNotFoundError
        The target folder does not exist.
    ValueError
        The format cannot be told from ``path``.
    ImportError
        The package for the format is not installed (the message names the pip extra).

    Notes
    -----
    A lazy volume (``load_volume(..., lazy=True)``) is computed first, whole: writing it needs
    the memory of the eager load (the formats are written from one array).
    """
    target = Path(path)
    chosen = format or format_of(target)
    if chosen not in FORMATS:
        raise ValueError(f"unknown format {chosen!r}; choose one of {', '.join(FORMATS)}")
    _check_target(volume, target, overwrite, protect, within)
    if not isinstance(volume.array, np.ndarray):  # lazy (Dask): computed, whole, once
        volume = dataclasses.replace(volume, array=np.asarray(volume.array))
    writers: dict[str, Callable[[IO[bytes]], None]] = {
        "nifti": lambda h: _write_nifti(volume, h, target.name.lower().endswith(".gz")),
        "nrrd": lambda h: _write_nrrd(volume, h),
        "npz": lambda h: _write_npz(volume, h),
    }
    return write_atomically(target, writers[chosen], within=within)


def write_nifti_image(
    volume: Volume | Volume4D,
    image: Any,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike[str]] | None = None,
    within: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``image``, a ``nibabel.Nifti1Image`` made of ``volume`` in another voxel order
    (:func:`dicomio.io.nifti_order.ordered_image`), as :func:`write_volume` writes NIfTI:
    atomically, never over an input file, gzip-compressed when ``path`` ends in ``.gz``.

    Raises
    ------
    MissingGeometryError, FileExistsError, FileNotFoundError, ImportError
        As for :func:`write_volume`.
    """
    target = Path(path)
    _check_target(volume, target, overwrite, protect, within)
    compress = target.name.lower().endswith(".gz")
    return write_atomically(target, lambda h: _write_image(image, volume.metadata, h, compress),
                            within=within)


def _check_target(volume: Volume | Volume4D, target: Path, overwrite: bool,
                  protect: Iterable[str | os.PathLike[str]] | None,
                  within: str | os.PathLike[str] | None) -> None:
    """Refuse to write ``volume`` at ``target``: non-finite geometry, a missing folder, an
    input file, an existing file without ``overwrite``, a folder."""
    check_finite(volume, target)
    if within is None and not target.parent.is_dir():
        raise FileNotFoundError(f"the folder {target.parent} does not exist")
    guarded = protect if protect is not None else (
        volume.provenance.files if volume.provenance else ())
    if target.exists():
        if any(_same_file(target, Path(p)) for p in guarded):
            raise FileExistsError(f"{target} is one of the input files: refusing to overwrite it")
        if not overwrite:
            raise FileExistsError(f"{target} exists (pass overwrite=True to replace it)")
        if target.is_dir():
            raise FileExistsError(f"{target} is a folder")


def check_finite(volume: Volume | Volume4D, target: Path) -> None:
    """Refuse a volume whose affine is not finite: no reader could place it."""
    if np.isfinite(volume.affine).all():
        return
    provenance = volume.provenance
    series = f"series {provenance.series_uid}" if provenance and provenance.series_uid else (
        "the volume")
    files = provenance.files[:1] if provenance else ()
    spacing = ", ".join(f"{v:g}" for v in volume.spacing)
    origin = ", ".join(f"{v:g}" for v in volume.origin)
    raise MissingGeometryError(
        f"{series} has non-finite geometry (spacing {spacing}, origin {origin}): refusing to "
        f"write {target}", path=files or None)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:
        return False
