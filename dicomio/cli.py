"""The ``dicomio`` command line: formatting and exit codes only; the logic lives in the library.

Exit codes (as dcm2niix and pytest do): 0 success, 1 the data has a problem (a finding, a
disagreement, a read error), 2 usage or I/O error.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from . import __version__
from .errors import DicomIOError

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


def fail(error: DicomIOError, code: int = EXIT_FINDINGS) -> None:
    """Print a dicomio error on stderr and exit with ``code``."""
    err.print(f"[bold red]error[/]: {type(error).__name__}: {error}", markup=True,
              highlight=False)
    raise typer.Exit(code)


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
    from .synthetic import SeriesSpec, write_series

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


@app.command("backends")
def backends_command(
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """List every backend (installed or not), what it decodes, and the installed decoders."""
    from .backends import describe_backends
    from .decode import decodable_syntaxes

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

    from .transfer_syntax import TRANSFER_SYNTAXES

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
