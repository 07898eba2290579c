"""``dicomio validate``: check datasets, with stable finding codes."""

from pathlib import Path
from typing import Annotated

import typer

from dicomio.cli.app import app
from dicomio.cli.console import exit_on_error, progress_enabled
from dicomio.cli.loading import FollowSymlinks
from dicomio.cli.options import (
    FailOn,
    Quiet,
    Reproducible,
    Scheduler,
    SeriesTimeout,
    ShowProgress,
    ValidateFormat,
    ValidateOutput,
    WorkerMemory,
    Workers,
    existing,
)
from dicomio.cli.web import takes_dicomweb

__all__ = ["validate"]


@app.command()
@takes_dicomweb
def validate(
    paths: Annotated[list[Path], typer.Argument(
        callback=existing, help="Folders, files and DICOMweb URLs.")],
    output: ValidateOutput = ValidateFormat.text,
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", exists=True, dir_okay=False,
        help="TOML settings (default: the first dicomio.toml, or pyproject.toml with "
             "[tool.dicomio], in the folder of PATHS or above).")] = None,
    fail_on: Annotated[FailOn | None, typer.Option(
        "--fail-on", help="Exit 1 on findings of this severity or worse [default: error].")]
        = None,
    cross_check: Annotated[bool, typer.Option(
        "--cross-check", help="Read with every installed backend and compare "
        "(BACKEND_MISMATCH).")] = False,
    headers_only: Annotated[bool, typer.Option(
        "--headers-only", help="Do not decode the pixel data.")] = False,
    junit_xml: Annotated[Path | None, typer.Option(
        "--junit-xml", dir_okay=False, help="Also write the JUnit XML report to this file.")]
        = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    series_timeout: SeriesTimeout = None,
    worker_memory: WorkerMemory = None,
    reproducible: Reproducible = False,
    quiet: Quiet = False,
    progress: ShowProgress = None,
    follow_symlinks: FollowSymlinks = False,
) -> None:
    """Check every series under PATHS and report findings with stable codes.

    Series are checked side by side on every core (or on a Dask cluster), and reported in a
    fixed order: the report does not depend on where they ran. Exit 0 when no finding reaches
    --fail-on, 1 when one does, 2 on usage errors (a bad configuration included), 3 when
    dicomio failed unexpectedly (a series it fails on is an INTERNAL_ERROR finding instead).
    The codes are documented in docs/findings.md.
    """
    from dicomio.cli.archive import run_validation
    from dicomio.validate.config import ValidationConfig, find_config, load_config

    with exit_on_error():  # a bad configuration is a usage error
        source = config or find_config(paths)
        settings = load_config(source) if source else ValidationConfig()
    if fail_on is not None:
        settings = settings.with_(fail_on=fail_on.value)
    if cross_check:
        settings = settings.with_(cross_check=True)
    if headers_only:
        settings = settings.with_(pixels=False)
    with exit_on_error():  # a series failing is a finding; a failure of the run itself, exit 3
        run_validation(paths, settings, output.value, junit_xml, workers, scheduler,
                       reproducible, quiet, progress_enabled(progress, quiet),
                       series_timeout=series_timeout, worker_memory=worker_memory,
                       follow_symlinks=follow_symlinks)
