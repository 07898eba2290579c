"""``dicomio load``: load one volume and describe it."""

from pathlib import Path
from typing import Annotated, Any

import typer

from dicomio.cli.app import app
from dicomio.cli.console import exit_on_error, out, print_json, shown
from dicomio.cli.formatting import format_shape
from dicomio.cli.loading import (
    FollowSymlinks,
    Loaded,
    LoadOptions,
    irregular_policy,
    load_for_output,
    scaling_policy,
)
from dicomio.cli.options import (
    AcceptIrregular,
    IgnoreUnreadable,
    IrregularOption,
    ScalingChoice,
    ScalingOption,
    SeriesOption,
)
from dicomio.cli.web import takes_dicomweb
from dicomio.volume import Volume, Volume4D

__all__ = ["load"]


@app.command()
@takes_dicomweb
def load(
    path: Annotated[list[Path], typer.Argument(help="Folder(s) or file(s).")],
    backend: Annotated[str, typer.Option(help="auto, direct, pydicom, sitk or vtk.")] = "auto",
    series: SeriesOption = None,
    raw: Annotated[bool, typer.Option("--raw", help="Stored values (no rescale).")] = False,
    irregular: IrregularOption = None,
    accept_irregular: AcceptIrregular = False,
    ignore_unreadable: IgnoreUnreadable = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    follow_symlinks: FollowSymlinks = False,
    scaling: ScalingOption = ScalingChoice.modality,
) -> None:
    """Load one series and print what dicomio returns: shape, dtype, geometry, provenance
    (a 4-D series as load_4d returns it: volumes × slices × rows × columns)."""
    options = LoadOptions(series, backend, not raw, irregular_policy(irregular, accept_irregular),
                          ignore_unreadable, follow_symlinks, scaling_policy(scaling, raw))
    loaded = load_for_output(path, options, show=False)
    with exit_on_error():
        summary = _summary(loaded)
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        if key == "warnings":
            for warning in value:
                out.print(f"[yellow]warning[/]: {shown(warning)}")
        elif key == "shape":  # as every command prints a shape
            out.print(f"{key:>18}: {format_shape(value)}")
        elif key == "volume_keys":
            continue
        else:
            out.print(f"{key:>18}: {shown(value)}")


def _summary(loaded: Loaded | Volume | Volume4D) -> dict[str, Any]:
    """What ``load`` prints: a JSON-able description of the volume loaded."""
    volume = loaded.volume if isinstance(loaded, Loaded) else loaded
    provenance = volume.provenance
    assert provenance is not None  # load_volume and load_4d always record it
    summary: dict[str, Any] = {"shape": list(volume.shape), "dtype": str(volume.dtype)}
    if isinstance(volume, Volume4D):
        summary.update(volumes=len(volume), order=volume.order_rule,
                       volume_keys=[str(k) for k in volume.volume_keys])
    extra = list(loaded.warnings) if isinstance(loaded, Loaded) else []
    return summary | {
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
        "warnings": extra + [w for w in provenance.warnings if w not in extra],
    }
