"""The Typer application that every command module registers its command on, and --version.

Help is plain text (``rich_markup_mode=None``): rich markup would swallow every ``[...]`` of the
help strings (the ``[plot]`` of a pip command, ``[tool.dicomio]``, ``[default: ...]``), and
escaping each string by hand is a rule every new option would have to remember.
"""

from typing import Annotated

import typer

from dicomio._version import __version__
from dicomio.cli.console import EXIT_OK, out

__all__ = ["app"]

app = typer.Typer(
    name="dicomio",
    help="DICOM series to NumPy volumes you can trust: load, compare backends, validate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"dicomio {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """DICOM series to NumPy volumes you can trust."""
