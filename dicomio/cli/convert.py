"""``dicomio convert``: series to NIfTI, NRRD or npz."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import fail, out, progress_enabled, shown, usage_error
from dicomio.cli.formatting import format_shape, format_spacing
from dicomio.cli.loading import FollowSymlinks, load_for_output, print_warnings
from dicomio.cli.options import (
    AcceptIrregular,
    ConvertFormat,
    Quiet,
    Reproducible,
    Scheduler,
    SeriesOption,
    SeriesTimeout,
    ShowProgress,
    WorkerMemory,
    Workers,
)

__all__ = ["convert"]


@app.command()
def convert(
    paths: Annotated[list[Path], typer.Argument(
        exists=True, show_default=False, help="Folder(s) or file(s) to read.")],
    output: Annotated[Path, typer.Argument(
        show_default=False, help="File to write (.nii, .nii.gz, .nrrd or .npz), or a folder "
                                 "(an existing one, or a name without ending) to write every "
                                 "series into.")],
    series: SeriesOption = None,
    to: Annotated[ConvertFormat | None, typer.Option(
        "--to", help="Format, when the file name does not say it (into a folder: nifti, "
                     "the default, writes .nii.gz).")] = None,
    backend: Annotated[str, typer.Option(help="auto, direct, pydicom, sitk or vtk.")] = "auto",
    raw: Annotated[bool, typer.Option("--raw", help="Stored values (no rescale).")] = False,
    accept_irregular: AcceptIrregular = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing file (never one of the input files); into a "
                        "folder: write into one that is not empty.")] = False,
    workers: Workers = None,
    scheduler: Scheduler = None,
    series_timeout: SeriesTimeout = None,
    worker_memory: WorkerMemory = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Into a folder: print the report as JSON.")] = False,
    reproducible: Reproducible = False,
    quiet: Quiet = False,
    progress: ShowProgress = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Write one series as NIfTI, NRRD or NumPy .npz, with its orientation; or every series
    under PATHS into the folder OUTPUT, side by side on every core (or on a Dask cluster).

    Files appear whole or not at all (written beside the target, then renamed). Exit 0 when
    everything was written, 1 when a series cannot be read as a volume (or a file could not be
    read), 2 on usage or I/O errors.
    """
    from dicomio.errors import DicomIOError
    from dicomio.io.writers import format_of, write_volume

    show = progress_enabled(progress, quiet)
    if output.is_dir() or not output.suffix:
        from dicomio.cli.archive import run_conversion

        if series is not None:
            usage_error("--series picks the series of a single file; into a folder every "
                        "series is written")
        run_conversion(paths, output, to.value if to is not None else "nifti", backend,
                       not raw, "accept" if accept_irregular else "raise", force, workers,
                       scheduler, as_json, reproducible, quiet, show,
                       series_timeout=series_timeout, worker_memory=worker_memory,
                       follow_symlinks=follow_symlinks)
    archive_only = {"--workers": workers is not None, "--scheduler": scheduler is not None,
                    "--series-timeout": series_timeout is not None,
                    "--worker-memory": worker_memory is not None,
                    "--json": as_json, "--reproducible": reproducible}
    for option in (name for name, given in archive_only.items() if given):
        usage_error(f"{option} applies when OUTPUT is a folder")
    if len(paths) != 1:
        usage_error("one file holds one series: give a single PATH, or a folder as OUTPUT")
    try:
        chosen = to.value if to is not None else format_of(output)
    except ValueError as exc:
        usage_error(str(exc))
    if output.exists() and not force:  # before the (possibly long) load
        usage_error(f"{output} exists (pass --force to replace it)")
    volume = load_for_output(paths[0], series, backend, not raw,
                             "accept" if accept_irregular else "raise", show, follow_symlinks)
    print_warnings(volume, quiet)
    try:
        written = write_volume(volume, output, format=chosen, overwrite=force)
    except DicomIOError as exc:  # the volume cannot be written as it is (non-finite geometry)
        fail(exc)
    except (ImportError, ValueError) as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot write {output}: {exc.strerror or exc}")
    if not quiet:
        out.print(f"wrote {shown(written)} ({chosen}, {format_shape(volume.shape)} "
                  f"{volume.dtype}, spacing {format_spacing(volume.spacing)} mm)")
