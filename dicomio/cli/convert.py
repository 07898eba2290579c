"""``dicomio convert``: series to NIfTI, NRRD or npz."""

from pathlib import Path
from typing import Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import progress_enabled, usage_error
from dicomio.cli.convert_series import WriteOptions, load_to_write, print_written, write_series
from dicomio.cli.loading import (
    FollowSymlinks,
    LoadOptions,
    irregular_policy,
    print_warnings,
    scaling_policy,
)
from dicomio.cli.options import (
    AcceptIrregular,
    ConvertFormat,
    IgnoreUnreadable,
    IrregularOption,
    Quiet,
    Reproducible,
    ScalingChoice,
    ScalingOption,
    Scheduler,
    SeriesOption,
    SeriesTimeout,
    ShowProgress,
    WorkerMemory,
    Workers,
    existing,
)
from dicomio.cli.web import takes_dicomweb

__all__ = ["convert"]


@app.command()
@takes_dicomweb
def convert(
    paths: Annotated[list[Path], typer.Argument(
        callback=existing, show_default=False,
        help="Folder(s), file(s) or DICOMweb URL(s) to read.")],
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
    irregular: IrregularOption = None,
    accept_irregular: AcceptIrregular = False,
    ignore_unreadable: IgnoreUnreadable = False,
    name: Annotated[str | None, typer.Option(
        "--name", metavar="TEMPLATE",
        help="OUTPUT is a folder, and each series is written into it under this name, as "
             "dcm2niix's -f: %p protocol, %s series number, %d description, %i patient ID, "
             "%n patient name, %t study date and time, %e echo, %f folder, %m manufacturer, "
             "%z sequence name (e.g. '%p_%s'); made safe for file systems, 'a', 'b'... "
             "appended when taken.")] = None,
    gzip: Annotated[bool, typer.Option(
        "--gzip/--no-gzip", help="With --name: .nii.gz or .nii.")] = True,
    sidecar: Annotated[bool, typer.Option(
        "--sidecar/--no-sidecar", help="Beside a NIfTI, write the BIDS JSON sidecar (and, for a "
                                       "diffusion series, .bval and .bvec in any case).")]
        = True,
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
    scaling: ScalingOption = ScalingChoice.modality,
) -> None:
    """Write one series as NIfTI, NRRD or NumPy .npz, with its orientation; or every series
    under PATHS into the folder OUTPUT, side by side on every core (or on a Dask cluster).

    NIfTI is written as dcm2niix writes it (its voxel order, sform and qform; a 4-D series
    with the volumes last), with the BIDS JSON sidecar beside it and, for a diffusion
    series, FSL's .bval and .bvec. With --name, OUTPUT is a folder and each series (or the one
    --series names) is written into it under the name the template gives.

    Files appear whole or not at all (written beside the target, then renamed). Exit 0 when
    everything was written, 1 when a series cannot be read as a volume (or a file could not be
    read), 2 on usage or I/O errors.
    """
    from dicomio.io.writers import format_of

    show = progress_enabled(progress, quiet)
    policy = irregular_policy(irregular, accept_irregular)
    values = scaling_policy(scaling, raw)
    load_options = LoadOptions(series, backend, not raw, policy, ignore_unreadable,
                               follow_symlinks, values)
    if name is not None:
        from dicomio.cli.convert_named import convert_named

        convert_named(paths, output, name, WriteOptions(
            "nifti" if to is None else to.value, force, sidecar, load_options),
            gzip, quiet, show)
        return
    if output.is_dir() or not output.suffix:
        from dicomio.cli.archive import run_conversion

        if series is not None:
            usage_error("--series picks the series of a single file; into a folder every "
                        "series is written (or, with --name, the one --series names)")
        run_conversion(paths, output, to.value if to is not None else "nifti", backend,
                       not raw, policy, force, workers, scheduler, as_json, reproducible,
                       quiet, show, series_timeout=series_timeout,
                       worker_memory=worker_memory, follow_symlinks=follow_symlinks,
                       ignore_unreadable=ignore_unreadable, sidecar=sidecar, scaling=values)
    archive_only = {"--workers": workers is not None, "--scheduler": scheduler is not None,
                    "--series-timeout": series_timeout is not None,
                    "--worker-memory": worker_memory is not None,
                    "--json": as_json, "--reproducible": reproducible}
    for option in (key for key, given in archive_only.items() if given):
        usage_error(f"{option} applies when OUTPUT is a folder")
    if len(paths) != 1:
        usage_error("one file holds one series: give a single PATH, or a folder as OUTPUT")
    try:
        chosen = to.value if to is not None else format_of(output)
    except ValueError as exc:
        usage_error(str(exc))
    if output.exists() and not force:  # before the (possibly long) load
        usage_error(f"{output} exists (pass --force to replace it)")
    write_options = WriteOptions(chosen, force, sidecar, load_options)
    loaded, slope_inter = load_to_write(paths[0], write_options, show)
    print_warnings(loaded, quiet)
    written = write_series(loaded, output, write_options, slope_inter)
    if not quiet:
        print_written(loaded, written, chosen, slope_inter)

