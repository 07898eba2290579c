"""The one load path of ``load``, ``preview``, ``convert`` and ``compare``: the same options
(``--series``, ``--irregular``, ``--ignore-unreadable``, ``--follow-symlinks``), the same
choice of series, and a 4-D series loaded as 4-D (:func:`dicomio.load_4d`) wherever the
library would refuse it as a single volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dicomio.cli.console import err, exit_on_error, shown, status, usage_error
from dicomio.cli.options import IrregularChoice, ScalingChoice

if TYPE_CHECKING:
    from dicomio.io.writers import Format
    from dicomio.load import Scaling
    from dicomio.read import Irregular
    from dicomio.series.info import SeriesInfo
    from dicomio.series.layout import SeriesLayout
    from dicomio.volume import Volume, Volume4D

__all__ = ["FollowSymlinks", "LoadOptions", "Loaded", "choose", "irregular_policy",
           "load_for_output", "print_warnings", "scaling_policy"]

#: ``--follow-symlinks`` of the commands that scan folders.
FollowSymlinks = Annotated[bool, typer.Option(
    "--follow-symlinks", help="Follow symbolic links that lead out of the given folders (by "
                              "default they are skipped, and listed with the skipped files).")]


@dataclass(frozen=True)
class LoadOptions:
    """What the loading options of a command say.

    Attributes
    ----------
    series
        ``--series``: index, SeriesInstanceUID or ``uid#stack``; None for the only series.
    backend, rescale, irregular, ignore_unreadable, follow_symlinks, scaling
        As for :func:`dicomio.load_volume` (``--backend``, not ``--raw``, ``--irregular``,
        ``--ignore-unreadable``, ``--follow-symlinks``, ``--scaling``).
    """

    series: str | None = None
    backend: str = "auto"
    rescale: bool = True
    irregular: Irregular = "raise"
    ignore_unreadable: bool = False
    follow_symlinks: bool = False
    scaling: Scaling = "modality"


@dataclass(frozen=True)
class Loaded:
    """A series as a command loaded it.

    Attributes
    ----------
    series
        The series chosen.
    layout
        What it is (one volume, 4-D...), as the library lays it out.
    volume
        A :class:`~dicomio.Volume`, or a :class:`~dicomio.Volume4D` for a 4-D series.
    warnings
        Noticed while choosing it (unreadable files skipped with ``--ignore-unreadable``).
    scaling
        Read to be written as NIfTI: the (slope, intercept) of the stored values read, for
        scl_slope and scl_inter (:func:`dicomio.io.series_output.read_for_output`); else None.
    values
        Which values the volume holds, or ``scaling`` gives: ``"modality"`` or
        ``"philips_precise"`` (``--scaling``; ``"modality"`` with ``--raw``).
    """

    series: SeriesInfo
    layout: SeriesLayout
    volume: Volume | Volume4D
    warnings: tuple[str, ...] = ()
    scaling: tuple[float, float] | None = None
    values: Scaling = "modality"

    @property
    def is_4d(self) -> bool:
        """Whether the series was loaded as volumes of the same slices."""
        return self.layout.kind == "4d"


def irregular_policy(irregular: IrregularChoice | None, accept_irregular: bool,
                     default: Irregular = "raise") -> Irregular:
    """The geometry policy of ``--irregular`` (and its older spelling ``--accept-irregular``);
    the two contradicting each other is a usage error."""
    if accept_irregular:
        if irregular not in (None, IrregularChoice.accept):
            usage_error(f"--accept-irregular is --irregular accept; it contradicts "
                        f"--irregular {irregular.value}")
        return "accept"
    return default if irregular is None else irregular.value


def scaling_policy(scaling: ScalingChoice, raw: bool) -> Scaling:
    """The values ``--scaling`` asks for; with ``--raw`` (stored values, no rescale) only the
    default makes sense, anything else is a usage error."""
    if raw and scaling is not ScalingChoice.modality:
        usage_error(f"--scaling {scaling.value} chooses rescaled values; --raw gives the stored "
                    f"ones")
    return scaling.value


def choose(path: Path | Sequence[Path], options: LoadOptions) -> tuple[SeriesInfo, list[str]]:
    """The series ``--series`` names under ``path`` (no pixels read), and the warnings of
    choosing it; the library's errors end the command (:func:`exit_on_error`)."""
    from dicomio.series.choose import select_series

    with exit_on_error():
        return select_series(path, options.series, ignore_unreadable=options.ignore_unreadable,
                             follow_symlinks=options.follow_symlinks)


def load_for_output(path: Path | Sequence[Path], options: LoadOptions, show: bool,
                    format: Format | None = None) -> Loaded:
    """Choose one series and load it: with :func:`dicomio.load_4d` when it holds several
    volumes of the same slices, else with :func:`dicomio.load_volume`; or end the command.

    Parameters
    ----------
    path
        Folder(s) or file(s).
    options
        The command's loading options.
    show
        Show a spinner on stderr while loading.
    format
        Read to write it as this format (``convert``), as
        :func:`~dicomio.io.series_output.read_for_output` reads it.

    Returns
    -------
    Loaded
        The series, its layout and its volume; on an error the command exits as
        :func:`~dicomio.cli.console.exit_on_error` says (1 for a problem of the data, such as
        an unreadable file; 2 for a usage error).
    """
    from dicomio.io.series_output import read_for_output

    with status(f"loading {_shown(path)}", show):
        chosen, warnings = choose(path, options)
        with exit_on_error():
            read = read_for_output(chosen, format, backend=options.backend,
                                   rescale=options.rescale, irregular=options.irregular,
                                   ignore_unreadable=options.ignore_unreadable,
                                   scaling=options.scaling)
    extra = tuple(w for w in warnings if w not in set(chosen.warnings))
    return Loaded(chosen, read.layout, read.volume, extra, read.scaling, read.values)


def print_warnings(loaded: Loaded | Volume | Volume4D, quiet: bool) -> None:
    """Print the warnings recorded while loading on stderr (unless ``quiet``)."""
    if quiet:
        return
    volume = loaded.volume if isinstance(loaded, Loaded) else loaded
    found = list(loaded.warnings) if isinstance(loaded, Loaded) else []
    if volume.provenance is not None:
        found += [w for w in volume.provenance.warnings if w not in found]
    for warning in found:
        err.print(f"[yellow]warning[/]: {shown(warning)}")


def _shown(path: Path | Sequence[Path]) -> str:
    if isinstance(path, Path):
        return str(path)
    return ", ".join(str(p) for p in path)
