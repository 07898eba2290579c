"""``dicomio convert`` of one series: the image, and beside a NIfTI the JSON sidecar and,
for a diffusion series, FSL's ``.bval`` and ``.bvec`` (docs/conversion.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dicomio.cli.console import err, fail, shown, usage_error

if TYPE_CHECKING:
    from dicomio.cli.loading import Loaded, LoadOptions
    from dicomio.io.writers import Format

__all__ = ["WriteOptions", "load_to_write", "print_written", "write_series"]


@dataclass(frozen=True)
class WriteOptions:
    """How ``convert`` writes a series: the format, ``--force``, ``--no-sidecar``, and the
    loading options (the sidecar and the b-values read the same series, the same way)."""

    format: Format
    force: bool
    sidecar: bool
    load: LoadOptions


def load_to_write(path: Path | list[Path], options: WriteOptions, show: bool
                  ) -> tuple[Loaded, tuple[float, float] | None]:
    """Load a series for ``convert``, as
    :func:`~dicomio.io.series_output.read_for_output` reads it to write it (a NIfTI of
    modality values: the stored values, and their one rescale for scl_slope/scl_inter)."""
    from dicomio.cli.loading import load_for_output

    loaded = load_for_output(path, options.load, show, options.format)
    return loaded, loaded.scaling


def write_series(loaded: Loaded, target: Path, options: WriteOptions,
                 scaling: tuple[float, float] | None = None) -> list[Path]:
    """Write ``loaded`` to ``target`` and, beside a NIfTI, its sidecar and b-value table
    (:func:`dicomio.io.series_output.write_converted`); ``scaling``, the (slope, intercept)
    of stored values loaded as such, goes into the NIfTI's scl_slope and scl_inter.

    Returns
    -------
    list of Path
        The files written, the image first. A volume that cannot be written as it is
        (non-finite geometry) ends the command with exit 1, a file that cannot be written
        with exit 2.
    """
    from dicomio.errors import DicomIOError
    from dicomio.io.series_output import SeriesRead, write_converted

    read = SeriesRead(loaded.series, loaded.layout, loaded.volume, scaling, loaded.values)
    try:
        written = write_converted(read, target, options.format, overwrite=options.force,
                                  sidecar=options.sidecar,
                                  ignore_unreadable=options.load.ignore_unreadable)
    except DicomIOError as exc:  # the volume cannot be written as it is (non-finite geometry)
        fail(exc)
    except (ImportError, ValueError) as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot write {target}: {exc.strerror or exc}")
    for warning in written.warnings:
        err.print(f"[yellow]warning[/]: {shown(warning)}")
    return written.files


def print_written(loaded: Loaded, written: list[Path], chosen: str,
                  scaling: tuple[float, float] | None) -> None:
    """``wrote FILE (format, shape dtype, spacing ...)`` and the files written beside it."""
    from dicomio.cli.console import out
    from dicomio.cli.formatting import format_shape, format_spacing
    from dicomio.io.series_output import as_dcm2niix_stores

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
