"""Findings: what ``dicomio validate`` reports, each with a stable code.

The codes, their default severities and what each means are listed in :data:`CODES` (and in
``docs/findings.md``). A code never changes meaning; new ones may be added.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from dicomio.errors import Remedy, advice

__all__ = ["CODES", "MAX_FILES", "SEVERITIES", "Finding", "Severity", "at_least", "merged"]

Severity = Literal["error", "warning", "info"]
#: From the most to the least serious.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
#: How many of its files a finding lists (``n_files`` counts them all).
MAX_FILES = 20


@dataclass(frozen=True)
class Finding:
    """One thing ``validate`` found.

    Attributes
    ----------
    code
        Stable identifier (see :data:`CODES`).
    severity
        ``"error"``, ``"warning"`` or ``"info"`` (the default of the code unless configured).
    message
        What was found, in words a user can act on.
    files
        The first :data:`MAX_FILES` files concerned (as given or found under the validated
        paths).
    n_files
        How many files are concerned in all.
    series
        Key of the series concerned (``uid`` or ``uid#stack``), or None for a finding about
        the files or folders themselves.
    remedies
        What gets past it, as data (:class:`dicomio.errors.Remedy`): ``message`` ends with
        them in Python (``series='uid#stack'``); :meth:`explained` names them otherwise (the
        command line: its options).
    """

    code: str
    severity: Severity
    message: str
    files: tuple[str, ...] = ()
    series: str | None = None
    n_files: int = 0
    remedies: tuple[Remedy, ...] = ()

    def __post_init__(self) -> None:
        if len(self.files) > MAX_FILES or self.n_files < len(self.files):
            object.__setattr__(self, "n_files", max(self.n_files, len(self.files)))
            object.__setattr__(self, "files", self.files[:MAX_FILES])

    def explained(self, name: Callable[[Remedy], str]) -> str:
        """The message with its remedies named by ``name``."""
        said = advice(self.remedies)
        return self.message.removesuffix(said) + advice(self.remedies, name)

    def named(self, name: Callable[[Remedy], str]) -> Finding:
        """This finding with its message :meth:`explained` by ``name``."""
        return replace(self, message=self.explained(name), remedies=())

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "files": list(self.files), "n_files": self.n_files, "series": self.series}


def merged(findings: Iterable[Finding],
           key: Callable[[Finding], Hashable] | None = None) -> list[Finding]:
    """One finding per code and series: those sharing both become one, listing their messages
    (the first three, then how many more) and their files; in order of first appearance.

    ``key`` groups by something else than ``(code, series)`` (it must tell codes apart): the
    findings about files are merged per code and folder
    (:func:`dicomio.validate.checks.check_skipped`).
    """
    groups: dict[Hashable, list[Finding]] = {}
    for finding in findings:
        group = (finding.code, finding.series) if key is None else key(finding)
        groups.setdefault(group, []).append(finding)
    result = []
    for same in groups.values():
        if len(same) == 1:
            result.append(same[0])
            continue
        remedies = same[0].remedies if all(f.remedies == same[0].remedies for f in same) else ()
        said = advice(remedies)
        messages = list(dict.fromkeys(f.explained(Remedy.python).removesuffix(said).rstrip()
                                      for f in same))
        message = "; ".join(messages[:3])
        if len(messages) > 3:
            message += f"; and {len(messages) - 3} more like these"
        message = f"{message} {said}" if said else message
        files = tuple(dict.fromkeys(path for f in same for path in f.files))
        counted = max(len(files), sum(f.n_files for f in same))
        result.append(Finding(same[0].code, same[0].severity, message, files, same[0].series,
                              counted, remedies))
    return result


def at_least(severity: Severity, threshold: Severity) -> bool:
    """``severity`` is as serious as ``threshold`` or more."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


#: code → (default severity, what it means). Documented in docs/findings.md.
CODES: dict[str, tuple[Severity, str]] = {
    # files and folders
    "NO_DICOM": ("error", "a validated path holds no DICOM image"),
    "UNREADABLE_FILE": ("error", "a file could not be read, or is DICOM with a truncated or "
                                 "malformed header, or is a damaged file named like the images "
                                 "beside it (possibly a lost slice)"),
    "SKIPPED_FILE": ("info", "a file that is not an image was skipped (not DICOM, DICOMDIR, "
                             "structured report, ...)"),
    "MULTIPLE_SERIES": ("info", "one folder holds files of several series"),
    # how the files group into series
    "MIXED_ORIENTATION": ("warning", "one SeriesInstanceUID holds images of different "
                                     "orientations (split into stacks)"),
    "MIXED_SHAPE": ("warning", "one SeriesInstanceUID holds images of different sizes or pixel "
                               "spacings (split into stacks)"),
    "DUPLICATE_FILE": ("info", "copies of an image (same SOPInstanceUID, same position) were "
                               "dropped"),
    "SHARED_SOP_INSTANCE_UID": ("error", "different images share one SOPInstanceUID"),
    "FRAMES_AS_STORED": ("error", "the tiles of a mosaic or the frames of an enhanced file "
                                  "could not be placed as the file says: taken as stored, "
                                  "the series does not load"),
    "SERIES_WARNING": ("warning", "something else noticed while grouping the files of the "
                                  "series (no longer given: what it reported is "
                                  "FRAMES_AS_STORED; kept so that configurations naming it "
                                  "stay valid)"),
    # what the series is
    "FOUR_D": ("info", "a 4-D series: several volumes of the same slices, in a stated order"),
    "DUPLICATE_POSITION": ("error", "images share slice positions but do not form complete "
                                    "volumes of the same slices"),
    "FOUR_D_INCONSISTENT_ORDER": ("error", "complete volumes of the same slices, but the key "
                                           "naming a volume (TemporalPositionIndex, "
                                           "DimensionIndexValues) differs between its "
                                           "positions"),
    "MIXED_IMAGE_TYPE": ("warning", "the volumes of a 4-D series differ in ImageType"),
    # vendor conventions (dicomio.series.vendor, docs/vendors.md)
    "GE_EPI_PEPOLAR": ("info", "a GE epi_pepolar series: its reversed phase-encoding images, "
                               "stored with their rows reversed, are flipped back; the two "
                               "polarities are separate stacks"),
    "IMAGE_KINDS_SPLIT": ("info", "images of different kinds (magnitude, phase, real, "
                                  "imaginary, field map in Hz, derived diffusion maps) under "
                                  "one series, told apart by their headers, are separate "
                                  "stacks"),
    "IMAGE_KINDS_UNTOLD": ("warning", "images of different kinds that nothing in their headers "
                                      "tells apart (a GE B0 map) load as one 4-D series"),
    "PHILIPS_SCALING": ("info", "Philips private scaling: the DICOM modality values returned "
                                "differ from Philips' floating-point values, available with "
                                "scaling='philips_precise'"),
    # geometry
    "MISSING_SLICE": ("error", "a gap between slices is a multiple of the spacing"),
    "IRREGULAR_SPACING": ("error", "the gaps between slices are not equal"),
    "GANTRY_TILT": ("error", "the slices are sheared (tilted gantry)"),
    "THICKNESS_SPACING_MISMATCH": ("info", "SliceThickness differs from the spacing of "
                                           "the positions"),
    "SINGLE_SLICE": ("info", "the series has one slice: its thickness along the normal is "
                             "assumed"),
    "MISSING_GEOMETRY": ("error", "two images or more whose position, orientation or pixel "
                                  "spacing is missing or invalid"),
    "NOMINAL_GEOMETRY": ("info", "a single image without patient geometry: loaded with a "
                                 "nominal affine"),
    # pixel data
    "UNSUPPORTED_TRANSFER_SYNTAX": ("error", "no dicomio decoder exists for the transfer "
                                             "syntax"),
    "MISSING_DECODER": ("error", "the transfer syntax needs a decoder that is not installed"),
    "DECODE_FAILED": ("error", "the pixel data could not be read"),
    "PIXEL_DATA_TOO_LONG": ("error", "native pixel data is longer than the images the header "
                                     "declares, or RLE data holds more frames than it declares"),
    "ALL_ZERO_PIXELS": ("warning", "every pixel of the series is zero"),
    "VALUES_OUT_OF_RANGE": ("warning", "stored values use bits above BitsStored"),
    "BACKEND_MISMATCH": ("error", "backends read different values, or one of them fails "
                                  "(--cross-check)"),
    "CROSS_CHECKED": ("info", "which backends and decoder libraries the cross-check compared "
                              "(--cross-check)"),
    # the run itself
    "WORKER_DIED": ("error", "the process checking a series (or listing a folder) died on "
                             "every attempt: it was not checked"),
    "OVER_BUDGET": ("error", "checking a series (or listing a folder) went over the run's time "
                             "limit or memory ceiling: it was not checked"),
    "INTERNAL_ERROR": ("error", "dicomio failed unexpectedly on a series (or its files): it "
                                "was not fully checked; the finding names the exception and "
                                "the file"),
}
