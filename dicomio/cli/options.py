"""The options and arguments of the commands, as annotated types and choices."""

from __future__ import annotations

import math
import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from dicomio.errors import Remedy
from dicomio.sources.web_address import is_web_address

__all__ = [
    "MAX_SERIES_TIMEOUT",
    "MAX_WORKER_MEMORY",
    "AcceptIrregular",
    "ConvertFormat",
    "ExistingPath",
    "FailOn",
    "IgnoreUnreadable",
    "IrregularChoice",
    "IrregularOption",
    "OutputFormat",
    "Quiet",
    "Reproducible",
    "ScalingChoice",
    "ScalingOption",
    "Scheduler",
    "SeriesOption",
    "SeriesTimeout",
    "ShowProgress",
    "TextOrJson",
    "ValidateFormat",
    "ValidateOutput",
    "VolumeOption",
    "WorkerMemory",
    "Workers",
    "existing",
    "finite",
    "option_for",
]


class TextOrJson(str, Enum):
    """``--format`` of the commands that print text or JSON."""

    text = "text"
    json = "json"


#: ``--format`` (``-f``) of the commands that print text or JSON.
OutputFormat = Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]


Quiet = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print only the result: no progress, no notes.")]


ShowProgress = Annotated[bool | None, typer.Option(
    "--progress/--no-progress", show_default=False,
    help="Show progress on stderr (default: only when stderr is a terminal).")]


SeriesOption = Annotated[str | None, typer.Option(
    "--series", "-s", help="Series index (the # of `dicomio info`), SeriesInstanceUID, or "
                           "'uid#stack' for a stack of a split series.")]


def existing(value: Any) -> Any:
    """``value`` (a path, or a list of them) when each exists or is a DICOMweb URL; else the
    usage error click gives for a missing path."""
    for path in value if isinstance(value, list) else [value]:
        if path is not None and not is_web_address(path) and not os.path.lexists(path):
            raise typer.BadParameter(f"Path '{path}' does not exist.")
    return value


def finite(value: float | None) -> float | None:
    """``value`` when it is a finite number (or absent); else a usage error. A range alone
    lets "nan" through: it compares false with both bounds."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number.")
    return value


ExistingPath = Annotated[Path, typer.Argument(
    callback=existing, help="Folder, file, or DICOMweb URL.")]


class ScalingChoice(str, Enum):
    """``--scaling``: the values of :func:`dicomio.load_volume`'s ``scaling``."""

    modality = "modality"
    philips_precise = "philips_precise"


ScalingOption = Annotated[ScalingChoice, typer.Option(
    "--scaling", help="Rescaled values: 'modality' (RescaleSlope and RescaleIntercept, the "
                      "DICOM standard's) or 'philips_precise' (Philips' floating-point values, "
                      "(RS x stored + RI) / (RS x SS) with its private scale slope SS, as "
                      "dcm2niix writes them by default; phase in radians). See "
                      "docs/vendors.md.")]


class ValidateFormat(str, Enum):
    """``dicomio validate --format``."""

    text = "text"
    json = "json"
    junit = "junit"


#: ``dicomio validate --format``: as :data:`OutputFormat`, JUnit XML besides.
ValidateOutput = Annotated[ValidateFormat, typer.Option("--format", "-f", help="Output format.")]


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
         "'local' to start one here. Needs the extra dicomio[dask], on the workers too.")]


#: The longest ``--series-timeout``, in seconds (about 31 years; a thread waits at most
#: ``threading.TIMEOUT_MAX``, 2**63 ns, and the grace period is added to it). 0 is no limit.
MAX_SERIES_TIMEOUT = 1e9

#: The largest ``--worker-memory``, in MiB: what ``setrlimit`` holds in bytes (2**63 - 1).
MAX_WORKER_MEMORY = (2**63 - 1) >> 20

SeriesTimeout = Annotated[float | None, typer.Option(
    "--series-timeout", metavar="SECONDS", min=0, max=MAX_SERIES_TIMEOUT, show_default=False,
    callback=finite,
    help="Give up a series still running after this long: it is reported (OVER_BUDGET) and the "
         "others go on [default: 600]. 0: no limit.")]


WorkerMemory = Annotated[int | None, typer.Option(
    "--worker-memory", metavar="MiB", min=0, max=MAX_WORKER_MEMORY, show_default=False,
    help="Memory each worker process may use; a series needing more is reported "
         "(OVER_BUDGET) and the others go on [default: the machine's memory shared among the "
         "workers, at least 2048]. 0: no ceiling. Not in this process (--workers 1), nor on a "
         "running Dask cluster (it has its own).")]


Reproducible = Annotated[bool, typer.Option(
    "--reproducible", help="Leave out timings, timestamp and host name, so that the same "
                           "files give the same report byte for byte.")]


class IrregularChoice(str, Enum):
    """``--irregular``: what to do with slices that are not a regular volume (gaps, irregular
    spacing, gantry tilt), as ``irregular=`` of :func:`dicomio.load_volume`."""

    raise_ = "raise"
    accept = "accept"
    resample = "resample"


IrregularOption = Annotated[IrregularChoice | None, typer.Option(
    "--irregular", show_default=False,
    help="Slices that are not a regular volume (gaps, irregular spacing, tilt): raise (fail), "
         "accept (read them as they lie) or resample (onto a regular grid) [default: raise; "
         "preview: accept].")]


AcceptIrregular = Annotated[bool, typer.Option(
    "--accept-irregular", help="The same as --irregular accept.")]


IgnoreUnreadable = Annotated[bool, typer.Option(
    "--ignore-unreadable",
    help="Go on when DICOM files of the input cannot be read (the volume may lack them).")]


VolumeOption = Annotated[int | None, typer.Option(
    "--volume", min=0, show_default=False,
    help="Of a 4-D series (fMRI, diffusion), the volume to use, from 0 [default: the first].")]


#: Each argument of the library's remedies (:class:`dicomio.errors.Remedy`) as the command
#: line's option says it: the one translation of Python advice into options.
_OPTIONS = {
    "irregular": lambda value: f"--irregular {value}",
    "ignore_unreadable": lambda value: "--ignore-unreadable",
    "series": lambda value: f"--series {value}",
    "rescale": lambda value: "no --raw" if value else "--raw",
    # dicomio.load_4d(): the commands read a 4-D series as 4-D by themselves
    "load_4d": lambda value: "dicomio load, convert, compare or preview --volume N",
    # dicomio.dicomweb_settings(): the credentials options of every command
    "dicomweb_settings": lambda value: "--dicomweb-user NAME with --dicomweb-password, or "
                                       "--dicomweb-token,",
}


def option_for(remedy: Remedy) -> str:
    """How the command line passes ``remedy`` (``--irregular accept``); an argument no
    command takes keeps its Python form."""
    say = _OPTIONS.get(remedy.argument)
    return say(remedy.value) if say is not None else remedy.python()


class ConvertFormat(str, Enum):
    """``dicomio convert --to``."""

    nifti = "nifti"
    nrrd = "nrrd"
    npz = "npz"
