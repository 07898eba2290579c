"""Transfer syntax → decoders (one table, :data:`DECODERS`), and which one decodes a frame.

Two families of decoders, tried in this order:

``imagecodecs``
    The fastest exact decoders for grey-scale frames (lossless JPEG, JPEG-LS, JPEG 2000, HTJ2K,
    RLE; :mod:`dicomio.pixels.imagecodecs_decoders`). They release the GIL, so frames decode in
    parallel threads. Frames are checked structurally first (:mod:`dicomio.pixels.codestream`):
    these decoders are not hardened against damaged input. Installed with dicomio.
``pydicom/<plugin>``
    pydicom 3's decoders (``pydicom.pixels``) with the plugins it finds installed: pylibjpeg
    (always installed with dicomio), gdcm, pyjpegls, pillow, and pydicom's own RLE decoder.
    They also convert YBR colour to RGB, so colour frames always take this path.

A :class:`DecoderInfo` says which one decodes (its pydicom ``plugin``, or imagecodecs), and
:meth:`dicomio.pixels.encapsulated.EncodedPixels.decode` dispatches on it through the
table, never on a decoder's name.
Every decoder returns the stored bit patterns; :func:`dicomio.pixels.values.to_stored` turns
them into values the same way whichever decoder ran.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass

from dicomio.arguments import check_choice
from dicomio.dicom.transfer_syntax import (
    HTJ2K,
    HTJ2K_LOSSLESS,
    HTJ2K_LOSSLESS_RPCL,
    JPEG2000,
    JPEG2000_LOSSLESS,
    JPEG_BASELINE_8BIT,
    JPEG_EXTENDED_12BIT,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    RLE_LOSSLESS,
    TRANSFER_SYNTAXES,
    TransferSyntax,
    lookup,
)
from dicomio.dicom.types import PixelFormat
from dicomio.errors import MissingDecoderError, UnsupportedTransferSyntaxError
from dicomio.extras import pip_install
from dicomio.pixels.imagecodecs_decoders import (
    FrameDecode,
    dct_jpeg,
    jpeg2000,
    jpeg_ls,
    lossless_jpeg,
    rle,
)

__all__ = [
    "DECODERS",
    "DECODER_NAMES",
    "DecoderInfo",
    "DecoderOrder",
    "SyntaxDecoders",
    "check_decoder",
    "choose_decoder",
    "decodable_syntaxes",
    "decodable_uids",
    "decoders_for",
    "decodes_syntax",
    "iter_decoders",
]

@dataclass(frozen=True)
class SyntaxDecoders:
    """The decoders of one compressed transfer syntax, in dicomio's order of preference.

    Attributes
    ----------
    imagecodecs
        Decodes its grey-scale frames with imagecodecs, tried first; None where imagecodecs is
        not used.
    plugins
        pydicom's plugins for it (``decoding_plugin=``), in dicomio's order of preference; those
        pydicom finds installed are used.
    """

    imagecodecs: FrameDecode | None
    plugins: tuple[str, ...]


@dataclass(frozen=True)
class DecoderInfo:
    """A decoder dicomio can use for a transfer syntax.

    Attributes
    ----------
    name
        ``"imagecodecs"`` or ``"pydicom/<plugin>"``.
    pip
        What to install to get it.
    releases_gil
        Decoding in threads runs in parallel.
    plugin
        The pydicom plugin that decodes (``decoding_plugin=``); None for imagecodecs, which
        decodes with the function of the syntax's entry in :data:`DECODERS`.
    """

    name: str
    pip: str
    releases_gil: bool
    plugin: str | None = None


_JPEG_PLUGINS = ("pylibjpeg", "gdcm", "pillow")
_JPEG_LS_PLUGINS = ("pylibjpeg", "gdcm", "pyjpegls")

#: Every compressed syntax dicomio decodes, and its decoders in order of preference (as
#: pydicom keeps one ``Decoder`` per UID with its plugins). For DCT (lossy) JPEG, libjpeg-turbo
#: (imagecodecs) gives GDCM's values, and decodes 12-bit streams pylibjpeg's libjpeg refuses;
#: libjpeg rounds the inverse DCT differently (by a level or two: lossy syntaxes are compared
#: within a tolerance, :attr:`~dicomio.dicom.transfer_syntax.TransferSyntax.lossy`).
DECODERS: dict[str, SyntaxDecoders] = {
    JPEG_BASELINE_8BIT: SyntaxDecoders(dct_jpeg, _JPEG_PLUGINS),
    JPEG_EXTENDED_12BIT: SyntaxDecoders(dct_jpeg, _JPEG_PLUGINS),
    JPEG_LOSSLESS: SyntaxDecoders(lossless_jpeg, ("pylibjpeg", "gdcm")),
    JPEG_LOSSLESS_SV1: SyntaxDecoders(lossless_jpeg, ("pylibjpeg", "gdcm")),
    JPEG_LS_LOSSLESS: SyntaxDecoders(jpeg_ls, _JPEG_LS_PLUGINS),
    JPEG_LS_NEAR_LOSSLESS: SyntaxDecoders(jpeg_ls, _JPEG_LS_PLUGINS),
    JPEG2000_LOSSLESS: SyntaxDecoders(jpeg2000, _JPEG_PLUGINS),
    JPEG2000: SyntaxDecoders(jpeg2000, _JPEG_PLUGINS),
    HTJ2K_LOSSLESS: SyntaxDecoders(jpeg2000, ("pylibjpeg",)),
    HTJ2K_LOSSLESS_RPCL: SyntaxDecoders(jpeg2000, ("pylibjpeg",)),
    HTJ2K: SyntaxDecoders(jpeg2000, ("pylibjpeg",)),
    RLE_LOSSLESS: SyntaxDecoders(rle, ("pylibjpeg", "pydicom")),
}


_PLUGINS = tuple(dict.fromkeys(p for entry in DECODERS.values() for p in entry.plugins))

#: Every name a decoder may be asked for by (``decoder=``): ``"imagecodecs"``, a pydicom plugin
#: (``"pylibjpeg"``) or its full name (``"pydicom/pylibjpeg"``), installed or not.
DECODER_NAMES = ("imagecodecs", *_PLUGINS, *(f"pydicom/{p}" for p in _PLUGINS))


def check_decoder(decoder: object) -> None:
    """``decoder`` must be None or one of :data:`DECODER_NAMES` (one not installed is refused
    when a series needs it, naming the installed ones).

    Raises
    ------
    InvalidArgumentError
        Any other value: a name that is no decoder's would be ignored for native data.
    """
    if decoder is not None:
        check_choice("decoder", decoder, DECODER_NAMES)


@functools.cache
def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@functools.cache
def _pydicom_plugins(uid: str) -> tuple[str, ...]:
    """pydicom's installed decoding plugins for a syntax, in dicomio's preference order."""
    from pydicom.pixels.decoders.base import get_decoder

    try:
        available = set(get_decoder(uid).available_plugins)
    except (NotImplementedError, ValueError):
        return ()
    return tuple(p for p in DECODERS[uid].plugins if p in available)


def iter_decoders(syntax: TransferSyntax, fmt: PixelFormat | None = None
                  ) -> Iterator[DecoderInfo]:
    """The installed decoders for ``syntax`` (and, if given, frames of format ``fmt``), fastest
    first, found as they are asked for: pydicom's plugins are listed (which imports pydicom's
    pixel stack, about 0.15 s of a fresh process) only after imagecodecs has been passed."""
    if syntax.native or not syntax.supported:
        return
    entry = DECODERS.get(syntax.uid)
    if entry is None:
        return
    grey = fmt is None or fmt.samples_per_pixel == 1
    if entry.imagecodecs is not None and grey and _installed("imagecodecs"):
        yield DecoderInfo("imagecodecs", "imagecodecs", True)
    yield from (DecoderInfo(f"pydicom/{p}", p, False, plugin=p)
                for p in _pydicom_plugins(syntax.uid))


def decoders_for(syntax: TransferSyntax, fmt: PixelFormat | None = None) -> list[DecoderInfo]:
    """Every one of :func:`iter_decoders`. Native (uncompressed) syntaxes need no decoder and
    return ``[]``."""
    return list(iter_decoders(syntax, fmt))


@dataclass(frozen=True)
class DecoderOrder:
    """The decoders the frames of one syntax and pixel format go to, in order: ``first``,
    then (with ``fallback``) every other installed one, listed only when ``first`` fails."""

    first: DecoderInfo
    syntax: TransferSyntax
    fmt: PixelFormat | None = None
    fallback: bool = True

    def __iter__(self) -> Iterator[DecoderInfo]:
        yield self.first
        if self.fallback:
            yield from (d for d in iter_decoders(self.syntax, self.fmt) if d != self.first)


def choose_decoder(
    syntax: TransferSyntax,
    fmt: PixelFormat | None = None,
    prefer: str | None = None,
    *,
    pydicom_only: bool = False,
) -> DecoderInfo | None:
    """Pick the decoder for ``syntax``; None for native syntaxes.

    Parameters
    ----------
    prefer
        A decoder name (``"imagecodecs"``, ``"pydicom/pylibjpeg"``, or just ``"pylibjpeg"``) to
        use instead of the fastest.
    pydicom_only
        Consider only pydicom's plugins.

    Raises
    ------
    UnsupportedTransferSyntaxError
        No dicomio decoder exists for the syntax (video, unknown UIDs...).
    MissingDecoderError
        Decoders exist, but none is installed (or not the preferred one).
    """
    if not syntax.supported:
        raise UnsupportedTransferSyntaxError(
            f"{syntax} is not an image transfer syntax dicomio can decode")
    if syntax.native:
        return None
    if prefer is None and not pydicom_only:
        fastest = next(iter_decoders(syntax, fmt), None)
        if fastest is not None:
            return fastest
    found = decoders_for(syntax, fmt)
    if pydicom_only:
        found = [d for d in found if d.plugin is not None]
    if prefer is not None:
        wanted = [d for d in found if prefer in (d.name, d.plugin)]
        if not wanted:
            raise MissingDecoderError(
                f"decoder {prefer!r} is not installed or cannot decode {syntax}; installed "
                f"decoders for it: {', '.join(d.name for d in found) or 'none'}")
        return wanted[0]
    if not found:
        raise MissingDecoderError(
            f"no installed decoder for {syntax}; pylibjpeg and its plugins are dicomio's own "
            f"dependencies: reinstall them with `{pip_install()}`, or `pip install imagecodecs`")
    return found[0]


def decodable_syntaxes() -> dict[str, list[str]]:
    """Every supported syntax and the names of its installed decoders (``[]``: native)."""
    found = {}
    for uid, syntax in TRANSFER_SYNTAXES.items():
        names = [d.name for d in decoders_for(syntax)]
        if syntax.supported and (syntax.native or names):
            found[uid] = names
    return found


def decodes_syntax(uid: str) -> bool:
    """Whether dicomio's own backends decode the transfer syntax ``uid`` (as installed now):
    :func:`decodable_uids` for one UID, without looking for decoders of a native syntax."""
    syntax = lookup(uid)
    return syntax.supported and (syntax.native or next(iter_decoders(syntax), None) is not None)


def decodable_uids() -> frozenset[str]:
    """The UIDs of :func:`decodable_syntaxes`: what dicomio's own backends decode (as installed
    now)."""
    return frozenset(decodable_syntaxes())
