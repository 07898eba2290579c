"""Transfer syntax → decoders (one table, :data:`DECODERS`), and the decoding of one file's frames.

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
:meth:`EncodedPixels.decode` dispatches on it through the table, never on a decoder's name.
Every decoder returns the stored bit patterns; :func:`dicomio.pixels.values.to_stored` turns
them into values the same way whichever decoder ran.
"""

from __future__ import annotations

import functools
import importlib.util
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

from dicomio.arguments import check_choice
from dicomio.dicom.budgets import max_fragments
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
)
from dicomio.dicom.types import FileHeader, PixelFormat
from dicomio.errors import CorruptDataError, MissingDecoderError, UnsupportedTransferSyntaxError
from dicomio.extras import pip_install
from dicomio.pixels.codestream import CodestreamError, check_frame
from dicomio.pixels.imagecodecs_decoders import FrameDecode, jpeg2000, jpeg_ls, lossless_jpeg, rle

__all__ = [
    "DECODERS",
    "DECODER_NAMES",
    "DecoderInfo",
    "EncodedPixels",
    "SyntaxDecoders",
    "check_decoder",
    "choose_decoder",
    "decodable_syntaxes",
    "decodable_uids",
    "decoders_for",
    "is_decoder_failure",
    "read_pixel_value",
]

_ITEM, _SEQUENCE_END = (0xFFFE, 0xE000), (0xFFFE, 0xE0DD)
_ITEM_HEADER = struct.Struct("<HHL")


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
#: pydicom keeps one ``Decoder`` per UID with its plugins). imagecodecs is not used for DCT
#: (lossy) JPEG: libjpeg-turbo (imagecodecs) and libjpeg (pylibjpeg) round the inverse DCT
#: differently, so the direct and pydicom backends would disagree.
DECODERS: dict[str, SyntaxDecoders] = {
    JPEG_BASELINE_8BIT: SyntaxDecoders(None, _JPEG_PLUGINS),
    JPEG_EXTENDED_12BIT: SyntaxDecoders(None, _JPEG_PLUGINS),
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


def decoders_for(syntax: TransferSyntax, fmt: PixelFormat | None = None) -> list[DecoderInfo]:
    """The installed decoders for ``syntax`` (and, if given, frames of format ``fmt``), fastest
    first. Native (uncompressed) syntaxes need no decoder and return ``[]``."""
    if syntax.native or not syntax.supported:
        return []
    entry = DECODERS.get(syntax.uid)
    if entry is None:
        return []
    found = []
    grey = fmt is None or fmt.samples_per_pixel == 1
    if entry.imagecodecs is not None and grey and _installed("imagecodecs"):
        found.append(DecoderInfo("imagecodecs", "imagecodecs", True))
    found += [DecoderInfo(f"pydicom/{p}", p, False, plugin=p)
              for p in _pydicom_plugins(syntax.uid)]
    return found


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


def decodable_uids() -> frozenset[str]:
    """The UIDs of :func:`decodable_syntaxes`: what dicomio's own backends decode (as installed
    now)."""
    return frozenset(decodable_syntaxes())


def read_pixel_value(header: FileHeader) -> bytes:
    """Read the pixel data value of a file (for encapsulated data: up to the end of file).

    Raises
    ------
    CorruptDataError
        The file is shorter than the pixel data it declares.
    """
    assert header.pixel_data_offset is not None
    source = header.origin
    with source.open() as handle:
        available = max(source.size() - header.pixel_data_offset, 0)
        if header.pixel_data_length is not None and header.pixel_data_length > available:
            # Refused before reading: a forged length must not become a huge allocation.
            raise CorruptDataError(
                f"pixel data truncated: {available} of {header.pixel_data_length} bytes "
                f"present", path=header.path)
        handle.seek(header.pixel_data_offset)
        if header.pixel_data_length is None:
            return handle.read()
        return handle.read(header.pixel_data_length)


def is_decoder_failure(exc: BaseException) -> bool:
    """Whether an exception raised inside a decoder means "this data cannot be decoded".

    Decoders raise anything from ValueError to their own types; the Rust ones (pylibjpeg-rle)
    raise ``pyo3_runtime.PanicException``, which derives from BaseException. Interrupts and
    exits are never swallowed.
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return False
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


class EncodedPixels:
    """The encapsulated pixel data of one file, split into frames on demand."""

    def __init__(self, header: FileHeader, value: bytes) -> None:
        assert header.pixel is not None
        self.header = header
        self.fmt: PixelFormat = header.pixel
        self.value = value
        self._frames: list[bytes] | None = None

    def frame_bytes(self, index: int) -> bytes:
        """The encoded bytes of frame ``index``."""
        if self._frames is None:
            self._frames = self._split()
        if index >= len(self._frames):
            raise CorruptDataError(
                f"frame {index} requested but the pixel data holds {len(self._frames)} frame(s)",
                path=self.header.path)
        return self._frames[index]

    def checked_frame(self, index: int) -> bytes:
        """The encoded bytes of frame ``index``, refused with :class:`CorruptDataError` when
        their structure is damaged (see :mod:`dicomio.pixels.codestream`): most decoders decode a
        truncated stream without error, into a partly blank image."""
        frame = self.frame_bytes(index)
        syntax = self.header.transfer_syntax
        try:
            check_frame(frame, self.fmt, syntax.uid)
        except CodestreamError as exc:
            raise CorruptDataError(f"frame {index} is damaged ({syntax.name}): {exc}",
                                   path=self.header.path) from None
        return frame

    def _split(self) -> list[bytes]:
        _check_item_count(self.value, self.fmt.number_of_frames, self.header)
        if self.fmt.number_of_frames == 1:
            # The common case, in one pass: every fragment belongs to the one frame.
            return [b"".join(_fragments(self.value, self.header))]
        return list(self._generate_frames())

    def _generate_frames(self) -> Iterator[bytes]:
        from pydicom.encaps import generate_frames

        try:
            yield from generate_frames(self.value, number_of_frames=self.fmt.number_of_frames)
        except (ValueError, KeyError, IndexError, OSError, EOFError, struct.error) as exc:
            raise CorruptDataError(f"cannot split the encapsulated pixel data: {exc}",
                                   path=self.header.path) from None

    def decode(
        self, index: int, decoder: DecoderInfo, out: NDArray[Any] | None = None
    ) -> NDArray[Any]:
        """Decode frame ``index`` with ``decoder``; raise CorruptDataError on failure.

        Parameters
        ----------
        out
            Optional array of the frame's shape with the itemsize of the stored values: the
            decoder writes straight into it where it can (imagecodecs), and ``out`` itself is
            returned. Otherwise a new array is returned (and ``out`` may have been written to).
        """
        syntax = self.header.transfer_syntax
        frame = self.checked_frame(index)
        try:
            if decoder.plugin is not None:
                array = _pydicom_decode(self.value, index, self.fmt, syntax.uid, decoder.plugin)
            else:
                decode = DECODERS[syntax.uid].imagecodecs
                assert decode is not None  # decoders_for offers imagecodecs only then
                array = decode(frame, self.fmt, out)
        except CorruptDataError:
            raise
        except MissingDecoderError as exc:
            raise MissingDecoderError(exc.message, path=self.header.path) from None
        except CodestreamError as exc:  # imagecodecs' strict RLE decoder
            raise CorruptDataError(f"frame {index} is damaged ({syntax.name}): {exc}",
                                   path=self.header.path) from None
        except BaseException as exc:  # decoders raise anything, Rust ones a BaseException panic
            if not is_decoder_failure(exc):
                raise
            raise CorruptDataError(
                f"cannot decode frame {index} ({syntax.name}) with {decoder.name}: "
                f"{type(exc).__name__}: {exc}", path=self.header.path) from None
        expected = self.fmt.rows * self.fmt.columns * self.fmt.samples_per_pixel
        if array.size != expected:
            raise CorruptDataError(
                f"frame {index} decoded by {decoder.name} has {array.size} values, expected "
                f"{self.fmt.rows}x{self.fmt.columns}x{self.fmt.samples_per_pixel}",
                path=self.header.path)
        return array


def _check_item_count(value: bytes, number_of_frames: int, header: FileHeader) -> None:
    """Refuse encapsulated pixel data of more items than :func:`max_fragments` allows, having
    walked no more than that many item headers."""
    limit = max_fragments(number_of_frames, len(value))
    pos, end, count = 0, len(value), 0
    while pos + 8 <= end:
        group, element, length = _ITEM_HEADER.unpack_from(value, pos)
        if (group, element) != _ITEM:
            return  # the end, or damage that splitting the fragments reports
        count += 1
        if count > limit:
            raise CorruptDataError(
                f"encapsulated pixel data holds more than {limit} items for "
                f"{number_of_frames} frame(s) in {len(value)} bytes", path=header.path)
        pos += 8 + length


def _fragments(value: bytes, header: FileHeader) -> list[memoryview]:
    """The fragments of an encapsulated value (views into it), without the offset table."""
    view = memoryview(value)
    items: list[memoryview] = []
    pos, end = 0, len(value)
    while pos + 8 <= end:
        group, element, length = _ITEM_HEADER.unpack_from(value, pos)
        if (group, element) == _SEQUENCE_END:
            break
        if (group, element) != _ITEM:
            raise CorruptDataError(
                f"encapsulated pixel data: expected an item at byte {pos} of the value, found "
                f"({group:04X},{element:04X})", path=header.path)
        pos += 8
        if pos + length > end:
            raise CorruptDataError(
                f"encapsulated pixel data truncated: item {len(items)} needs {length} bytes, "
                f"{end - pos} are left", path=header.path)
        items.append(view[pos:pos + length])
        pos += length
    if len(items) < 2:  # the first item is the Basic Offset Table
        raise CorruptDataError("encapsulated pixel data holds no fragment", path=header.path)
    return items[1:]


def _pydicom_decode(
    value: bytes, index: int, fmt: PixelFormat, uid: str, plugin: str
) -> NDArray[Any]:
    from pydicom.pixels.decoders.base import get_decoder

    options: dict[str, Any] = {
        "rows": fmt.rows,
        "columns": fmt.columns,
        "samples_per_pixel": fmt.samples_per_pixel,
        "bits_allocated": fmt.bits_allocated,
        "bits_stored": fmt.bits_stored,
        "pixel_representation": fmt.pixel_representation,
        "photometric_interpretation": fmt.photometric_interpretation,
        "planar_configuration": fmt.planar_configuration,
        "number_of_frames": fmt.number_of_frames,
    }
    array, _ = get_decoder(uid).as_array(value, index=index, decoding_plugin=plugin, **options)
    return array
