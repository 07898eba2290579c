"""Loading the one volume that ``load``, ``preview`` and ``convert`` output."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dicomio.cli.console import err, exit_on_error, shown, status

if TYPE_CHECKING:
    from dicomio.read import Irregular
    from dicomio.volume import Volume

__all__ = ["FollowSymlinks", "load_for_output", "print_warnings"]

#: ``--follow-symlinks`` of the commands that scan folders.
FollowSymlinks = Annotated[bool, typer.Option(
    "--follow-symlinks", help="Follow symbolic links that lead out of the given folders (by "
                              "default they are skipped, and listed with the skipped files).")]


def load_for_output(
    path: Path | Sequence[Path], selector: str | None, backend: str, rescale: bool,
    irregular: Irregular, show: bool, follow_symlinks: bool = False,
) -> Volume:
    """Load one series as :func:`dicomio.load_volume` does, or end the command.

    Parameters
    ----------
    path
        Folder(s) or file(s).
    selector
        ``--series``: index or UID, or None for the only series.
    backend, rescale, irregular
        As for :func:`dicomio.load_volume`.
    show
        Show a spinner on stderr while loading.
    follow_symlinks
        ``--follow-symlinks``: follow links out of the given folders.

    Returns
    -------
    Volume
        The volume; on an error the command exits as :func:`~dicomio.cli.console.exit_on_error`
        says (1 for a problem of the data, such as an unreadable file; 2 for a usage error).
    """
    from dicomio.load import load_volume

    with exit_on_error(), status(f"loading {_shown(path)}", show):
        return load_volume(path, backend, series=selector, rescale=rescale, irregular=irregular,
                           follow_symlinks=follow_symlinks)


def print_warnings(volume: Volume, quiet: bool) -> None:
    """Print the warnings recorded while loading ``volume`` on stderr (unless ``quiet``)."""
    if quiet or volume.provenance is None:
        return
    for warning in volume.provenance.warnings:
        err.print(f"[yellow]warning[/]: {shown(warning)}")


def _shown(path: Path | Sequence[Path]) -> str:
    if isinstance(path, Path):
        return str(path)
    return ", ".join(str(p) for p in path)
