"""``dicomio preview``: a picture of the three mid-planes."""

from pathlib import Path
from typing import Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import out, progress_enabled, shown, usage_error
from dicomio.cli.loading import (
    FollowSymlinks,
    Loaded,
    LoadOptions,
    irregular_policy,
    load_for_output,
    print_warnings,
)
from dicomio.cli.options import (
    ExistingPath,
    IgnoreUnreadable,
    IrregularOption,
    Quiet,
    SeriesOption,
    ShowProgress,
    VolumeOption,
)
from dicomio.cli.web import takes_dicomweb
from dicomio.io.preview import PREVIEW_FORMATS, choose_window, preview_format, render_preview
from dicomio.volume import Volume, Volume4D

__all__ = ["preview"]


_HELP = """Draw the three orthogonal mid-planes of a series into an image (PNG, JPEG, TIFF,
WebP, PDF or SVG, as the ending of --output says).

Physical aspect ratio, patient-direction labels from the affine, a CT window in HU (the header's,
else soft tissue) or percentiles, MONOCHROME1 inverted. Needs matplotlib
(the extra dicomio[plot]). Irregular geometry is shown as read (with a warning) unless
--irregular says otherwise. Of a 4-D series (fMRI, diffusion) one volume is drawn: --volume N,
by default the first.
"""


@app.command(help=_HELP)
@takes_dicomweb
def preview(
    path: ExistingPath,
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False,
                                         help="Image to write: "
                                              f"{', '.join(PREVIEW_FORMATS)}.")],
    series: SeriesOption = None,
    backend: Annotated[str, typer.Option(help="auto, direct, pydicom, sitk or vtk.")] = "auto",
    volume: VolumeOption = None,
    irregular: IrregularOption = None,
    ignore_unreadable: IgnoreUnreadable = False,
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
    options = LoadOptions(series, backend, True, irregular_policy(irregular, False, "accept"),
                          ignore_unreadable, follow_symlinks)
    loaded = load_for_output(path, options, progress_enabled(progress, quiet))
    print_warnings(loaded, quiet)
    drawn, which = _one_volume(loaded, volume)
    window = choose_window(drawn)
    try:
        written = render_preview(drawn, output, window=window)
    except ImportError as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot write {output}: {exc.strerror or exc}")
    if not quiet:
        out.print(f"wrote {shown(written)} ({shown(window.source)}{which})")


def _one_volume(loaded: Loaded, number: int | None) -> tuple[Volume, str]:
    """The volume ``--volume`` names (of a 4-D series; the first by default), and how the
    message says which it is; ``--volume`` beyond the series is a usage error."""
    if not isinstance(loaded.volume, Volume4D):
        if number not in (None, 0):
            usage_error(f"--volume {number}: the series is one volume (--volume 0, or leave "
                        f"it out)")
        return loaded.volume, ""
    count = len(loaded.volume)
    chosen = 0 if number is None else number
    if chosen >= count:
        usage_error(f"--volume {chosen}: the series has {count} volumes (0 to {count - 1})")
    return loaded.volume[chosen], f"; volume {chosen} of {count}"
