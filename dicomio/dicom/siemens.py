"""Siemens acquisition values kept only in private elements: phase-encoding polarity and the
time each slice was acquired.

Classic and mosaic files keep them in the CSA image header (0029,xx10) of "SIEMENS CSA
HEADER": ``PhaseEncodingDirectionPositive`` (1: the phase is encoded along the direction of the
image's row or column cosine; 0: against it) and ``MosaicRefAcqTimes`` (each tile's acquisition
time in ms, in tile order). XA enhanced files keep them per frame, in the (0021,xxFE) item of
"SIEMENS MR SDI 02": (0021,xx1C) the polarity and (0021,xx04) the frame's time after the start
of the acquisition, in seconds. The bandwidth per pixel along the phase-encoding direction (Hz),
from which the effective echo spacing follows, is the CSA's ``BandwidthPerPixelPhaseEncode`` or
the XA frame's (0021,xx53). dcm2niix reads the same elements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dicomio.dicom.csa import CsaElement, CsaError, number, parse_csa
from dicomio.dicom.elements import first_number, frame_groups, private

__all__ = ["bandwidth_per_pixel_phase_encode", "csa_image_header", "dwell_time",
           "frame_time_after_start", "mosaic_slice_times", "phase_encoding_positive"]

_CSA = "SIEMENS CSA HEADER"
_SDI = "SIEMENS MR SDI 02"


def csa_image_header(dataset: Any) -> Mapping[str, CsaElement]:
    """The elements of the CSA image header, empty when absent or unreadable."""
    raw = private(dataset, 0x0029, _CSA, 0x10)
    if not isinstance(raw, bytes):
        return {}
    try:
        return parse_csa(raw)
    except CsaError:
        return {}


def _sdi(dataset: Any, frame: int, element: int) -> Any:
    """Element ``(0021,xx<element>)`` of frame ``frame``'s SDI private item, or None."""
    for group in frame_groups(dataset, frame):
        items = private(group, 0x0021, _SDI, 0xFE)
        if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
            continue
        for item in items:
            value = private(item, 0x0021, _SDI, element)
            if value is not None:
                return value
    return None


def phase_encoding_positive(dataset: Any, frame: int = 0) -> bool | None:
    """Whether the phase is encoded along the image's row or column cosine (True), against it
    (False), or unknown (None)."""
    value = number(csa_image_header(dataset), "PhaseEncodingDirectionPositive")
    if value is None:
        value = first_number(_sdi(dataset, frame, 0x1C))
    return None if value not in (0, 1) else value == 1


def mosaic_slice_times(dataset: Any) -> tuple[float, ...] | None:
    """Each tile's acquisition time in seconds, in tile order (``MosaicRefAcqTimes``)."""
    element = csa_image_header(dataset).get("MosaicRefAcqTimes")
    if element is None:
        return None
    try:
        times = element.numbers()
    except ValueError:
        return None
    return tuple(t / 1000.0 for t in times) or None


def frame_time_after_start(dataset: Any, frame: int) -> float | None:
    """An XA enhanced frame's time after the start of the acquisition, in seconds."""
    return first_number(_sdi(dataset, frame, 0x04))


def bandwidth_per_pixel_phase_encode(dataset: Any, frame: int = 0) -> float | None:
    """The bandwidth per pixel along the phase-encoding direction, in Hz, or None."""
    value = number(csa_image_header(dataset), "BandwidthPerPixelPhaseEncode")
    if value is None:
        value = first_number(_sdi(dataset, frame, 0x53))
    return value if value is not None and value > 0 else None


def dwell_time(dataset: Any) -> float | None:
    """The readout's dwell time in seconds (CSA ``RealDwellTime``, in ns), or None."""
    value = number(csa_image_header(dataset), "RealDwellTime")
    return value * 1e-9 if value is not None and value > 0 else None
