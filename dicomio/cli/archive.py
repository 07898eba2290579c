"""The command line over archives: ``dicomio validate`` and ``dicomio convert`` into a folder.

Both plan the archive (headers only), then run one job per series on the chosen executor
(:mod:`dicomio.archive.executors`), each within the run's budget (``--series-timeout``,
``--worker-memory``: :mod:`dicomio.archive.budget`), with a progress bar on stderr. In text
output each series is printed as soon as it and every series before it are done, in the
report's order, so a long run shows its results as it goes (in a CI log too) while the output
stays the same whatever ran it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from dicomio.cli.console import (
    EXIT_FINDINGS,
    EXIT_OK,
    completion_bar,
    err,
    exit_on_error,
    out,
    print_json,
    shown,
    usage_error,
)
from dicomio.cli.formatting import format_shape, series_line
from dicomio.cli.options import option_for
from dicomio.io.atomic import write_text_atomically

if TYPE_CHECKING:
    from dicomio.archive.conversion import Conversion, ConversionReport
    from dicomio.archive.executors import Executor
    from dicomio.archive.plan import ArchivePlan
    from dicomio.io.writers import Format
    from dicomio.load import Scaling
    from dicomio.read import Irregular
    from dicomio.validate.config import ValidationConfig
    from dicomio.validate.findings import Finding, Severity
    from dicomio.validate.report import SeriesReport, ValidationReport

__all__ = ["run_conversion", "run_validation"]

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


@contextmanager
def _executor(workers: int | None, scheduler: str | None, series_timeout: float | None,
              worker_memory: int | None) -> Iterator[Executor]:
    """The executor for the options; a cluster that cannot do the work (or an address that is
    not a Dask scheduler's) is a usage error."""
    from dicomio.archive.budget import DEFAULT_SERIES_TIMEOUT, Budget
    from dicomio.archive.executors import open_executor
    from dicomio.parallel import usable_cores

    if workers is not None and scheduler not in (None, "local"):
        usage_error("--workers starts local workers; a running cluster has its own "
                    "(leave --workers out with --scheduler ADDRESS)")
    seconds = DEFAULT_SERIES_TIMEOUT if series_timeout is None else series_timeout
    budget = Budget.default(workers or usable_cores(), seconds, worker_memory)
    with exit_on_error(), open_executor(workers, scheduler, budget) as executor:
        yield executor


def _plan(paths: Sequence[Path], executor: Executor, show: bool, follow_symlinks: bool
          ) -> ArchivePlan:
    from dicomio.archive.plan import plan_archive

    # exit 2 for a path removed since the command started
    with exit_on_error(), completion_bar("reading headers", show) as update:
        return plan_archive(paths, executor, follow_symlinks=follow_symlinks, progress=update)


def _throughput(plan: ArchivePlan, seconds: float, executor: Executor) -> None:
    """The final note on stderr: how fast, and where."""
    series, files = len(plan.jobs), plan.n_files
    rate = f"{series / seconds:.1f} series/s, {files / seconds:.0f} files/s" if seconds else ""
    err.print(f"[dim]{series} series, {files} files in {seconds:.1f} s ({rate}) on "
              f"{shown(executor.describe())}[/]")


# --- validate ------------------------------------------------------------------------------------

def _print_findings(findings: Sequence[Finding], indent: str, quiet: bool) -> None:
    for finding in findings:
        if quiet and finding.severity == "info":
            continue
        style = _SEVERITY_STYLE[finding.severity]
        files = ""
        if finding.n_files > 1:
            files = f" [dim]({finding.n_files} files)[/]"
        out.print(f"{indent}[{style}]{finding.severity:<7}[/] [bold]{finding.code}[/] "
                  f"{shown(finding.explained(option_for))}{files}")


def _print_series_report(entry: SeriesReport, config: ValidationConfig, quiet: bool) -> None:
    failing = entry.failing(config.fail_on)
    if quiet and not failing:
        return
    verdict = "[bold red]FAIL[/]" if failing else "[green]ok  [/]"
    out.print(f"{verdict} {shown(series_line(entry.series))}")
    _print_findings(entry.findings, "     ", quiet)


def _print_validation_end(report: ValidationReport, quiet: bool, reproducible: bool) -> None:
    """What follows the series: findings about files and folders, then the verdict."""
    fail_on = report.config.fail_on
    general = [f for f in report.findings if not (quiet and f.severity == "info")]
    if general:
        out.print("files and folders:")
        _print_findings(general, "     ", quiet)
    counts = report.counts
    passed = sum(not s.failing(fail_on) for s in report.series)
    tally = ", ".join(f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"
                      for severity, n in counts.items())
    verdict = "[bold green]passed[/]" if report.passed else "[bold red]failed[/]"
    timing = "" if reproducible else f" ({report.seconds:.1f} s)"
    beyond = "".join(f"; {why}" for why in _failing_beyond_series(report.findings, fail_on))
    out.print(f"{verdict}: {passed} of {len(report.series)} series passed{beyond}; "
              f"{tally}{timing}")


def _failing_beyond_series(findings: Sequence[Finding], fail_on: Severity) -> list[str]:
    """Why the run fails besides its series: the findings about files and folders reaching
    ``fail_on``, counted by code ("1 file unreadable", "2 paths without DICOM images")."""
    from dicomio.validate.findings import at_least

    counts: dict[str, int] = {}
    for finding in findings:
        if at_least(finding.severity, fail_on):
            counts[finding.code] = counts.get(finding.code, 0) + finding.n_files
    said = []
    for code, n in counts.items():
        noun, what = _BEYOND_SERIES.get(code, ("path", f"with {code}"))
        said.append(f"{n} {noun}{'s' if n != 1 else ''} {what}")
    return said


#: How the summary line counts the findings about files and folders that fail a run.
_BEYOND_SERIES = {"UNREADABLE_FILE": ("file", "unreadable"),
                  "NO_DICOM": ("path", "without DICOM images"),
                  "SKIPPED_FILE": ("file", "skipped")}


def run_validation(
    paths: Sequence[Path], config: ValidationConfig, output: str, junit_xml: Path | None,
    workers: int | None, scheduler: str | None, reproducible: bool, quiet: bool, show: bool,
    series_timeout: float | None = None, worker_memory: int | None = None,
    follow_symlinks: bool = False,
) -> NoReturn:
    """``dicomio validate``: plan, validate, print (``output``: text, json or junit), exit.
    ``series_timeout`` and ``worker_memory`` as the options give them (None: the defaults);
    ``follow_symlinks``: follow links out of the given folders."""
    from dicomio.archive.validation import validate_plan
    from dicomio.validate.junit import to_junit_xml

    start = time.perf_counter()
    text = output == "text"
    with _executor(workers, scheduler, series_timeout, worker_memory) as executor:
        plan = _plan(paths, executor, show, follow_symlinks)
        if text and not quiet:
            out.print(f"dicomio validate: {len(plan.jobs)} series ({plan.n_files} files) "
                      f"under {len(plan.roots)} path(s); config: "
                      f"{shown(str(config.source or 'defaults'))}; fail on: {config.fail_on}")
        with completion_bar("validating", show) as update:
            report = validate_plan(
                plan, config, executor, started=start, progress=update,
                on_series=(lambda entry: _print_series_report(entry, config, quiet))
                if text else None).named(option_for)  # options, not Python arguments
        if show:
            _throughput(plan, report.seconds, executor)
    if junit_xml is not None:
        try:
            write_text_atomically(junit_xml, to_junit_xml(report, reproducible))
        except OSError as exc:
            usage_error(f"cannot write {junit_xml}: {exc.strerror or exc}")
    if output == "json":
        print_json(report.to_dict(reproducible))
    elif output == "junit":
        sys.stdout.write(to_junit_xml(report, reproducible))
    else:
        _print_validation_end(report, quiet, reproducible)
    raise typer.Exit(EXIT_OK if report.passed else EXIT_FINDINGS)


# --- convert into a folder -----------------------------------------------------------------------

def _print_conversion(conversion: Conversion, quiet: bool) -> None:
    if conversion.status == "written":
        if not quiet:
            out.print(f"[green]wrote[/] {shown(conversion.output or '')}  "
                      f"[dim]{format_shape(conversion.shape or ())} {conversion.dtype}[/]")
        return
    out.print(f"[bold red]FAIL[/]  {shown(series_line(conversion.series))}")
    out.print(_shown_lines(conversion.reason or "", "      "))


def _shown_lines(text: str, indent: str) -> str:
    """Multi-line text (an error's message, its files, its remedy) on lines of its own, after
    ``indent`` and two more spaces from the second line on; each line :func:`shown`, so every
    other control character (a carriage return, an escape) is still shown escaped."""
    first, *rest = text.split("\n")
    return "\n".join([f"{indent}{shown(first)}", *(f"{indent}  {shown(line)}" for line in rest)])


def _print_conversion_end(report: ConversionReport, quiet: bool, reproducible: bool) -> None:
    unreadable = report.unreadable
    if unreadable:
        out.print(f"[bold red]{len(unreadable)} file(s) could not be read[/] (possibly lost "
                  f"slices):")
        for skipped in unreadable:
            out.print(f"      {shown(str(skipped.path))}: {shown(skipped.reason)}")
    _print_findings(report.findings, "", quiet)
    counts = report.counts
    passed_over = len(report.skipped) - len(unreadable)
    notes = [f"{counts['failed']} failed"] if counts["failed"] else []
    notes += [f"{passed_over} other file(s) skipped"] if passed_over and not quiet else []
    timing = "" if reproducible else f" ({report.seconds:.1f} s)"
    verdict = "[bold green]done[/]" if report.passed else "[bold red]failed[/]"
    detail = f"; {', '.join(notes)}" if notes else ""
    out.print(f"{verdict}: wrote {counts['written']} of {len(report.series)} series into "
              f"{shown(str(report.output))}{detail}{timing}")


def run_conversion(
    paths: Sequence[Path], output: Path, format: Format, backend: str, rescale: bool,
    irregular: Irregular, force: bool, workers: int | None, scheduler: str | None, as_json: bool,
    reproducible: bool, quiet: bool, show: bool, series_timeout: float | None = None,
    worker_memory: int | None = None, follow_symlinks: bool = False,
    ignore_unreadable: bool = False, sidecar: bool = True, scaling: Scaling = "modality",
) -> NoReturn:
    """``dicomio convert PATHS... FOLDER``: plan, convert every series, print, exit.
    ``series_timeout``, ``worker_memory`` and ``follow_symlinks`` as for
    :func:`run_validation`; ``ignore_unreadable``, ``sidecar`` and ``scaling`` as for
    :func:`dicomio.archive.conversion.convert_plan`, whose failure reasons name options."""
    from dicomio.archive.conversion import convert_plan, prepare_output
    from dicomio.backends.registry import get_spec
    from dicomio.io.writers import check_writer

    start = time.perf_counter()
    if backend != "auto":
        with exit_on_error():  # an unknown name is a usage error, not a failure per series
            get_spec(backend)
    try:  # before the planning, which may take a while
        check_writer(format)
        prepare_output(output, force)
    except (ImportError, FileExistsError) as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot create {output}: {exc.strerror or exc}")
    with _executor(workers, scheduler, series_timeout, worker_memory) as executor:
        plan = _plan(paths, executor, show, follow_symlinks)
        if not as_json and not quiet:
            out.print(f"dicomio convert: {len(plan.jobs)} series ({plan.n_files} files) into "
                      f"{shown(os.fspath(output))} as {format}")
        with completion_bar("converting", show) as update:
            report = convert_plan(
                plan, output, executor, format=format, backend=backend, rescale=rescale,
                irregular=irregular, force=True, ignore_unreadable=ignore_unreadable,
                sidecar=sidecar, name_remedy=option_for, scaling=scaling, started=start,
                progress=update,
                on_series=None if as_json else (lambda c: _print_conversion(c, quiet)))
        if show:
            _throughput(plan, report.seconds, executor)
    if as_json:
        print_json(report.to_dict(reproducible))
    else:
        _print_conversion_end(report, quiet, reproducible)
    raise typer.Exit(EXIT_OK if report.passed else EXIT_FINDINGS)
