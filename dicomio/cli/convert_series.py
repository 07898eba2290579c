"""``dicomio convert`` of one series: the image, and beside a NIfTI the JSON sidecar and,
for a diffusion series, FSL's ``.bval`` and ``.bvec`` (docs/conversion.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dicomio.cli.console import err, fail, shown, usage_error

if TYPE_CHECKING:
    from dicomio.cli.loading import Loaded, LoadOptions
    from dicomio.io.writers import Format
    from dicomio.volume import Volume, Volume4D

__all__ = ["WriteOptions", "as_dcm2niix_stores", "load_to_write", "print_written",
           "stored_scaling", "write_series"]


@dataclass(frozen=True)
class WriteOptions:
    """How ``convert`` writes a series: the format, ``--force``, ``--no-sidecar``, and the
    loading options (the sidecar and the b-values read the same series, the same way)."""

    format: Format
    force: bool
    sidecar: bool
    load: LoadOptions


def as_dcm2niix_stores(volume: Volume | Volume4D) -> Volume | Volume4D:
    """``volume`` with unsigned 16-bit values that fit signed 16 bits stored as ``int16``,
    as dcm2niix stores them (the values are the same)."""
    array = volume.array
    if array.dtype != np.uint16 or array.size == 0 or int(array.max()) > np.iinfo(np.int16).max:
        return volume
    return replace(volume, array=array.astype(np.int16))


def load_to_write(path: Path | list[Path], options: WriteOptions, show: bool
                  ) -> tuple[Loaded, tuple[float, float] | None]:
    """Load a series for ``convert``. A NIfTI of modality values is written as dcm2niix
    writes it: the stored values, and their one rescale in scl_slope/scl_inter (readers apply
    it); images with different rescales are loaded as modality values."""
    from dicomio.cli.loading import load_for_output

    if options.format != "nifti" or not options.load.rescale:
        return load_for_output(path, options.load, show), None
    loaded = load_for_output(path, replace(options.load, rescale=False), show)
    pairs = {(f.slope, f.intercept) for f in loaded.layout.frames}
    if len(pairs) == 1:
        return loaded, stored_scaling(loaded)
    return load_for_output(path, options.load, show), None


def stored_scaling(loaded: Loaded) -> tuple[float, float] | None:
    """The one (RescaleSlope, RescaleIntercept) of every image of ``loaded``, when they share
    one that is not the identity; else None."""
    pairs = {(f.slope, f.intercept) for f in loaded.layout.frames}
    if len(pairs) != 1 or pairs == {(1.0, 0.0)}:
        return None
    return next(iter(pairs))


def write_series(loaded: Loaded, target: Path, options: WriteOptions,
                 scaling: tuple[float, float] | None = None) -> list[Path]:
    """Write ``loaded`` to ``target`` and, beside a NIfTI, its sidecar and b-value table;
    ``scaling``, the (slope, intercept) of stored values loaded as such, goes into the NIfTI's
    scl_slope and scl_inter, as dcm2niix writes them.

    Returns
    -------
    list of Path
        The files written, the image first. A volume that cannot be written as it is
        (non-finite geometry) ends the command with exit 1, a file that cannot be written
        with exit 2.
    """
    from dicomio.errors import DicomIOError
    from dicomio.io.nifti_order import dcm2niix_order, ordered_image
    from dicomio.io.writers import check_finite, write_nifti_image, write_volume
    from dicomio.volume import Volume4D

    volume = loaded.volume
    try:
        if options.format != "nifti" or (not isinstance(volume, Volume4D) and \
                volume.array.ndim > 3):  # NRRD, npz; colour NIfTI in dicomio's order (RGB24)
            if isinstance(volume, Volume4D):
                usage_error(f"{target}: a 4-D series ({len(volume)} volumes) is written as "
                            f"NIfTI: name a .nii or .nii.gz file, or pass --to nifti")
            written = [write_volume(volume, target, format=options.format,
                                    overwrite=options.force)]
            if options.format == "nifti":
                written += _beside(loaded, target, None, options)
            return written
        volumes = len(volume) if isinstance(volume, Volume4D) else 1
        check_finite(volume, target)  # before the image is made of it
        stored = as_dcm2niix_stores(volume)
        image = ordered_image(stored, dcm2niix_order(loaded.layout, volumes))
        if scaling is not None:  # stored values, and the rescale that makes them modality's
            image.header.set_slope_inter(*scaling)
        written = [write_nifti_image(stored, image, target, overwrite=options.force)]
        written += _beside(loaded, target, np.asarray(image.affine, dtype=np.float64), options)
    except DicomIOError as exc:  # the volume cannot be written as it is (non-finite geometry)
        fail(exc)
    except (ImportError, ValueError) as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot write {target}: {exc.strerror or exc}")
    return written


def _beside(loaded: Loaded, target: Path, affine: np.ndarray | None,
            options: WriteOptions) -> list[Path]:
    """The sidecar (unless ``--no-sidecar``) and the b-value table of a diffusion series,
    for the image written (``affine``: its NIfTI affine; None for dicomio's own order)."""
    from dicomio.io.diffusion import diffusion_table, write_fsl
    from dicomio.io.sidecar import sidecar, write_sidecar

    unreadable = options.load.ignore_unreadable
    written: list[Path] = []
    if options.sidecar:
        fields = sidecar(loaded.series, nifti_affine=affine, ignore_unreadable=unreadable)
        written.append(write_sidecar(fields, target))
    if loaded.is_4d:
        table = diffusion_table(loaded.series, nifti_affine=affine,
                                ignore_unreadable=unreadable)
        if table is not None:
            for warning in table.warnings:
                err.print(f"[yellow]warning[/]: {shown(warning)}")
            written += list(write_fsl(table.bvals, table.bvecs, target))
    return written


def print_written(loaded: Loaded, written: list[Path], chosen: str,
                  scaling: tuple[float, float] | None) -> None:
    """``wrote FILE (format, shape dtype, spacing ...)`` and the files written beside it."""
    from dicomio.cli.console import out
    from dicomio.cli.formatting import format_shape, format_spacing

    volume = loaded.volume
    size = format_shape(volume.shape[1:] if loaded.is_4d else volume.shape)
    if loaded.is_4d:
        size += f", {volume.shape[0]} volumes"
    dtype = as_dcm2niix_stores(volume).dtype if chosen == "nifti" else volume.dtype
    scaled = "" if scaling is None else f" × {scaling[0]:g} + {scaling[1]:g}"
    out.print(f"wrote {shown(written[0])} ({chosen}, {size} {dtype}{scaled}, spacing "
              f"{format_spacing(volume.spacing)} mm)")
    for beside in written[1:]:
        out.print(f"wrote {shown(beside)}")
