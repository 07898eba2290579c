"""``dicomio preview``: a picture of the three mid-planes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import out, progress_enabled, shown, usage_error
from dicomio.cli.loading import FollowSymlinks, load_for_output, print_warnings
from dicomio.cli.options import ExistingPath, Quiet, SeriesOption, ShowProgress
from dicomio.extras import pip_install
from dicomio.io.preview import PREVIEW_FORMATS, choose_window, preview_format, render_preview

__all__ = ["preview"]


_HELP = f"""Draw the three orthogonal mid-planes of a series into an image (PNG, JPEG, TIFF,
WebP, PDF or SVG, as the ending of --output says).

Physical aspect ratio, patient-direction labels from the affine, a CT window in HU (the header's,
else soft tissue) or percentiles, MONOCHROME1 inverted. Needs matplotlib ({pip_install('plot')}).
Irregular geometry is shown as read (with a warning).
"""


@app.command(help=_HELP)
def preview(
    path: ExistingPath,
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False,
                                         help="Image to write: "
                                              f"{', '.join(PREVIEW_FORMATS)}.")],
    series: SeriesOption = None,
    backend: Annotated[str, typer.Option(help="auto, direct, pydicom, sitk or vtk.")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    quiet: Quiet = False,
    progress: ShowProgress = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """``dicomio preview``: the help says what it does (it names how to install matplotlib,
    which depends on where dicomio was installed from)."""
    try:  # before the (possibly long) load
        preview_format(output)
    except ValueError as exc:
        usage_error(f"--output: {exc}")
    if output.exists() and not force:
        usage_error(f"{output} exists (pass --force to replace it)")
    volume = load_for_output(path, series, backend, True, "accept",
                             progress_enabled(progress, quiet), follow_symlinks)
    print_warnings(volume, quiet)
    window = choose_window(volume)
    try:
        written = render_preview(volume, output, window=window)
    except ImportError as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot write {output}: {exc.strerror or exc}")
    if not quiet:
        out.print(f"wrote {shown(written)} ({shown(window.source)})")
