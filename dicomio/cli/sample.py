"""``dicomio sample``: write a synthetic series to try dicomio on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import out, shown
from dicomio.dicom.transfer_syntax import EXPLICIT_VR_LITTLE_ENDIAN

__all__ = ["sample"]


@app.command()
def sample(
    folder: Annotated[Path, typer.Argument(help="Folder to write the series into.")],
    slices: Annotated[int, typer.Option(help="Number of slices.")] = 40,
    size: Annotated[int, typer.Option(help="Rows (columns are 3/4 of it).")] = 128,
    syntax: Annotated[str, typer.Option(
        help="Transfer syntax UID (compressed ones need the 'test' extra's encoders).")]
        = EXPLICIT_VR_LITTLE_ENDIAN,
) -> None:
    """Write a synthetic axial CT series to FOLDER, files named by UID (name order is wrong).

    The same options write the same files again (fixed UIDs), so running it twice is harmless.
    """
    from dicomio.testing.synthetic import SeriesSpec, write_series

    spec = SeriesSpec(shape=(slices, size, size * 3 // 4), pixel_spacing=(0.7, 0.9),
                      slice_spacing=1.25, transfer_syntax=syntax,
                      uid_seed=f"dicomio sample {slices} {size} {syntax}")
    written = write_series(folder, spec, naming="uid")
    out.print(f"wrote {len(written.files)} slices of {spec.shape[1]}x{spec.shape[2]} to "
              f"{shown(folder)}")
