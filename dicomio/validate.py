"""Check DICOM series and report findings with stable codes; never raises on bad data.

The checks are pure functions, so a parallel runner (threads, processes, Dask) can map them:

- :func:`check_files` — the inventory: paths without images, unreadable and skipped files;
- :func:`check_grouping` — across series: folders mixing series (:func:`check_folders`), one
  SeriesInstanceUID split into stacks of different orientation or size (:func:`check_stacks`);
- :func:`validate_series` — one series in, its findings out: geometry, transfer syntax,
  decoding, pixel values and, with ``cross_check``, agreement between backends.

:func:`build_report` assembles their findings into a :class:`ValidationReport`;
:func:`validate` does all of it, one series after another. :mod:`dicomio.archive` runs the same
checks over an archive, in parallel or on a Dask cluster.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio import __version__
from dicomio.backends import BACKENDS, ReadOptions, select
from dicomio.config import ValidationConfig
from dicomio.decode import EncodedPixels, choose_decoder, read_pixel_value
from dicomio.describe import SCHEMA_VERSION, SeriesSummary, summarise
from dicomio.errors import DicomIOError, MissingDecoderError, UnsupportedTransferSyntaxError
from dicomio.findings import CODES, SEVERITIES, Finding, Severity, at_least
from dicomio.header import FileHeader, PixelFormat
from dicomio.series import Inventory, PathInput, SeriesInfo, SkippedFile, scan
from dicomio.transfer_syntax import lookup

__all__ = [
    "SeriesReport",
    "ValidationReport",
    "build_report",
    "check_files",
    "check_folders",
    "check_grouping",
    "check_skipped",
    "check_stacks",
    "count_out_of_range",
    "validate",
    "validate_series",
    "validate_stacks",
    "worker_died",
]


def _finding(
    config: ValidationConfig,
    code: str,
    message: str,
    files: Iterable[str | os.PathLike[str]] = (),
    series: str | None = None,
    default: Severity | None = None,
) -> list[Finding]:
    """A finding with its configured severity: ``[finding]``, or ``[]`` when the code is off."""
    severity = config.severity_of(code, CODES[code][0] if code in CODES else default or "error")
    if severity is None:
        return []
    return [Finding(code, severity, message, tuple(dict.fromkeys(str(f) for f in files)),
                    series)]


# --- the inventory and the grouping --------------------------------------------------------------

def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def check_files(inventory: Inventory, config: ValidationConfig = ValidationConfig()
                ) -> list[Finding]:
    """Findings about the files themselves: NO_DICOM, UNREADABLE_FILE, SKIPPED_FILE."""
    images = [h.path for h in inventory.headers]
    with_images = [root for root in inventory.roots if any(_under(path, root) for path in images)]
    return check_skipped(inventory.roots, with_images, inventory.skipped, config)


def check_skipped(
    roots: Sequence[Path],
    with_images: Collection[Path],
    skipped: Sequence[SkippedFile],
    config: ValidationConfig = ValidationConfig(),
) -> list[Finding]:
    """:func:`check_files` from what it needs: the validated paths, those where images were
    found, and the skipped files in the order they were found."""
    found: list[Finding] = []
    for root in roots:
        if root not in with_images:
            passed_over = sum(_under(s.path, root) for s in skipped)
            found += _finding(config, "NO_DICOM",
                              f"no DICOM image under {root} ({passed_over} file(s) skipped)",
                              [root])
    for entry in skipped:
        code = "UNREADABLE_FILE" if entry.category == "unreadable" else "SKIPPED_FILE"
        found += _finding(config, code, f"{entry.path}: {entry.reason}", [entry.path])
    return found


def check_grouping(
    found: Sequence[SeriesInfo], config: ValidationConfig = ValidationConfig()
) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """Findings across series.

    Returns
    -------
    general, by_series
        :func:`check_folders` and :func:`check_stacks`.
    """
    return check_folders([summarise(s) for s in found], config), check_stacks(found, config)


def check_folders(
    found: Sequence[SeriesSummary], config: ValidationConfig = ValidationConfig()
) -> list[Finding]:
    """MULTIPLE_SERIES, once per folder holding files of several series (in list order)."""
    general: list[Finding] = []
    by_folder: dict[Path, dict[str, list[SeriesSummary]]] = defaultdict(
        lambda: defaultdict(list))
    for series in found:
        for folder in series.folders:
            by_folder[folder][series.uid].append(series)
    for folder, uids in by_folder.items():
        if len(uids) > 1:
            listed = "; ".join(
                f"{uid} ({stacks[0].description or 'no description'!r}, "
                f"{sum(s.n_slices for s in stacks)} image(s))" for uid, stacks in uids.items())
            general += _finding(config, "MULTIPLE_SERIES",
                                f"{folder} holds files of {len(uids)} series: {listed}",
                                [folder])
    return general


def check_stacks(
    found: Sequence[SeriesInfo], config: ValidationConfig = ValidationConfig()
) -> dict[str, list[Finding]]:
    """MIXED_ORIENTATION / MIXED_SHAPE for each stack of a SeriesInstanceUID that was split,
    keyed by the stack's ``key``. Only the stacks of one UID are compared with each other, so
    the UIDs of an archive can be checked apart."""
    by_series: dict[str, list[Finding]] = defaultdict(list)
    stacks_of: dict[str, list[SeriesInfo]] = defaultdict(list)
    for series in found:
        stacks_of[series.uid].append(series)
    for uid, stacks in stacks_of.items():
        if len(stacks) < 2:
            continue
        listing = ", ".join(f"{s.key} {s.orientation_label} {s.rows}x{s.columns} "
                            f"({s.n_slices} image(s))" for s in stacks)
        hint = "each stack is validated and loaded on its own (series='uid#stack')"
        orientations = {tuple(np.round(s.orientation, 3)) if s.orientation else None
                        for s in stacks}
        sizes = {(s.rows, s.columns, s.frames[0].pixel_spacing) for s in stacks}
        for stack in stacks:
            files = stack.files
            if len(orientations) > 1:
                by_series[stack.key] += _finding(
                    config, "MIXED_ORIENTATION",
                    f"series {uid} holds {len(stacks)} stacks of different orientations: "
                    f"{listing}; {hint}", files, stack.key)
            if len(sizes) > 1:
                by_series[stack.key] += _finding(
                    config, "MIXED_SHAPE",
                    f"series {uid} holds {len(stacks)} stacks of different image sizes or "
                    f"pixel spacings: {listing}; {hint}", files, stack.key)
    return dict(by_series)


def worker_died(
    files: Iterable[str | os.PathLike[str]], series: str | None, what: str,
    config: ValidationConfig = ValidationConfig(),
) -> list[Finding]:
    """WORKER_DIED: the process checking ``what`` died on every attempt, so it was not
    checked (or converted); ``series`` is its SeriesInstanceUID, if known."""
    return _finding(config, "WORKER_DIED",
                    f"{what} was not processed: its worker process died on every attempt "
                    f"(killed, out of memory, or a crash in native code)", files, series)


# --- one series ----------------------------------------------------------------------------------

def validate_series(
    series: SeriesInfo, config: ValidationConfig = ValidationConfig()
) -> list[Finding]:
    """Every finding about one series (a pure function: series in, findings out).

    Checks the grouping warnings, the geometry, the transfer syntaxes and, with
    ``config.pixels``, the pixel data (decoding, all-zero, values beyond BitsStored); with
    ``config.cross_check`` it reads the series with every installed backend and compares.
    Never raises on bad data: every problem becomes a finding.
    """
    key = series.key
    found: list[Finding] = []
    for warning in series.warnings:
        named = [path for path in series.files if str(path) in warning]
        found += _finding(config, "SERIES_WARNING", warning, named, key)
    found += _geometry_findings(series, config)
    decodable = _syntax_findings(series, config)
    found += decodable
    if config.pixels and not decodable:
        found += _pixel_findings(series, config)
        if config.cross_check:
            found += _cross_check(series, config)
    return found


def _geometry_findings(series: SeriesInfo, config: ValidationConfig) -> list[Finding]:
    if series.geometry is None:
        return _finding(config, "MISSING_GEOMETRY",
                        f"cannot place the {series.n_slices} image(s) in space: "
                        f"{series.geometry_problem}", series.files, series.key)
    found: list[Finding] = []
    for issue in series.geometry.issues:
        files = [series.frames[k].path for k in issue.slices] or series.files
        found += _finding(config, issue.code, issue.message, files, series.key,
                          default=issue.severity)
    return found


def _syntax_findings(series: SeriesInfo, config: ValidationConfig) -> list[Finding]:
    """UNSUPPORTED_TRANSFER_SYNTAX and MISSING_DECODER: what makes decoding impossible."""
    found: list[Finding] = []
    for uid in series.transfer_syntaxes:
        files = [h.path for h in series.headers if h.transfer_syntax.uid == uid]
        try:
            choose_decoder(lookup(uid), series.pixel)
        except UnsupportedTransferSyntaxError as exc:
            found += _finding(config, "UNSUPPORTED_TRANSFER_SYNTAX",
                              f"{len(files)} file(s): {exc.message}", files, series.key)
        except MissingDecoderError as exc:
            found += _finding(config, "MISSING_DECODER", f"{len(files)} file(s): {exc.message}",
                              files, series.key)
    return found


def _pixel_findings(series: SeriesInfo, config: ValidationConfig) -> list[Finding]:
    """Decode with the backend ``auto`` picks: DECODE_FAILED, ALL_ZERO_PIXELS and
    VALUES_OUT_OF_RANGE."""
    from dicomio.sanity import check_pixel_data_size
    from dicomio.zero_guard import check_not_all_zero

    options = ReadOptions(rescale=False, workers=config.decode_threads)
    try:
        for header in series.headers:  # as load_volume does, before allocating
            check_pixel_data_size(header)
        spec, _ = select(series, "auto")
        array = spec.reader().read(series, options).array
        all_zero = check_not_all_zero(array, series, options, spec.name)
    except Exception as exc:  # every failure to read is a finding, never a crash
        return _decode_failed(series, config, exc)
    del array
    found: list[Finding] = []
    if all_zero is not None:
        found += _finding(config, "ALL_ZERO_PIXELS", f"{all_zero} ({series.n_slices} slices)",
                          series.files, series.key)
    found += _range_findings(series, config)
    return found


def _decode_failed(series: SeriesInfo, config: ValidationConfig, exc: Exception
                   ) -> list[Finding]:
    """DECODE_FAILED for an exception raised while reading pixels (a dicomio error names its
    file; anything else is a toolkit's own exception, reported as unexpected)."""
    if isinstance(exc, DicomIOError):
        return _finding(config, "DECODE_FAILED", f"{type(exc).__name__}: {exc}",
                        [exc.path] if exc.path else series.files, series.key)
    return _finding(config, "DECODE_FAILED", f"unexpected {type(exc).__name__}: {exc}",
                    series.files, series.key)


# --- values beyond BitsStored --------------------------------------------------------------------

def count_out_of_range(raw: NDArray[Any], fmt: PixelFormat) -> int:
    """Count stored values that use bits above BitsStored.

    ``raw`` holds the bit patterns as stored or decoded, before any masking. Unsigned values
    must have no bit set above BitsStored; signed ones must have every bit above the sign bit
    equal to it (a proper sign extension). Only the standard layout, HighBit = BitsStored − 1,
    is checked; other (retired) layouts and float data return 0.
    """
    spare = fmt.bits_allocated - fmt.bits_stored
    if spare <= 0 or fmt.float_data or fmt.high_bit != fmt.bits_stored - 1:
        return 0
    unsigned = np.dtype(f"uint{fmt.bits_allocated}")
    values = raw.view(unsigned) if raw.dtype.itemsize == unsigned.itemsize else \
        raw.astype(unsigned)
    if fmt.signed:
        top = values >> (fmt.bits_stored - 1)
        valid = (top == 0) | (top == (1 << (spare + 1)) - 1)
    else:
        valid = (values >> fmt.bits_stored) == 0
    return int(values.size - np.count_nonzero(valid))


def _raw_frames(header: FileHeader) -> Iterator[NDArray[Any]]:
    """The stored bit patterns of a file's frames, unmasked (as the file or decoder has them)."""
    fmt = header.pixel
    assert fmt is not None
    syntax = header.transfer_syntax
    if syntax.native:
        dtype = np.dtype(f"{'<' if syntax.little_endian else '>'}u{fmt.bits_allocated // 8}")
        count = fmt.number_of_frames * fmt.frame_nbytes // dtype.itemsize
        if header.pixel_data_offset is None:  # deflated data set: only pydicom can inflate it
            import pydicom

            data = pydicom.dcmread(header.path).PixelData
            yield np.frombuffer(data, dtype=dtype, count=count)
        else:
            yield np.fromfile(header.path, dtype=dtype, count=count,
                              offset=header.pixel_data_offset)
        return
    decoder = choose_decoder(syntax, fmt)
    assert decoder is not None
    encoded = EncodedPixels(header, read_pixel_value(header))
    for index in range(fmt.number_of_frames):
        yield encoded.decode(index, decoder)


def _range_findings(series: SeriesInfo, config: ValidationConfig) -> list[Finding]:
    fmt = series.pixel
    if fmt.bits_allocated == fmt.bits_stored or fmt.bits_allocated % 8 or fmt.float_data:
        return []
    counts: dict[Path, int] = {}
    try:
        for header in series.headers:
            assert header.pixel is not None
            total = sum(count_out_of_range(raw, header.pixel) for raw in _raw_frames(header))
            if total:
                counts[header.path] = total
    except Exception as exc:  # every failure to read is a finding, never a crash
        return _decode_failed(series, config, exc)
    if not counts:
        return []
    worst = max(counts, key=counts.__getitem__)
    return _finding(
        config, "VALUES_OUT_OF_RANGE",
        f"{sum(counts.values())} stored value(s) in {len(counts)} file(s) use bits above "
        f"BitsStored={fmt.bits_stored} (BitsAllocated={fmt.bits_allocated}, "
        f"{'signed' if fmt.signed else 'unsigned'}); most in {worst.name} "
        f"({counts[worst]}). dicomio masks them off; other readers may not.",
        counts, series.key)


# --- agreement between backends ------------------------------------------------------------------

def _cross_check(series: SeriesInfo, config: ValidationConfig) -> list[Finding]:
    """BACKEND_MISMATCH when the installed backends able to read the series disagree."""
    from dicomio.compare import compare_series

    able = [name for name, spec in BACKENDS.items() if spec.cannot_read(series) is None]
    if len(able) < 2:
        return []
    comparison = compare_series(series, able, rescale=True, tolerance=config.tolerance,
                                timeout=config.timeout)
    found: list[Finding] = []
    for row in comparison.results:
        if row.status == "failed":
            problem = f"backend {row.backend!r} failed: {row.reason}"
        elif row.disagreement is not None:
            problem = f"backend {row.backend!r} disagrees: {row.disagreement}"
        else:
            continue
        found += _finding(config, "BACKEND_MISMATCH",
                          f"{problem} (compared: {', '.join(able)})", series.files, series.key)
    return found


# --- the report ----------------------------------------------------------------------------------

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


def validate_stacks(
    found: Sequence[SeriesInfo],
    config: ValidationConfig = ValidationConfig(),
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[SeriesReport]:
    """The report of each series: its :func:`check_stacks` and :func:`validate_series`
    findings, and the seconds :func:`validate_series` took (``index`` is the position in
    ``found``). ``progress(done, total, label)`` is called before each series."""
    by_series = check_stacks(found, config)
    reports = []
    for index, series in enumerate(found):
        if progress is not None:
            progress(index, len(found), series.description or series.key)
        began = time.perf_counter()
        findings = validate_series(series, config)
        reports.append(SeriesReport(summarise(series), [*by_series.get(series.key, []),
                                                        *findings],
                                    time.perf_counter() - began, index))
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
    general, by_series = check_grouping(found, config)
    pairs = enumerate(zip(found, per_series, strict=True))
    reports = [SeriesReport(summarise(series), [*by_series.get(series.key, []), *findings],
                            spent, index)
               for index, (series, (findings, spent)) in pairs]
    return ValidationReport(tuple(paths), reports, [*check_files(inventory, config), *general],
                            config, seconds)


def validate(
    paths: PathInput,
    config: ValidationConfig = ValidationConfig(),
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> ValidationReport:
    """Validate every series under ``paths``, one after another, in this process.

    Parameters
    ----------
    paths
        Files and folders (searched recursively).
    config
        What to check, thresholds and severities (see :mod:`dicomio.config`).
    progress
        Called as ``progress(done, total, label)`` before each series.

    Raises
    ------
    NoDicomFilesError
        A path does not exist (a usage error; a path without DICOM is a NO_DICOM finding).

    See Also
    --------
    dicomio.archive.validate_archive : the same report, series checked in parallel.
    """
    start = time.perf_counter()
    found, inventory = scan(paths, tolerances=config.tolerances)
    reports = validate_stacks(found, config, progress=progress)
    general = [*check_files(inventory, config),
               *check_folders([report.series for report in reports], config)]
    return ValidationReport(inventory.roots, reports, general, config,
                            time.perf_counter() - start)
