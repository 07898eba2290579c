"""The options and arguments of the commands, as annotated types and choices."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dicomio.extras import pip_install

__all__ = ["AcceptIrregular", "ConvertFormat", "ExistingPath", "FailOn", "Quiet", "Reproducible",
           "Scheduler", "SeriesOption", "SeriesTimeout", "ShowProgress", "TextOrJson",
           "ValidateFormat", "WorkerMemory", "Workers"]


class TextOrJson(str, Enum):
    """``--format`` of the commands that print text or JSON."""

    text = "text"
    json = "json"


Quiet = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print only the result: no progress, no notes.")]


ShowProgress = Annotated[bool | None, typer.Option(
    "--progress/--no-progress", show_default=False,
    help="Show progress on stderr (default: only when stderr is a terminal).")]


SeriesOption = Annotated[str | None, typer.Option(
    "--series", "-s", help="Series index (see `dicomio info`) or SeriesInstanceUID.")]


ExistingPath = Annotated[Path, typer.Argument(exists=True, help="Folder or file.")]


class ValidateFormat(str, Enum):
    """``dicomio validate --format``."""

    text = "text"
    json = "json"
    junit = "junit"


class FailOn(str, Enum):
    """``dicomio validate --fail-on``: the least severe finding that fails."""

    error = "error"
    warning = "warning"


Workers = Annotated[int | None, typer.Option(
    "--workers", "-j", min=1, show_default=False,
    help="Series processed side by side, each in a process of its own [default: the usable "
         "cores]; 1 works in this process. With --scheduler local: the Dask workers to start.")]


Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Process the series on a Dask cluster: the scheduler's address (tcp://host:8786), or "
         f"'local' to start one here. Needs {pip_install('dask')}, on the workers too.")]


SeriesTimeout = Annotated[float | None, typer.Option(
    "--series-timeout", metavar="SECONDS", min=0, show_default=False,
    help="Give up a series still running after this long: it is reported (OVER_BUDGET) and the "
         "others go on [default: 600]. 0: no limit.")]


WorkerMemory = Annotated[int | None, typer.Option(
    "--worker-memory", metavar="MiB", min=0, show_default=False,
    help="Memory each worker process may use; a series needing more is reported "
         "(OVER_BUDGET) and the others go on [default: the machine's memory shared among the "
         "workers, at least 2048]. 0: no ceiling. Not in this process (--workers 1), nor on a "
         "running Dask cluster (it has its own).")]


Reproducible = Annotated[bool, typer.Option(
    "--reproducible", help="Leave out timings, timestamp and host name, so that the same "
                           "files give the same report byte for byte.")]


AcceptIrregular = Annotated[bool, typer.Option(
    "--accept-irregular", help="Read irregular geometry (gaps, tilt) instead of failing.")]


class ConvertFormat(str, Enum):
    """``dicomio convert --to``."""

    nifti = "nifti"
    nrrd = "nrrd"
    npz = "npz"
