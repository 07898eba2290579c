"""The ``dicomio`` command line: formatting and exit codes only; the logic lives in the library.

Exit codes (as dcm2niix and pytest do): 0 success, 1 the data has a problem (a finding, a
disagreement, a read error), 2 usage or I/O error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

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

from . import __version__
from .compare import default_backends
from .errors import DicomIOError, MultipleSeriesError, NoDicomFilesError, SeriesNotFoundError

if TYPE_CHECKING:
    from .compare import Comparison
    from .series import Inventory, SeriesInfo

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
ShowProgress = Annotated[Optional[bool], typer.Option(  # noqa: UP045 (typer reads Optional)
    "--progress/--no-progress", show_default=False,
    help="Show progress on stderr (default: only when stderr is a terminal).")]
SeriesOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--series", "-s", help="Series index (see `dicomio info`) or SeriesInstanceUID.")]
ExistingPath = Annotated[Path, typer.Argument(exists=True, help="Folder or file.")]


def _progress_enabled(flag: bool | None, quiet: bool) -> bool:
    if quiet:
        return False
    return err.is_terminal if flag is None else flag


@contextmanager
def _status(message: str, enabled: bool) -> Iterator[None]:
    """A spinner on stderr while something without measurable progress runs."""
    if not enabled:
        yield
        return
    with err.status(escape(message)):
        yield


@contextmanager
def _progress_bar(
    description: str, total: int, enabled: bool
) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr; yields ``step(label)``, to call before each item."""
    if not enabled:
        yield lambda label: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("[dim]{task.fields[label]}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task(description, total=total, label="")
        started = False

        def step(label: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, label=escape(label))

        yield step


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
    from .load import choose_series
    from .series import scan

    with _status(f"scanning {path}", progress):
        found, inventory = scan(path)
    if not found:
        fail(NoDicomFilesError("no DICOM image found", path=path, skipped=inventory.skipped),
             EXIT_USAGE)
    try:
        return choose_series(found, selector, path=path)
    except (MultipleSeriesError, SeriesNotFoundError) as exc:
        fail(exc, EXIT_USAGE)


def _size(series: SeriesInfo) -> str:
    return "×".join(str(n) for n in (series.rows, series.columns, series.n_slices))


def _spacing(values: Sequence[float] | None) -> str:
    return "—" if values is None else " × ".join(f"{v:.4g}" for v in values)


def _syntax_names(series: SeriesInfo) -> str:
    from .transfer_syntax import lookup

    return ", ".join(lookup(uid).name for uid in series.transfer_syntaxes)


def _series_line(series: SeriesInfo) -> str:
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
    from .describe import describe_inventory
    from .series import scan

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
    backends: Annotated[Optional[str], typer.Option(  # noqa: UP045
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
    from .compare import compare_series

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


@app.command()
def sample(
    folder: Annotated[Path, typer.Argument(help="Folder to write the series into.")],
    slices: Annotated[int, typer.Option(help="Number of slices.")] = 40,
    size: Annotated[int, typer.Option(help="Rows (columns are 3/4 of it).")] = 128,
    syntax: Annotated[str, typer.Option(
        help="Transfer syntax UID (compressed ones need the 'test' extra's encoders).")]
        = "1.2.840.10008.1.2.1",
) -> None:
    """Write a synthetic CT series (shuffled file names, oblique-free axial stack) to FOLDER."""
    from .synthetic import SeriesSpec, write_series

    spec = SeriesSpec(shape=(slices, size, size * 3 // 4), pixel_spacing=(0.7, 0.9),
                      slice_spacing=1.25, transfer_syntax=syntax)
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
    from .load import load_volume

    try:
        volume = load_volume(path, backend, series=series, rescale=not raw,
                             irregular="accept" if accept_irregular else "raise")
    except DicomIOError as exc:
        fail(exc)
        return
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


def main() -> None:
    """Entry point of the ``dicomio`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
