"""``dicomio load``: load one volume and describe it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dicomio.cli.app import app
from dicomio.cli.console import exit_on_error, out, print_json, shown
from dicomio.cli.formatting import format_shape
from dicomio.cli.loading import FollowSymlinks, load_for_output

if TYPE_CHECKING:
    from dicomio.volume import Volume

__all__ = ["load"]


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
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Load one series and print what dicomio returns: shape, dtype, geometry, provenance."""
    volume = load_for_output(path, series, backend, not raw,
                             "accept" if accept_irregular else "raise", show=False,
                             follow_symlinks=follow_symlinks)
    with exit_on_error():
        summary = _summary(volume)
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        if key == "warnings":
            for warning in value:
                out.print(f"[yellow]warning[/]: {shown(warning)}")
        elif key == "shape":  # as every command prints a shape
            out.print(f"{key:>18}: {format_shape(value)}")
        else:
            out.print(f"{key:>18}: {shown(value)}")


def _summary(volume: Volume) -> dict[str, Any]:
    """What ``load`` prints: a JSON-able description of ``volume``."""
    provenance = volume.provenance
    assert provenance is not None  # load_volume always records it
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
