"""``dicomio load``: load one volume and describe it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import EXIT_USAGE, err, fail, out
from dicomio.cli.loading import volume_summary
from dicomio.errors import (
    DicomIOError,
    MultipleSeriesError,
    NoDicomFilesError,
    SeriesNotFoundError,
)

if TYPE_CHECKING:
    pass


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
