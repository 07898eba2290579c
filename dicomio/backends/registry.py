"""The backend registry and the rules that pick one.

Each backend is a :class:`BackendSpec`: whether it is installed and what it can decode are known
without importing its toolkit. ``backend="auto"`` tries them in :data:`AUTO_ORDER`, skips each
one that is not installed or cannot read the series (recording why), and the first survivor
reads. A backend named explicitly never falls back to another.

The order is fastest and most capable first: ``direct`` (dicomio's own reader, threads,
imagecodecs), ``pydicom`` (the reference, file by file), then the toolkits, which read fewer
series and whose values dicomio has to convert back: ``sitk`` (GDCM decodes every common
syntax) and last ``vtk`` (uncompressed little-endian grey or RGB only).
"""

from __future__ import annotations

from dataclasses import dataclass

from dicomio.backends.base import Backend, BackendSpec, ReadOptions, ReadResult, ReportedGeometry
from dicomio.backends.vtk_backend import vtk_cannot_invert
from dicomio.dicom.transfer_syntax import TRANSFER_SYNTAXES, lookup
from dicomio.errors import (
    BackendCannotReadError,
    BackendUnavailableError,
    MissingDecoderError,
    UnsupportedTransferSyntaxError,
)
from dicomio.pixels.decoders import choose_decoder, decodable_syntaxes
from dicomio.series.info import SeriesInfo

__all__ = [
    "AUTO_ORDER",
    "BACKENDS",
    "Backend",
    "BackendInfo",
    "BackendSpec",
    "ReadOptions",
    "ReadResult",
    "ReportedGeometry",
    "describe_backends",
    "get_spec",
    "select",
]


def _decodable() -> frozenset[str]:
    return frozenset(decodable_syntaxes())


def _direct_unable(series: SeriesInfo) -> str | None:
    fmt = series.pixel
    if fmt.bits_allocated % 8:
        return f"BitsAllocated {fmt.bits_allocated} is not a whole number of bytes"
    return None


def _pydicom_unable(series: SeriesInfo) -> str | None:
    if series.pixel.bits_allocated == 1:  # segmentations: no stored dtype of 1 bit
        return "BitsAllocated 1 (bit-packed pixels, as in segmentations) is not supported"
    return None


DIRECT = BackendSpec(
    name="direct",
    module="dicomio.backends.direct",
    requires=("numpy", "pydicom"),
    distribution="dicomio",
    extra=None,
    summary="dicomio's own reader: header scan once, bytes read straight into the array, "
            "frames decoded in parallel threads (imagecodecs, else pydicom's plugins)",
    syntaxes=_decodable,
    unable=_direct_unable,
)
PYDICOM = BackendSpec(
    name="pydicom",
    module="dicomio.backends.pydicom_backend",
    requires=("pydicom",),
    distribution="pydicom",
    extra=None,
    summary="pydicom.dcmread + pydicom.pixels, one file after another (plugins: pylibjpeg, "
            "gdcm, pyjpegls, pillow)",
    syntaxes=_decodable,
    unable=_pydicom_unable,
)


# Native syntaxes, then every compressed one GDCM decoded in dicomio's tests (see
# tests/test_sitk_backend.py and the conformance suite).
_NATIVE = frozenset(uid for uid, ts in TRANSFER_SYNTAXES.items() if ts.supported and ts.native)
_SITK_SYNTAXES = _NATIVE | {
    "1.2.840.10008.1.2.5",       # RLE Lossless
    "1.2.840.10008.1.2.4.50",    # JPEG Baseline
    "1.2.840.10008.1.2.4.51",    # JPEG Extended (12-bit)
    "1.2.840.10008.1.2.4.57",    # JPEG Lossless
    "1.2.840.10008.1.2.4.70",    # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",    # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",    # JPEG-LS Near-Lossless
    "1.2.840.10008.1.2.4.90",    # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91",    # JPEG 2000
    "1.2.840.10008.1.2.4.201",   # HTJ2K Lossless
    "1.2.840.10008.1.2.4.202",   # HTJ2K Lossless RPCL
    "1.2.840.10008.1.2.4.203",   # HTJ2K
}
# vtkDICOMImageReader reads uncompressed little-endian data only: compressed data comes back
# as zeros, big endian and deflated files as an empty image.
_VTK_SYNTAXES = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"})


def _multi_frame(series: SeriesInfo) -> bool:
    return any(h.pixel is not None and h.pixel.number_of_frames > 1 for h in series.headers)


def _sitk_unable(series: SeriesInfo) -> str | None:
    fmt = series.pixel
    if _multi_frame(series):
        return "multi-frame files (ImageSeriesReader reads one image per file)"
    if fmt.float_data:
        return "Float Pixel Data (not tested with GDCM)"
    if fmt.bits_allocated not in (8, 16, 32):
        return f"BitsAllocated {fmt.bits_allocated}"
    if fmt.bits_allocated == 8 and fmt.bits_stored < 8:
        return f"8-bit data with BitsStored {fmt.bits_stored} (GDCM requires 8)"
    if fmt.bits_allocated == 32 and fmt.bits_stored < 32:
        return f"32-bit data with BitsStored {fmt.bits_stored} (GDCM masks the wrong bits)"
    if fmt.photometric_interpretation == "PALETTE COLOR":
        return "GDCM applies the palette (RGB out); the contract returns the stored indices"
    if (fmt.photometric_interpretation == "MONOCHROME1" and fmt.signed
            and fmt.bits_stored == 12):
        return "GDCM fails on signed 12-bit MONOCHROME1"
    return None


def _vtk_unable(series: SeriesInfo) -> str | None:
    fmt = series.pixel
    if _multi_frame(series):
        return "multi-frame files (vtkDICOMImageReader reads the first frame only)"
    if fmt.float_data:
        return "Float Pixel Data"
    if fmt.bits_allocated not in (8, 16):
        return f"BitsAllocated {fmt.bits_allocated} (vtkDICOMImageReader reads 8 or 16)"
    if fmt.samples_per_pixel > 1 and fmt.photometric_interpretation != "RGB":
        return f"{fmt.photometric_interpretation} colour (VTK does not convert it to RGB)"
    for frame in series.frames:
        reason = vtk_cannot_invert(fmt, frame.slope, frame.intercept)
        if reason is not None:
            return reason
    return None


SITK = BackendSpec(
    name="sitk",
    module="dicomio.backends.sitk_backend",
    requires=("SimpleITK",),
    distribution="SimpleITK",
    extra="sitk",
    summary="SimpleITK ImageSeriesReader (GDCM) on dicomio's sorted file list; its rescale "
            "and MONOCHROME1 inversion undone",
    syntaxes=lambda: _SITK_SYNTAXES,
    unable=_sitk_unable,
)
VTK = BackendSpec(
    name="vtk",
    module="dicomio.backends.vtk_backend",
    requires=("vtk",),
    distribution="vtk",
    extra="vtk",
    summary="vtkDICOMImageReader, file by file in dicomio's order; bottom-up rows and rescale "
            "undone; uncompressed little-endian only",
    syntaxes=lambda: _VTK_SYNTAXES,
    unable=_vtk_unable,
)

BACKENDS: dict[str, BackendSpec] = {spec.name: spec for spec in (DIRECT, PYDICOM, SITK, VTK)}
AUTO_ORDER: tuple[str, ...] = ("direct", "pydicom", "sitk", "vtk")


@dataclass(frozen=True)
class BackendInfo:
    """One backend as ``dicomio backends`` reports it (plain data, JSON-able).

    Attributes
    ----------
    name
        What to pass as ``backend=``.
    installed, version
        Whether its toolkit is importable, and the toolkit's version (None if absent).
    extra, install
        The pip extra that installs it (None: always installed) and the command.
    auto_rank
        Its place in ``auto``'s order (1 = tried first), None if ``auto`` never tries it.
    summary
        How it reads.
    transfer_syntaxes
        UIDs of the transfer syntaxes it decodes (as installed now, for dicomio's own).
    """

    name: str
    installed: bool
    version: str | None
    extra: str | None
    install: str
    auto_rank: int | None
    summary: str
    transfer_syntaxes: tuple[str, ...]


def describe_backends() -> list[BackendInfo]:
    """Every registered backend, installed or not, without importing any toolkit."""
    infos = []
    for spec in BACKENDS.values():
        installed = spec.installed()
        infos.append(BackendInfo(
            name=spec.name,
            installed=installed,
            version=spec.version() if installed else None,
            extra=spec.extra,
            install=spec.install_hint(),
            auto_rank=AUTO_ORDER.index(spec.name) + 1 if spec.name in AUTO_ORDER else None,
            summary=spec.summary,
            transfer_syntaxes=tuple(uid for uid in TRANSFER_SYNTAXES if uid in spec.syntaxes()),
        ))
    return infos


def register(spec: BackendSpec, *, auto_position: int | None = None) -> None:
    """Add a backend to the registry (and to ``auto``'s order at ``auto_position``)."""
    global AUTO_ORDER
    BACKENDS[spec.name] = spec
    if auto_position is not None and spec.name not in AUTO_ORDER:
        order = list(AUTO_ORDER)
        order.insert(auto_position, spec.name)
        AUTO_ORDER = tuple(order)


def get_spec(name: str) -> BackendSpec:
    """The spec of backend ``name``; ValueError naming the known ones otherwise."""
    try:
        return BACKENDS[name]
    except KeyError:
        known = ", ".join(["auto", *BACKENDS])
        raise ValueError(f"unknown backend {name!r}; choose one of {known}") from None


def select(series: SeriesInfo, backend: str = "auto") -> tuple[BackendSpec, list[tuple[str, str]]]:
    """Choose the backend that reads ``series``.

    Returns
    -------
    spec, skipped
        The chosen backend, and ``(name, reason)`` for each one ``auto`` passed over.

    Raises
    ------
    BackendUnavailableError
        The named backend is not installed (the message names the pip extra).
    BackendCannotReadError
        The named backend cannot read this series (the message names those that can); or, with
        ``auto``, none can.
    """
    if backend != "auto":
        spec = get_spec(backend)
        if not spec.installed():
            raise BackendUnavailableError(
                f"backend {spec.name!r} is not installed: {spec.install_hint()}")
        reason = spec.cannot_read(series)
        if reason is not None:
            able = [s.name for s in BACKENDS.values()
                    if s.name != spec.name and s.cannot_read(series) is None]
            raise BackendCannotReadError(
                f"backend {spec.name!r} cannot read series {series.key}: {reason}; "
                f"backends that can: {', '.join(able) or 'none installed'}",
                path=series.frames[0].path)
        return spec, []
    skipped: list[tuple[str, str]] = []
    for name in AUTO_ORDER:
        spec = BACKENDS[name]
        reason = spec.cannot_read(series)
        if reason is None:
            return spec, skipped
        skipped.append((name, reason))
    _raise_undecodable(series)
    details = "; ".join(f"{name}: {reason}" for name, reason in skipped)
    raise BackendCannotReadError(f"no installed backend can read series {series.key} ({details})",
                                 path=series.frames[0].path)


def _raise_undecodable(series: SeriesInfo) -> None:
    """Raise the precise error when a syntax of the series cannot be decoded at all."""
    for uid in series.transfer_syntaxes:
        try:
            choose_decoder(lookup(uid), series.pixel)
        except (UnsupportedTransferSyntaxError, MissingDecoderError) as exc:
            first = next(f.path for f in series.frames
                         if f.header.transfer_syntax.uid == uid)
            raise type(exc)(exc.message, path=first) from None
