"""``dicomio sample``: write a synthetic series to try dicomio on."""

from pathlib import Path
from typing import Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import exit_on_error, out, shown, usage_error
from dicomio.dicom.transfer_syntax import EXPLICIT_VR_LITTLE_ENDIAN
from dicomio.extras import pip_install

__all__ = ["sample"]


@app.command()
def sample(
    folder: Annotated[Path, typer.Argument(help="Folder to write the series into.")],
    slices: Annotated[int, typer.Option(min=1, help="Number of slices.")] = 40,
    size: Annotated[int, typer.Option(
        min=2, max=65535, help="Rows (columns are 3/4 of it).")] = 128,
    syntax: Annotated[str, typer.Option(
        help="Transfer syntax UID (compressed ones need the 'test' extra's encoders).")]
        = EXPLICIT_VR_LITTLE_ENDIAN,
) -> None:
    """Write a synthetic axial CT series to FOLDER, files named by UID (name order is wrong).

    The same options write the same files again (fixed UIDs), so running it twice is harmless.
    """
    from dicomio.testing.synthetic import (
        ENCODABLE_SYNTAXES,
        SeriesSpec,
        missing_encoder,
        write_series,
    )

    problem = missing_encoder(syntax)
    if problem is not None:  # before anything is written
        usage_error(f"--syntax {problem}" if syntax not in ENCODABLE_SYNTAXES else
                    f"--syntax {syntax}: {problem} ({pip_install('test')} installs every "
                    f"encoder)")
    if folder.exists() and not folder.is_dir():
        usage_error(f"{folder} is not a folder: give a folder to write the series into")
    spec = SeriesSpec(shape=(slices, size, size * 3 // 4), pixel_spacing=(0.7, 0.9),
                      slice_spacing=1.25, transfer_syntax=syntax,
                      uid_seed=f"dicomio sample {slices} {size} {syntax}")
    with exit_on_error():  # a folder that cannot be created or written: exit 2
        written = write_series(folder, spec, naming="uid")
    out.print(f"wrote {len(written.files)} slices of {spec.shape[1]}x{spec.shape[2]} to "
              f"{shown(folder)}")
