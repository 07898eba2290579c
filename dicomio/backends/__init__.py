"""The backend registry and the rules that pick one.

Each backend is a :class:`BackendSpec`: whether it is installed and what it can decode are known
without importing its toolkit. ``backend="auto"`` tries them in :data:`AUTO_ORDER`, skips each
one that is not installed or cannot read the series (recording why), and the first survivor
reads. A backend named explicitly never falls back to another.
"""

from __future__ import annotations

from ..decode import choose_decoder, decodable_syntaxes
from ..errors import (
    BackendCannotReadError,
    BackendUnavailableError,
    MissingDecoderError,
    UnsupportedTransferSyntaxError,
)
from ..series import SeriesInfo
from ..transfer_syntax import lookup
from .base import Backend, BackendSpec, ReadOptions, ReadResult, ReportedGeometry

__all__ = [
    "AUTO_ORDER",
    "BACKENDS",
    "Backend",
    "BackendSpec",
    "ReadOptions",
    "ReadResult",
    "ReportedGeometry",
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

BACKENDS: dict[str, BackendSpec] = {spec.name: spec for spec in (DIRECT, PYDICOM)}
AUTO_ORDER: tuple[str, ...] = ("direct", "pydicom")


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
