"""Findings: what ``dicomio validate`` reports, each with a stable code.

The codes, their default severities and what each means are listed in :data:`CODES` (and in
``docs/findings.md``). A code never changes meaning; new ones may be added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CODES", "SEVERITIES", "Finding", "Severity", "at_least"]

Severity = Literal["error", "warning", "info"]
#: From the most to the least serious.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


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
        The files concerned (as given or found under the validated paths).
    series
        Key of the series concerned (``uid`` or ``uid#stack``), or None for a finding about
        the files or folders themselves.
    """

    code: str
    severity: Severity
    message: str
    files: tuple[str, ...] = ()
    series: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "files": list(self.files), "series": self.series}


def at_least(severity: Severity, threshold: Severity) -> bool:
    """``severity`` is as serious as ``threshold`` or more."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


#: code → (default severity, what it means). Documented in docs/findings.md.
CODES: dict[str, tuple[Severity, str]] = {
    "NO_DICOM": ("error", "a validated path holds no DICOM image"),
    "UNREADABLE_FILE": ("error", "a file could not be read, or is DICOM with a truncated or "
                                 "malformed header (possibly a lost slice)"),
    "SKIPPED_FILE": ("info", "a file that is not an image was skipped (not DICOM, DICOMDIR, "
                             "structured report, ...)"),
    "MULTIPLE_SERIES": ("info", "one folder holds files of several series"),
    "MIXED_ORIENTATION": ("warning", "one SeriesInstanceUID holds images of different "
                                     "orientations (split into stacks)"),
    "MIXED_SHAPE": ("warning", "one SeriesInstanceUID holds images of different sizes or pixel "
                               "spacings (split into stacks)"),
    "SERIES_WARNING": ("warning", "something noticed while grouping the files of the series "
                                  "(a duplicate file dropped, ...)"),
    "MISSING_SLICE": ("error", "a gap between slices is a multiple of the spacing"),
    "IRREGULAR_SPACING": ("error", "the gaps between slices are not equal"),
    "DUPLICATE_POSITION": ("error", "several different images share one position (4-D or "
                                    "several acquisitions)"),
    "GANTRY_TILT": ("error", "the slices are sheared (tilted gantry)"),
    "THICKNESS_SPACING_MISMATCH": ("warning", "SliceThickness differs from the spacing of "
                                              "the positions"),
    "SINGLE_SLICE": ("info", "the series has one slice: its thickness along the normal is "
                             "assumed"),
    "MISSING_GEOMETRY": ("error", "position, orientation or pixel spacing is missing or "
                                  "invalid"),
    "UNSUPPORTED_TRANSFER_SYNTAX": ("error", "no dicomio decoder exists for the transfer "
                                             "syntax"),
    "MISSING_DECODER": ("error", "the transfer syntax needs a decoder that is not installed"),
    "DECODE_FAILED": ("error", "the pixel data could not be read"),
    "ALL_ZERO_PIXELS": ("warning", "every pixel of the series is zero"),
    "VALUES_OUT_OF_RANGE": ("warning", "stored values use bits above BitsStored"),
    "BACKEND_MISMATCH": ("error", "backends read different values, or one of them fails "
                                  "(--cross-check)"),
    "WORKER_DIED": ("error", "the process checking a series (or listing a folder) died on "
                             "every attempt: it was not checked"),
}
