"""Check DICOM series and report findings with stable codes; never raises on bad data.

The checks are pure functions, so a parallel runner (threads, processes, Dask) can map them:

- :func:`check_files` — the inventory: paths without images, unreadable and skipped files;
- :func:`check_grouping` — across series: folders mixing series (:func:`check_folders`), one
  SeriesInstanceUID split into stacks of different orientation or size (:func:`check_stacks`);
- :func:`validate_series` — one series in, its findings out: geometry, transfer syntax,
  decoding, pixel values and, with ``cross_check``, agreement between backends. The pixels are
  read through the read stage :func:`dicomio.read.read_series`, as :func:`dicomio.load_volume`
  reads them, each frame decoded once;
- :func:`worker_died` — the finding of a series (or folder) whose worker process died;
- :func:`internal_error` — the finding of a series (or job) on which dicomio failed
  unexpectedly: :func:`validate_series` never raises.

:mod:`dicomio.validate.report` assembles their findings into a ``ValidationReport``;
:func:`dicomio.validate.report.validate` does all of it, one series after another.
:mod:`dicomio.archive` runs the same checks over an archive, in parallel or on a Dask cluster.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import numpy as np

from dicomio.backends.base import ReadOptions
from dicomio.backends.registry import backend_specs
from dicomio.dicom.checks import pixel_data_excess
from dicomio.dicom.transfer_syntax import lookup
from dicomio.dicom.types import PixelFormat
from dicomio.errors import (
    DicomIOError,
    InternalError,
    MissingDecoderError,
    Remedy,
    UnsupportedTransferSyntaxError,
    from_foreign,
)
from dicomio.pixels.codestream import rle_frame_excess
from dicomio.pixels.decoders import choose_decoder
from dicomio.pixels.libraries import UNCOMPRESSED, decoder_library
from dicomio.read import read_series
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import Inventory, SkippedFile
from dicomio.series.layout import SeriesLayout, lay_out
from dicomio.series.retrieve import needs_retrieval, with_pixel_data
from dicomio.series.summary import SeriesSummary, summarise
from dicomio.sources.inputs import holds
from dicomio.validate.config import ValidationConfig
from dicomio.validate.findings import Finding, merged

__all__ = ["check_files", "check_folders", "check_grouping", "check_skipped", "check_stacks",
           "internal_error", "over_budget", "ready_series", "validate_series", "worker_died"]


def _under(path: Path, root: Path) -> bool:
    return holds(root, path)


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
    found, and the skipped files in the order they were found.

    The skipped files of one folder make one finding per code, which counts them and lists
    the first ones (:func:`~dicomio.validate.findings.merged`): an export of a thousand
    files that are not images is one line, not a thousand.
    """
    found: list[Finding] = []
    for root in roots:
        if root not in with_images:
            passed_over = sum(_under(s.path, root) for s in skipped)
            found += config.finding("NO_DICOM",
                                    f"no DICOM image under {root} ({passed_over} file(s) skipped)",
                                    [root])
    per_file: list[Finding] = []
    for entry in skipped:
        code = "UNREADABLE_FILE" if entry.category == "unreadable" else "SKIPPED_FILE"
        per_file += config.finding(code, f"{entry.path}: {entry.reason}", [entry.path])
    return found + merged(per_file, key=lambda f: (f.code, Path(f.files[0]).parent))


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
            general += config.finding("MULTIPLE_SERIES",
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
        hint = "each stack is validated and loaded on its own"
        pick = (Remedy("series", "uid#stack", "load one stack"),)
        orientations = {tuple(np.round(s.orientation, 3)) if s.orientation else None
                        for s in stacks}
        sizes = {(s.rows, s.columns, s.frames[0].pixel_spacing) for s in stacks}
        for stack in stacks:
            files = stack.files
            if len(orientations) > 1:
                by_series[stack.key] += config.finding(
                    "MIXED_ORIENTATION",
                    f"series {uid} holds {len(stacks)} stacks of different orientations: "
                    f"{listing}; {hint}.", files, stack.key, remedies=pick)
            if len(sizes) > 1:
                by_series[stack.key] += config.finding(
                    "MIXED_SHAPE",
                    f"series {uid} holds {len(stacks)} stacks of different image sizes or "
                    f"pixel spacings: {listing}; {hint}.", files, stack.key, remedies=pick)
    return dict(by_series)


def validate_series(
    series: SeriesInfo, config: ValidationConfig = ValidationConfig()
) -> list[Finding]:
    """Every finding about one series (a pure function: series in, findings out).

    Never raises (``KeyboardInterrupt`` and ``SystemExit`` aside): an unexpected failure of a
    check is an INTERNAL_ERROR finding after those found before it (:func:`internal_error`).

    The series is judged as what :func:`dicomio.load_volume` or :func:`dicomio.load_4d` make of
    it (:func:`dicomio.series.layout.lay_out`): a 4-D series is checked as volumes of the same
    slices, a single image without geometry as the image it loads as. Then the grouping notes,
    the geometry, the pixel data's length and transfer syntaxes and, with ``config.pixels``,
    the pixel data itself (decoded once, in the order a load reads it: DECODE_FAILED,
    ALL_ZERO_PIXELS, VALUES_OUT_OF_RANGE); with ``config.cross_check`` it reads the series
    with every installed backend and compares. Never raises on bad data: every problem becomes
    a finding, each code once per series (:func:`dicomio.validate.findings.merged`); a series
    listed from metadata is retrieved first to check its pixels (:func:`ready_series`).
    """
    found: list[Finding] = []
    try:
        series, found = ready_series(series, config)
        _check_series(series, config, found)
    except Exception as exc:  # the one place a check's failure becomes a finding
        found += internal_error(exc, series.files, series.key, f"validating series "
                                f"{series.key}", config)
    return merged(found)


def ready_series(series: SeriesInfo, config: ValidationConfig = ValidationConfig()
                 ) -> tuple[SeriesInfo, list[Finding]]:
    """``series`` as ``config``'s checks read it: with ``config.pixels``, retrieved when listed
    from metadata (:func:`with_pixel_data`); on failure, as it was, and DECODE_FAILED."""
    if not config.pixels or not needs_retrieval(series):
        return series, []
    try:
        return with_pixel_data(series, config.tolerances), []
    except DicomIOError as exc:
        return series, _decode_failed(series, config, exc)


def _check_series(series: SeriesInfo, config: ValidationConfig, found: list[Finding]) -> None:
    """The checks of :func:`validate_series`, appending to ``found`` as they go (so a check
    failing keeps what the checks before it found)."""
    found.extend(finding for note in series.notes
                 for finding in config.finding(note.code, note.message, note.files, series.key))
    layout = lay_out(series, config.tolerances)
    found.extend(_layout_findings(series, layout, config))
    found.extend(_geometry_findings(series, layout, config))
    for header in series.headers:
        excess = pixel_data_excess(header) or (rle_frame_excess(header) if config.pixels
                                               else None)
        if excess is not None:
            found.extend(config.finding("PIXEL_DATA_TOO_LONG", excess, [header.path],
                                        series.key))
    decodable = _syntax_findings(series, config)
    found.extend(decodable)
    if config.pixels and not decodable and not needs_retrieval(series):
        found.extend(_pixel_findings(series, layout, config))
        if config.cross_check:
            found.extend(_cross_check(series, config))


def _layout_findings(series: SeriesInfo, layout: SeriesLayout, config: ValidationConfig
                     ) -> list[Finding]:
    """What the series is: FOUR_D, FOUR_D_INCONSISTENT_ORDER, DUPLICATE_POSITION,
    MIXED_IMAGE_TYPE, MISSING_GEOMETRY, NOMINAL_GEOMETRY."""
    key = series.key
    if layout.kind == "4d":
        found = config.finding("FOUR_D", f"{layout.describe()}.", series.files[:1], key,
                               remedies=(Remedy("load_4d", None, "read its volumes",
                                                call=True),))
        if layout.mixed_types:
            found += config.finding("MIXED_IMAGE_TYPE", layout.mixed_types, series.files[:1],
                                    key)
        return found
    if layout.conflict is not None:
        return config.finding("FOUR_D_INCONSISTENT_ORDER", f"not a 4-D series: "
                              f"{layout.problem}", layout.conflict.files, key)
    if layout.kind == "repeated":
        assert series.geometry is not None
        repeated = next(i for i in series.geometry.errors if i.code == "DUPLICATE_POSITION")
        files = [series.frames[k].path for k in repeated.slices]
        return config.finding("DUPLICATE_POSITION", f"{repeated.message}; and not a 4-D "
                              f"series: {layout.problem}", files, key)
    if layout.as_stored:
        return []  # frames taken as stored: their note (FRAMES_AS_STORED) is the finding
    if layout.kind == "unplaced":
        return config.finding("MISSING_GEOMETRY",
                              f"cannot place the {series.n_slices} image(s) in space: "
                              f"{series.geometry_problem}", series.files, key)
    if layout.kind == "image":
        return config.finding("NOMINAL_GEOMETRY",
                              f"{layout.describe()} ({series.geometry_problem}): it loads in "
                              f"stored order with a nominal affine (PixelSpacing or 1 mm, "
                              f"identity directions)", series.files, key)
    return []


def _geometry_findings(series: SeriesInfo, layout: SeriesLayout, config: ValidationConfig
                       ) -> list[Finding]:
    """The geometry issues of each volume (DUPLICATE_POSITION is the layout's to report)."""
    if layout.geometry is None:
        return []
    slices = layout.volumes[0]
    found: list[Finding] = []
    for issue in layout.geometry.issues:
        if issue.code == "DUPLICATE_POSITION":
            continue
        files = [slices[k].path for k in issue.slices if k < len(slices)] or series.files
        found += config.finding(issue.code, issue.message, files, series.key,
                                default=issue.severity)
    return found


def _syntax_findings(series: SeriesInfo, config: ValidationConfig) -> list[Finding]:
    """UNSUPPORTED_TRANSFER_SYNTAX and MISSING_DECODER: what makes decoding impossible."""
    found: list[Finding] = []
    for uid in filter(None, series.transfer_syntaxes):  # "": not known before retrieval
        files = [h.path for h in series.headers if h.transfer_syntax.uid == uid]
        try:
            choose_decoder(lookup(uid), series.pixel)
        except UnsupportedTransferSyntaxError as exc:
            found += config.finding("UNSUPPORTED_TRANSFER_SYNTAX",
                                    f"{len(files)} file(s): {exc.message}", files, series.key)
        except MissingDecoderError as exc:
            found += config.finding("MISSING_DECODER", f"{len(files)} file(s): {exc.message}",
                                    files, series.key)
    return found


def _pixel_findings(series: SeriesInfo, layout: SeriesLayout, config: ValidationConfig
                    ) -> list[Finding]:
    """Read the stored values once, through the read stage with the backend ``auto`` picks,
    in the order a load reads them: DECODE_FAILED, ALL_ZERO_PIXELS, and VALUES_OUT_OF_RANGE
    counted from that same decode."""
    options = ReadOptions(rescale=False, workers=config.decode_threads)
    try:
        read = read_series(series, layout.frames, options=options,
                           count_out_of_range=_range_checked(series.pixel))
    except Exception as exc:  # every failure to read is a finding, never a crash
        return _decode_failed(series, config, exc)
    found: list[Finding] = []
    if read.all_zero is not None:
        found += config.finding("ALL_ZERO_PIXELS", f"{read.all_zero} ({series.n_slices} slices)",
                                series.files, series.key)
    found += _range_findings(series, read.out_of_range, config)
    return found


def _decode_failed(series: SeriesInfo, config: ValidationConfig, exc: Exception
                   ) -> list[Finding]:
    """DECODE_FAILED for an exception raised while reading pixels (a dicomio error names its
    file; anything else is a toolkit's own exception, reported as unexpected)."""
    if isinstance(exc, DicomIOError):
        return config.finding("DECODE_FAILED", f"{type(exc).__name__}: {exc}",
                              [exc.path] if exc.path else series.files, series.key)
    return config.finding("DECODE_FAILED", f"unexpected {type(exc).__name__}: {exc}",
                          series.files, series.key)


def _range_checked(fmt: PixelFormat) -> bool:
    """Whether stored values can use bits above BitsStored that a reader must mask."""
    return not (fmt.bits_allocated == fmt.bits_stored or fmt.bits_allocated % 8
                or fmt.float_data)


def _range_findings(series: SeriesInfo, counts: dict[Path, int], config: ValidationConfig
                    ) -> list[Finding]:
    """VALUES_OUT_OF_RANGE from the count of such values in each file."""
    if not counts:
        return []
    fmt = series.pixel
    worst = max(counts, key=counts.__getitem__)
    return config.finding(
        "VALUES_OUT_OF_RANGE",
        f"{sum(counts.values())} stored value(s) in {len(counts)} file(s) use bits above "
        f"BitsStored={fmt.bits_stored} (BitsAllocated={fmt.bits_allocated}, "
        f"{'signed' if fmt.signed else 'unsigned'}); most in {worst.name} "
        f"({counts[worst]}). dicomio masks them off; other readers may not.",
        counts, series.key)


def _cross_check(series: SeriesInfo, config: ValidationConfig) -> list[Finding]:
    """BACKEND_MISMATCH when the installed backends able to read the series disagree, and
    CROSS_CHECKED naming the backends and the codec libraries that were compared.

    This is a decoder-disagreement check: backends that run one library (OpenJPEG behind
    imagecodecs, pylibjpeg and GDCM) agree on damaged data that library decodes to a
    plausible image, so the libraries are named and counted, never claimed as more. A
    backend that groups the files into series by its own rules (``decoder_check`` False:
    dcm2niix) is left out, so that its splits of sound data are no findings; the message
    names it, and ``dicomio compare`` runs it.
    """
    from dicomio.compare.side_by_side import compare_series

    readers = [spec for spec in backend_specs() if spec.cannot_read(series) is None]
    able = [spec.name for spec in readers if spec.decoder_check]
    left_out = [spec.name for spec in readers if not spec.decoder_check]
    if len(able) < 2:
        return config.finding("CROSS_CHECKED", f"not cross-checked: only "
                              f"{', '.join(able) or 'no backend'} can read this series"
                              f"{_left_out(left_out)}", series.files[:1], series.key)
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
        found += config.finding("BACKEND_MISMATCH", f"{problem} (compared: {', '.join(able)})",
                                series.files, series.key)
    read = [row for row in comparison.results if row.status == "ok"]
    used = {row.backend: sorted({decoder_library(d, uid) for d in row.decoders
                                 for uid in series.transfer_syntaxes}) for row in read}
    libraries = sorted({name for names in used.values() for name in names} - {UNCOMPRESSED})
    if not libraries:
        what = (f"the data is uncompressed: no codec is involved, the check compares how "
                f"{', '.join(used)} interpret the stored bytes (byte order, masks, rescale)")
    else:
        listed = ", ".join(f"{backend} ({' + '.join(names)})" for backend, names in used.items())
        plural = "y" if len(libraries) == 1 else "ies"
        what = (f"{listed}; {len(libraries)} distinct codec librar{plural} compared "
                f"({', '.join(libraries)}): damage that every one of them decodes to a "
                f"plausible image is not detected")
    found += config.finding("CROSS_CHECKED", f"decoder-disagreement check by {len(read)} "
                            f"backend(s): {what}{_left_out(left_out)}", series.files[:1],
                            series.key)
    return found


def _left_out(names: Sequence[str]) -> str:
    """What the cross-check message says of the backends it leaves out (none: nothing)."""
    if not names:
        return ""
    return (f"; not compared: {', '.join(names)} (groups the files into series by its own "
            f"rules; `dicomio compare` runs it)")


def internal_error(
    exc: BaseException, files: Iterable[str | os.PathLike[str]], series: str | None, what: str,
    config: ValidationConfig = ValidationConfig(),
) -> list[Finding]:
    """INTERNAL_ERROR: ``what`` (on the ``files`` of ``series``) failed unexpectedly with
    ``exc``; the message carries the exception's type and message and names its file.

    ``exc`` is translated by :func:`dicomio.errors.from_foreign` (a dicomio error keeps its
    own type and file). ``KeyboardInterrupt`` and ``SystemExit`` are raised again, never
    reported.
    """
    error = from_foreign(exc, list(files), what)
    if not isinstance(error, Exception):
        raise error
    if isinstance(error, InternalError):
        message = error.message  # its files are the finding's
    else:  # a dicomio error no check turned into a finding, or an OSError
        message = f"{what} failed: {type(error).__name__}: {error}"
    named = [error.path] if isinstance(error, DicomIOError) and error.path is not None \
        and not isinstance(error, InternalError) else files
    return config.finding("INTERNAL_ERROR", message, named, series)


def over_budget(
    files: Iterable[str | os.PathLike[str]], series: str | None, what: str, reason: str,
    config: ValidationConfig = ValidationConfig(),
) -> list[Finding]:
    """OVER_BUDGET: checking (or converting) ``what`` went over the run's time limit or memory
    ceiling (``reason`` says which), so it was not checked; ``series`` is its UID, if known."""
    return config.finding("OVER_BUDGET", f"{what} was not processed: {reason}", files, series)


def worker_died(
    files: Iterable[str | os.PathLike[str]], series: str | None, what: str,
    config: ValidationConfig = ValidationConfig(),
) -> list[Finding]:
    """WORKER_DIED: the process checking ``what`` died on every attempt, so it was not
    checked (or converted); ``series`` is its SeriesInstanceUID, if known."""
    return config.finding("WORKER_DIED",
                          f"{what} was not processed: its worker process died on every attempt "
                          f"(killed, out of memory, or a crash in native code)", files, series)
