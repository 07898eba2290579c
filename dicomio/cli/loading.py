"""Loading one volume for the commands that output it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from dicomio.cli.console import EXIT_USAGE, _status, _usage_error, err, fail
from dicomio.errors import (
    DicomIOError,
    MultipleSeriesError,
    NoDicomFilesError,
    SeriesNotFoundError,
)

if TYPE_CHECKING:
    from dicomio.volume import Volume


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
