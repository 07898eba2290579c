"""The validation report, assembled in one place (:func:`assemble_report`).

:func:`validate` checks every series under some paths, one after another, and assembles the
report; :mod:`dicomio.archive` checks them in parallel and assembles it with the same function,
so both give the same document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dicomio._version import __version__
from dicomio.errors import Remedy
from dicomio.series.choose import scan
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import Inventory, PathInput
from dicomio.series.summary import SCHEMA_VERSION, SeriesSummary, summarise
from dicomio.validate.checks import (
    check_files,
    check_folders,
    check_stacks,
    ready_series,
    validate_series,
)
from dicomio.validate.config import ValidationConfig
from dicomio.validate.findings import SEVERITIES, Finding, Severity, at_least

__all__ = ["SeriesReport", "ValidationReport", "assemble_report", "build_report", "validate",
           "validate_stacks"]


@dataclass
class SeriesReport:
    """The findings of one series (one JUnit test case)."""

    series: SeriesSummary
    findings: list[Finding]
    seconds: float = 0.0
    index: int | None = None

    def failing(self, fail_on: Severity) -> list[Finding]:
        return [f for f in self.findings if at_least(f.severity, fail_on)]


@dataclass
class ValidationReport:
    """Everything :func:`validate` found.

    Attributes
    ----------
    paths
        The validated paths.
    series
        One report per series (stack), in the order of :func:`dicomio.list_series`.
    findings
        Findings about files and folders rather than one series (NO_DICOM, UNREADABLE_FILE,
        SKIPPED_FILE, MULTIPLE_SERIES).
    config
        The configuration used (``config.fail_on`` decides :attr:`passed`).
    """

    paths: tuple[Path, ...]
    series: list[SeriesReport]
    findings: list[Finding]
    config: ValidationConfig = field(default_factory=ValidationConfig)
    seconds: float = 0.0

    @property
    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for s in self.series for f in s.findings)]

    @property
    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        severities = [f.severity for f in self.all_findings]
        return {s: severities.count(s) for s in SEVERITIES}

    def failing(self) -> list[Finding]:
        """The findings at or above ``config.fail_on``."""
        return [f for f in self.all_findings if at_least(f.severity, self.config.fail_on)]

    @property
    def passed(self) -> bool:
        return not self.failing()

    def named(self, name: Callable[[Remedy], str]) -> ValidationReport:
        """This report with every finding's remedies named by ``name`` (the command line's
        options: :func:`dicomio.cli.options.option_for`), in JSON and JUnit too."""
        return replace(self, findings=[f.named(name) for f in self.findings],
                       series=[replace(s, findings=[f.named(name) for f in s.findings])
                               for s in self.series])

    def to_dict(self, reproducible: bool = False) -> dict[str, Any]:
        """JSON-able form: the ``dicomio validate --format json`` output.

        ``reproducible`` leaves out the timings (``seconds`` is null): the same files then give
        the same document, byte for byte, however the validation was run.
        """
        fail_on = self.config.fail_on

        def seconds(value: float) -> float | None:
            return None if reproducible else round(value, 3)

        return {
            "schema": f"dicomio.validate/{SCHEMA_VERSION}",
            "dicomio_version": __version__,
            "paths": [str(p) for p in self.paths],
            "config": None if self.config.source is None else str(self.config.source),
            "fail_on": fail_on,
            "pixels": self.config.pixels,
            "cross_check": self.config.cross_check,
            "passed": self.passed,
            "counts": self.counts,
            "seconds": seconds(self.seconds),
            "series": [{**s.series.describe(s.index),
                        "passed": not s.failing(fail_on),
                        "seconds": seconds(s.seconds),
                        "findings": [f.to_dict() for f in s.findings]} for s in self.series],
            "findings": [f.to_dict() for f in self.findings],
        }


def assemble_report(
    roots: Sequence[Path],
    series: Iterable[SeriesReport],
    files: Sequence[Finding],
    config: ValidationConfig = ValidationConfig(),
    *,
    lost: Sequence[Finding] = (),
    seconds: float = 0.0,
) -> ValidationReport:
    """Assemble a :class:`ValidationReport`: the one place it is done, however the series
    were checked (:func:`validate` here, :mod:`dicomio.archive` in parallel).

    Parameters
    ----------
    roots
        The validated paths.
    series
        The report of each series, in report order (that of :func:`dicomio.list_series`);
        numbered here.
    files
        The findings about files: :func:`~dicomio.validate.checks.check_files` (or
        :func:`~dicomio.validate.checks.check_skipped`, from the parts of an inventory).
    config
        The configuration the checks used.
    lost
        WORKER_DIED and INTERNAL_ERROR findings of whole jobs: what could not be checked.
    seconds
        How long the validation took.

    The findings across series that need every series' summary (MULTIPLE_SERIES, from
    :func:`~dicomio.validate.checks.check_folders`) are made here, after ``files`` and before
    ``lost``.
    """
    reports = list(series)
    for index, report in enumerate(reports):
        report.index = index
    general = [*files, *check_folders([report.series for report in reports], config), *lost]
    return ValidationReport(tuple(roots), reports, general, config, seconds)


def _series_report(series: SeriesInfo, grouping: dict[str, list[Finding]],
                   findings: list[Finding], seconds: float, index: int) -> SeriesReport:
    """The report of one series: its grouping findings, then its own."""
    return SeriesReport(_summary(series), [*grouping.get(series.key, []), *findings], seconds,
                        index)


def _summary(series: SeriesInfo) -> SeriesSummary:
    """:func:`summarise` the series; when what it is cannot be told (its layout failing
    unexpectedly: :func:`validate_series` reports that as INTERNAL_ERROR), summarise it as
    the series without geometry it then is for the report, so the report is still complete."""
    try:
        return summarise(series)
    except Exception as exc:  # the failure is the series' INTERNAL_ERROR finding already
        problem = f"{type(exc).__name__}: {exc}"
        return summarise(replace(series, geometry=None, geometry_problem=problem))


def validate_stacks(
    found: Sequence[SeriesInfo],
    config: ValidationConfig = ValidationConfig(),
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[SeriesReport]:
    """The report of each series: its :func:`check_stacks` and :func:`validate_series`
    findings, and the seconds :func:`validate_series` took (``index`` is the position in
    ``found``). ``progress(done, total, label)`` is called before each series. A series
    listed from metadata is retrieved when its pixels are checked (:func:`ready_series`),
    and reported as retrieved (its transfer syntaxes known)."""
    grouping = check_stacks(found, config)
    reports = []
    for index, series in enumerate(found):
        if progress is not None:
            progress(index, len(found), series.description or series.key)
        began = time.perf_counter()
        series, failed = ready_series(series, config)
        findings = [*validate_series(series, config.with_(pixels=False) if failed else config),
                    *failed]
        reports.append(_series_report(series, grouping, findings, time.perf_counter() - began,
                                      index))
    return reports


def build_report(
    paths: Sequence[Path],
    inventory: Inventory,
    found: Sequence[SeriesInfo],
    per_series: Sequence[tuple[list[Finding], float]],
    config: ValidationConfig = ValidationConfig(),
    seconds: float = 0.0,
) -> ValidationReport:
    """Assemble the report from the findings of each series (as :func:`validate_series`
    returned them, with the seconds each took) and those of the inventory and grouping."""
    grouping = check_stacks(found, config)
    pairs = enumerate(zip(found, per_series, strict=True))
    reports = [_series_report(series, grouping, findings, spent, index)
               for index, (series, (findings, spent)) in pairs]
    return assemble_report(paths, reports, check_files(inventory, config), config,
                           seconds=seconds)


def validate(
    paths: PathInput,
    config: ValidationConfig = ValidationConfig(),
    *,
    progress: Callable[[int, int, str], None] | None = None,
    follow_symlinks: bool = False,
) -> ValidationReport:
    """Validate every series under ``paths``, one after another, in this process.

    Parameters
    ----------
    paths
        Files and folders (searched recursively), DICOMweb URLs: listed from their metadata,
        each series' instances retrieved only when its pixels are checked (``config.pixels``).
    config
        What to check, thresholds and severities (see :mod:`dicomio.validate.config`).
    progress
        Called as ``progress(done, total, label)`` before each series.
    follow_symlinks
        Follow symbolic links that lead out of the given folders (by default they are skipped,
        and listed with the skipped files).

    Raises
    ------
    NoDicomFilesError
        A path does not exist (a usage error; a path without DICOM is a NO_DICOM finding).

    See Also
    --------
    dicomio.archive.validate_archive : the same report, series checked in parallel.
    """
    start = time.perf_counter()
    found, inventory = scan(paths, tolerances=config.tolerances, follow_symlinks=follow_symlinks,
                            headers_only=True)
    reports = validate_stacks(found, config, progress=progress)
    return assemble_report(inventory.roots, reports, check_files(inventory, config), config,
                           seconds=time.perf_counter() - start)
