"""The ``dicomio`` command line: formatting and exit codes only; the logic lives in the library.

Exit codes (as dcm2niix and pytest do): 0 success, 1 the data has a problem (a finding, a
disagreement, a read error), 2 usage or I/O error.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dicomio import __version__
from dicomio.compare import default_backends
from dicomio.errors import (
    ConfigError,
    DicomIOError,
    MultipleSeriesError,
    NoDicomFilesError,
    SeriesNotFoundError,
)

if TYPE_CHECKING:
    from dicomio.compare import Comparison
    from dicomio.describe import SeriesSummary
    from dicomio.series import Inventory, SeriesInfo
    from dicomio.volume import Volume

app = typer.Typer(
    name="dicomio",
    help="DICOM series to NumPy volumes you can trust: load, compare backends, validate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        out.print(f"dicomio {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """DICOM series to NumPy volumes you can trust."""


def fail(error: DicomIOError, code: int = EXIT_FINDINGS) -> NoReturn:
    """Print a dicomio error on stderr and exit with ``code``."""
    err.print(f"[bold red]error[/]: {type(error).__name__}: {escape(str(error))}", markup=True,
              highlight=False)
    raise typer.Exit(code)


# --- shared options and helpers ------------------------------------------------------------------

class TextOrJson(str, Enum):
    text = "text"
    json = "json"


Quiet = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print only the result: no progress, no notes.")]
ShowProgress = Annotated[bool | None, typer.Option(
    "--progress/--no-progress", show_default=False,
    help="Show progress on stderr (default: only when stderr is a terminal).")]
SeriesOption = Annotated[str | None, typer.Option(
    "--series", "-s", help="Series index (see `dicomio info`) or SeriesInstanceUID.")]
ExistingPath = Annotated[Path, typer.Argument(exists=True, help="Folder or file.")]


def _progress_enabled(flag: bool | None, quiet: bool) -> bool:
    if quiet:
        return False
    return err.is_terminal if flag is None else flag


def _progress_console() -> Console:
    """stderr; when progress was asked for on something that is not a terminal (a pipe to
    ``tee``), drawn as if it were one."""
    if err.is_terminal:
        return err
    return Console(stderr=True, force_terminal=True, highlight=False)


@contextmanager
def _status(message: str, enabled: bool) -> Iterator[None]:
    """A spinner on stderr while something without measurable progress runs."""
    if not enabled:
        yield
        return
    with _progress_console().status(escape(message)):
        yield


def _new_progress() -> Progress:
    """A transient progress display on stderr. Lines printed on stdout while it runs go above
    it when stdout is the same terminal, and straight to stdout when it is a pipe or a file."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[dim]{task.fields[label]}"), TimeElapsedColumn(),
                    console=_progress_console(), transient=True,
                    redirect_stdout=out.is_terminal, redirect_stderr=False)


@contextmanager
def _progress_bar(
    description: str, total: int, enabled: bool
) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr; yields ``step(label, total=None)``, to call before each item
    (``total`` when it is known only once the work has started)."""
    if not enabled:
        yield lambda label, total=None: None
        return
    with _new_progress() as progress:
        task = progress.add_task(description, total=total, label="")
        started = False

        def step(label: str, total: int | None = None) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, label=escape(label), total=total or None)

        yield step


@contextmanager
def _completion_bar(description: str, enabled: bool) -> Iterator[Callable[[int, int, str],
                                                                          None]]:
    """A progress bar on stderr; yields ``update(done, total, label)``, to call as each item
    finishes (in any order)."""
    if not enabled:
        yield lambda done, total, label: None
        return
    with _new_progress() as progress:
        task = progress.add_task(description, total=None, label="")

        def update(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, label=escape(label))

        yield update


def _print_table(table: Table) -> None:
    """A table fits the terminal; piped into a file or a CI log it is never squeezed."""
    if out.is_terminal:
        out.print(table)
    else:
        Console(highlight=False, width=400).print(table)


def _print_json(data: Any) -> None:
    """JSON on stdout, never coloured or wrapped (it is for machines)."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _usage_error(message: str) -> NoReturn:
    err.print(f"[bold red]error[/]: {escape(message)}")
    raise typer.Exit(EXIT_USAGE)


def _scan_one(path: Path, selector: str | None, progress: bool) -> SeriesInfo:
    """Scan ``path`` and choose one series; usage errors exit 2."""
    from dicomio.load import choose_series
    from dicomio.series import scan

    with _status(f"scanning {path}", progress):
        found, inventory = scan(path)
    if not found:
        fail(NoDicomFilesError("no DICOM image found", path=path, skipped=inventory.skipped),
             EXIT_USAGE)
    try:
        return choose_series(found, selector, path=path)
    except (MultipleSeriesError, SeriesNotFoundError) as exc:
        fail(exc, EXIT_USAGE)


def _size(series: SeriesInfo | SeriesSummary) -> str:
    return "×".join(str(n) for n in (series.rows, series.columns, series.n_slices))


def _spacing(values: Sequence[float] | None) -> str:
    return "—" if values is None else " × ".join(f"{v:.4g}" for v in values)


def _syntax_names(series: SeriesInfo | SeriesSummary) -> str:
    from dicomio.transfer_syntax import lookup

    return ", ".join(lookup(uid).name for uid in series.transfer_syntaxes)


def _series_line(series: SeriesInfo | SeriesSummary) -> str:
    number = "-" if series.number is None else series.number
    return (f"{series.key}  #{number}  {series.description or '(no description)'!r}  "
            f"{series.modality or '?'}  {_size(series)}  {_syntax_names(series)}")


# --- info ----------------------------------------------------------------------------------------

@app.command()
def info(
    path: Annotated[list[Path], typer.Argument(exists=True, help="Folder(s) or file(s).")],
    output: Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]
        = TextOrJson.text,
    quiet: Quiet = False,
    progress: ShowProgress = None,
) -> None:
    """List the series under PATH, then every skipped file with its reason.

    Exit 0 when at least one series was found, 1 when none was, 2 on usage errors.
    """
    from dicomio.describe import describe_inventory
    from dicomio.series import scan

    with _status("scanning", _progress_enabled(progress, quiet)):
        found, inventory = scan(path)
    if output is TextOrJson.json:
        _print_json(describe_inventory(found, inventory))
    else:
        _print_inventory(found, inventory, quiet)
    raise typer.Exit(EXIT_OK if found else EXIT_FINDINGS)


def _print_inventory(found: Sequence[SeriesInfo], inventory: Inventory, quiet: bool) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, justify in [("#", "right"), ("number", "right"), ("description", "left"),
                          ("mod", "left"), ("rows×cols×slices", "right"),
                          ("transfer syntax", "left"), ("spacing mm (slice, row, col)", "left"),
                          ("orientation", "left"), ("SeriesInstanceUID", "left")]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for index, series in enumerate(found):
        orientation = series.orientation_label
        if series.issues and any(i.severity != "info" for i in series.issues):
            orientation += " [yellow]" + ",".join(
                i.code for i in series.issues if i.severity != "info") + "[/]"
        table.add_row(str(index), "" if series.number is None else str(series.number),
                      escape(series.description), escape(series.modality), _size(series),
                      escape(_syntax_names(series)), _spacing(series.spacing), orientation,
                      escape(series.key))
    if found:
        _print_table(table)
    else:
        out.print("[bold red]no DICOM series found[/]")
    if inventory.skipped:
        out.print(f"skipped {len(inventory.skipped)} file(s):")
        for skipped in inventory.skipped:
            colour = "red" if skipped.category == "unreadable" else "dim"
            out.print(f"  [{colour}]{skipped.category:<13}[/] {escape(str(skipped.path))}: "
                      f"{escape(skipped.reason)}")
    elif not quiet:
        out.print("[dim]no file skipped[/]")


# --- compare -------------------------------------------------------------------------------------

def _backend_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        _usage_error("--backends needs at least one name")
    return names


@app.command()
def compare(
    path: ExistingPath,
    backends: Annotated[str | None, typer.Option(
        "--backends", "-b", help="Comma-separated backends (default: every registered one).")]
        = None,
    series: SeriesOption = None,
    reference: Annotated[str, typer.Option(
        help="Backend the others are compared with (if it fails: the first that succeeds).")]
        = "pydicom",
    raw: Annotated[bool, typer.Option("--raw", help="Compare stored values (no rescale).")]
        = False,
    tolerance: Annotated[float, typer.Option(
        min=0, help="Largest voxel difference still counted as agreement (lossy syntaxes).")]
        = 0.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds each backend may take.")]
        = 300.0,
    strict_geometry: Annotated[bool, typer.Option(
        "--strict-geometry", help="Also fail when a toolkit's own geometry differs from "
        "dicomio's.")] = False,
    output: Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]
        = TextOrJson.text,
    quiet: Quiet = False,
    progress: ShowProgress = None,
) -> None:
    """Read one series with each backend, each in its own process, and compare them.

    Exit 0 when every backend that ran succeeded and agrees with the reference, 1 on any
    disagreement or failure (a crash or a timeout included), 2 on usage or I/O errors.
    """
    from dicomio.compare import compare_series

    show = _progress_enabled(progress, quiet)
    chosen = _scan_one(path, series, show)
    names = _backend_names(backends)
    try:
        with _progress_bar("reading", len(names or default_backends()), show) as step:
            report = compare_series(chosen, names, reference=reference, rescale=not raw,
                                    tolerance=tolerance, timeout=timeout,
                                    strict_geometry=strict_geometry, on_backend=step)
    except ValueError as exc:  # an unknown backend name
        _usage_error(str(exc))
    if output is TextOrJson.json:
        _print_json(report.to_dict())
    else:
        _print_comparison(report, quiet)
    raise typer.Exit(EXIT_OK if report.agree else EXIT_FINDINGS)


_STATUS_STYLE = {"ok": "green", "failed": "bold red", "unsupported": "yellow",
                 "not installed": "dim"}


def _print_comparison(report: Comparison, quiet: bool) -> None:
    if not quiet:
        out.print(escape(_series_line(report.series)))
        for issue in report.series.issues:
            if issue.severity != "info":
                out.print(f"  [yellow]{issue.code}[/]: {escape(issue.message)}")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("backend", "status", "seconds", "dtype", "shape", "max |Δ|", "voxels ≠",
                 "affine Δ mm", "toolkit geometry Δ mm"):
        table.add_column(name, justify="left" if name in ("backend", "status") else "right")
    for row in report.results:
        style = _STATUS_STYLE[row.status]
        if row.backend == report.reference:
            label = f"{row.backend} [dim](reference)[/]"
        else:
            label = row.backend
        verdict = "" if row.status != "ok" else (
            " [green]✓[/]" if row.disagreement is None else " [bold red]✗[/]")
        toolkit = "—" if row.reported_diff_mm is None else (
            f"{row.reported_diff_mm:.3g}" if row.reported_agrees
            else f"[yellow]{row.reported_diff_mm:.3g}[/]")
        table.add_row(
            label, f"[{style}]{row.status}[/]{verdict}",
            _number(row.seconds, ".3f"), row.dtype or "—",
            "—" if row.shape is None else "×".join(map(str, row.shape)),
            _number(row.max_abs_diff, "g"), _number(row.differing_voxels, "d"),
            _number(row.affine_diff_mm, ".2g"), toolkit)
    _print_table(table)
    for row in report.results:
        if row.reason and (row.status == "failed" or not quiet):
            style = _STATUS_STYLE[row.status]
            out.print(f"[{style}]{row.backend}[/]: {escape(row.reason)}")
        if row.disagreement:
            out.print(f"[bold red]{row.backend} disagrees[/]: {escape(row.disagreement)}")
        if row.reported_agrees is False:
            out.print(f"[yellow]{row.backend}[/]: the geometry the toolkit itself reports "
                      f"moves voxels by up to {row.reported_diff_mm:.3g} mm from dicomio's "
                      f"(origin {_spacing(row.reported.origin if row.reported else None)}, "
                      f"spacing {_spacing(row.reported.spacing if row.reported else None)})")
    ran = report.ran
    if report.agree:
        count = sum(r.status == "ok" for r in ran)
        note = " (nothing to compare with)" if count == 1 else ""
        out.print(f"[bold green]agree[/]: {count} backend(s) read the series and agree with "
                  f"{report.reference}{note}")
    elif not any(r.status == "ok" for r in ran):
        out.print("[bold red]no backend could read the series[/]")
    else:
        out.print("[bold red]disagree[/]: see above")


def _number(value: float | int | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


# --- validate ------------------------------------------------------------------------------------

class ValidateFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"


Workers = Annotated[int | None, typer.Option(
    "--workers", "-j", min=1, show_default=False,
    help="Series processed side by side, each in a process of its own [default: the usable "
         "cores]; 1 works in this process. With --scheduler local: the Dask workers to start.")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Process the series on a Dask cluster: the scheduler's address (tcp://host:8786), or "
         "'local' to start one here. Needs pip install 'dicomio[dask]', on the workers too.")]
Reproducible = Annotated[bool, typer.Option(
    "--reproducible", help="Leave out timings, timestamp and host name, so that the same "
                           "files give the same report byte for byte.")]


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Folders and files.")],
    output: Annotated[ValidateFormat, typer.Option("--format", "-f", help="Output format.")]
        = ValidateFormat.text,
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", exists=True, dir_okay=False,
        help="TOML settings (default: the first dicomio.toml, or pyproject.toml with "
             "[tool.dicomio], in the folder of PATHS or above).")] = None,
    fail_on: Annotated[FailOn | None, typer.Option(
        "--fail-on", help="Exit 1 on findings of this severity or worse [default: error].")]
        = None,
    cross_check: Annotated[bool, typer.Option(
        "--cross-check", help="Read with every installed backend and compare "
        "(BACKEND_MISMATCH).")] = False,
    headers_only: Annotated[bool, typer.Option(
        "--headers-only", help="Do not decode the pixel data.")] = False,
    junit_xml: Annotated[Path | None, typer.Option(
        "--junit-xml", dir_okay=False, help="Also write the JUnit XML report to this file.")]
        = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    reproducible: Reproducible = False,
    quiet: Quiet = False,
    progress: ShowProgress = None,
) -> None:
    """Check every series under PATHS and report findings with stable codes.

    Series are checked side by side on every core (or on a Dask cluster), and reported in a
    fixed order: the report does not depend on where they ran. Exit 0 when no finding reaches
    --fail-on, 1 when one does, 2 on usage errors (a bad configuration included). The codes
    are documented in docs/findings.md.
    """
    from dicomio.cli_archive import run_validation
    from dicomio.config import ValidationConfig, find_config, load_config

    try:
        source = config or find_config(paths)
        settings = load_config(source) if source else ValidationConfig()
    except ConfigError as exc:
        fail(exc, EXIT_USAGE)
    if fail_on is not None:
        settings = settings.with_(fail_on=fail_on.value)
    if cross_check:
        settings = settings.with_(cross_check=True)
    if headers_only:
        settings = settings.with_(pixels=False)
    run_validation(paths, settings, output.value, junit_xml, workers, scheduler, reproducible,
                   quiet, _progress_enabled(progress, quiet))


# --- preview and convert -------------------------------------------------------------------------

AcceptIrregular = Annotated[bool, typer.Option(
    "--accept-irregular", help="Read irregular geometry (gaps, tilt) instead of failing.")]


def _load_for_output(
    path: Path, selector: str | None, backend: str, rescale: bool, irregular: str, show: bool
) -> Volume:
    """Load one series for ``preview``/``convert``; errors exit 1 (data) or 2 (usage)."""
    from dicomio.load import load_volume

    try:
        with _status(f"loading {path}", show):
            return load_volume(path, backend, series=selector, rescale=rescale,
                               irregular=irregular)  # type: ignore[arg-type]
    except (MultipleSeriesError, SeriesNotFoundError, NoDicomFilesError) as exc:
        fail(exc, EXIT_USAGE)
    except DicomIOError as exc:
        fail(exc)
    except ValueError as exc:  # an unknown backend name
        _usage_error(str(exc))


def _print_warnings(volume: Volume, quiet: bool) -> None:
    if quiet or volume.provenance is None:
        return
    for warning in volume.provenance.warnings:
        err.print(f"[yellow]warning[/]: {escape(warning)}")


@app.command()
def preview(
    path: ExistingPath,
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False,
                                         help="PNG file to write.")],
    series: SeriesOption = None,
    backend: Annotated[str, typer.Option(help="auto, direct, pydicom, sitk or vtk.")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    quiet: Quiet = False,
    progress: ShowProgress = None,
) -> None:
    """Draw the three orthogonal mid-planes of a series into a PNG.

    Physical aspect ratio, patient-direction labels from the affine, a CT window in HU (the
    header's, else soft tissue) or percentiles, MONOCHROME1 inverted. Needs matplotlib
    (pip install 'dicomio[plot]'). Irregular geometry is shown as read (with a warning).
    """
    from dicomio.preview import choose_window, render_preview

    if output.exists() and not force:
        _usage_error(f"{output} exists (pass --force to replace it)")
    volume = _load_for_output(path, series, backend, True, "accept",
                              _progress_enabled(progress, quiet))
    _print_warnings(volume, quiet)
    try:
        written = render_preview(volume, output)
    except ImportError as exc:
        _usage_error(str(exc))
    except OSError as exc:
        _usage_error(f"cannot write {output}: {exc.strerror or exc}")
    if not quiet:
        out.print(f"wrote {escape(str(written))} ({choose_window(volume).source})")


class ConvertFormat(str, Enum):
    nifti = "nifti"
    nrrd = "nrrd"
    npz = "npz"


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
    as_json: Annotated[bool, typer.Option(
        "--json", help="Into a folder: print the report as JSON.")] = False,
    reproducible: Reproducible = False,
    quiet: Quiet = False,
    progress: ShowProgress = None,
) -> None:
    """Write one series as NIfTI, NRRD or NumPy .npz, with its orientation; or every series
    under PATHS into the folder OUTPUT, side by side on every core (or on a Dask cluster).

    Files appear whole or not at all (written beside the target, then renamed). Exit 0 when
    everything was written, 1 when a series cannot be read as a volume (or a file could not be
    read), 2 on usage or I/O errors.
    """
    from dicomio.writers import format_of, write_volume

    show = _progress_enabled(progress, quiet)
    if output.is_dir() or not output.suffix:
        from dicomio.cli_archive import run_conversion

        if series is not None:
            _usage_error("--series picks the series of a single file; into a folder every "
                         "series is written")
        run_conversion(paths, output, to.value if to is not None else "nifti", backend,
                       not raw, "accept" if accept_irregular else "raise", force, workers,
                       scheduler, as_json, reproducible, quiet, show)
    archive_only = {"--workers": workers is not None, "--scheduler": scheduler is not None,
                    "--json": as_json, "--reproducible": reproducible}
    for option in (name for name, given in archive_only.items() if given):
        _usage_error(f"{option} applies when OUTPUT is a folder")
    if len(paths) != 1:
        _usage_error("one file holds one series: give a single PATH, or a folder as OUTPUT")
    try:
        chosen = to.value if to is not None else format_of(output)
    except ValueError as exc:
        _usage_error(str(exc))
    if output.exists() and not force:  # before the (possibly long) load
        _usage_error(f"{output} exists (pass --force to replace it)")
    volume = _load_for_output(paths[0], series, backend, not raw,
                              "accept" if accept_irregular else "raise", show)
    _print_warnings(volume, quiet)
    try:
        written = write_volume(volume, output, format=chosen,
                               overwrite=force)
    except (ImportError, ValueError) as exc:
        _usage_error(str(exc))
    except OSError as exc:
        _usage_error(f"cannot write {output}: {exc.strerror or exc}")
    if not quiet:
        shape = "×".join(str(n) for n in volume.shape)
        out.print(f"wrote {escape(str(written))} ({chosen}, {shape} {volume.dtype}, spacing "
                  f"{_spacing(volume.spacing)} mm)")


@app.command()
def sample(
    folder: Annotated[Path, typer.Argument(help="Folder to write the series into.")],
    slices: Annotated[int, typer.Option(help="Number of slices.")] = 40,
    size: Annotated[int, typer.Option(help="Rows (columns are 3/4 of it).")] = 128,
    syntax: Annotated[str, typer.Option(
        help="Transfer syntax UID (compressed ones need the 'test' extra's encoders).")]
        = "1.2.840.10008.1.2.1",
) -> None:
    """Write a synthetic axial CT series to FOLDER, files named by UID (name order is wrong).

    The same options write the same files again (fixed UIDs), so running it twice is harmless.
    """
    from dicomio.synthetic import SeriesSpec, write_series

    spec = SeriesSpec(shape=(slices, size, size * 3 // 4), pixel_spacing=(0.7, 0.9),
                      slice_spacing=1.25, transfer_syntax=syntax,
                      uid_seed=f"dicomio sample {slices} {size} {syntax}")
    written = write_series(folder, spec, naming="uid")
    out.print(f"wrote {len(written.files)} slices of {spec.shape[1]}x{spec.shape[2]} to {folder}")


@app.command()
def load(
    path: Annotated[list[Path], typer.Argument(help="Folder(s) or file(s).")],
    backend: Annotated[str, typer.Option(help="auto, direct, pydicom, sitk or vtk.")] = "auto",
    series: Annotated[str | None, typer.Option(help="Series index or SeriesInstanceUID.")]
        = None,
    raw: Annotated[bool, typer.Option("--raw", help="Stored values (no rescale).")] = False,
    accept_irregular: Annotated[bool, typer.Option(
        "--accept-irregular", help="Load irregular geometry instead of failing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Load one series and print what dicomio returns: shape, dtype, geometry, provenance."""
    from dicomio.load import load_volume

    missing = [p for p in path if not p.exists()]
    if missing:
        fail(NoDicomFilesError("no such file or folder", path=missing[0]), EXIT_USAGE)
    try:
        volume = load_volume(path, backend, series=series, rescale=not raw,
                             irregular="accept" if accept_irregular else "raise")
    except (MultipleSeriesError, SeriesNotFoundError) as exc:
        fail(exc, EXIT_USAGE)
    except DicomIOError as exc:
        fail(exc)
    except ValueError as exc:  # an unknown backend name
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    summary = volume_summary(volume)
    if as_json:
        out.print_json(json.dumps(summary))
        return
    for key, value in summary.items():
        if key == "warnings":
            for warning in value:
                out.print(f"[yellow]warning[/]: {warning}")
        else:
            out.print(f"{key:>18}: {value}")


def volume_summary(volume: Any) -> dict[str, Any]:
    """A JSON-able description of a Volume."""
    provenance = volume.provenance
    return {
        "shape": list(volume.shape),
        "dtype": str(volume.dtype),
        "spacing": [round(v, 6) for v in volume.spacing],
        "origin": [round(v, 6) for v in volume.origin],
        "direction": [[round(float(v), 6) for v in row] for row in volume.direction],
        "min": float(volume.array.min()),
        "max": float(volume.array.max()),
        "series": provenance.series_uid,
        "backend": provenance.backend,
        "decoders": list(provenance.decoders),
        "transfer_syntaxes": list(provenance.transfer_syntaxes),
        "files": len(provenance.files),
        "warnings": list(provenance.warnings),
    }


@app.command("backends")
def backends_command(
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """List every backend (installed or not), what it decodes, and the installed decoders."""
    from dicomio.backends import describe_backends
    from dicomio.decode import decodable_syntaxes

    if output not in ("text", "json"):
        err.print(f"error: --format must be text or json, not {output!r}")
        raise typer.Exit(EXIT_USAGE)
    infos = describe_backends()
    decoders = decodable_syntaxes()
    if output == "json":
        out.print_json(json.dumps({
            "backends": [dataclasses.asdict(info) for info in infos],
            "decoders": decoders,
        }))
        return
    _print_backends(infos, decoders)


def _print_backends(infos: list[Any], decoders: dict[str, list[str]]) -> None:
    """Two tables: the backends, then which of them decodes each transfer syntax."""
    from rich.markup import escape
    from rich.table import Table

    from dicomio.transfer_syntax import TRANSFER_SYNTAXES

    table = Table(title="Backends (auto tries them in this order)", title_justify="left")
    for column in ("backend", "installed", "version", "install", "reads with"):
        table.add_column(column, overflow="fold")
    for info in sorted(infos, key=lambda i: i.auto_rank or len(infos) + 1):
        table.add_row(info.name, "yes" if info.installed else "[red]no[/]", info.version or "-",
                      escape(info.install) if info.extra else "included", escape(info.summary))
    out.print(table)

    syntaxes = Table(title="Transfer syntaxes each backend decodes", title_justify="left")
    syntaxes.add_column("transfer syntax", overflow="fold")
    for info in infos:
        syntaxes.add_column(info.name, justify="center")
    syntaxes.add_column("installed decoders", overflow="fold")
    for uid, syntax in TRANSFER_SYNTAXES.items():
        if not syntax.supported:
            continue
        marks = ["yes" if uid in info.transfer_syntaxes else "-" for info in infos]
        used = decoders.get(uid)
        shown = "native" if used == [] else ", ".join(used) if used else "[red]none[/]"
        syntaxes.add_row(f"{syntax.name} ({uid})", *marks, shown)
    out.print(syntaxes)


def main() -> None:
    """Entry point of the ``dicomio`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
