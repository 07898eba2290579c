"""Transfer syntax → decoders, and the decoding of one file's frames.

Two families of decoders, tried in this order:

``imagecodecs``
    The fastest exact decoders for grey-scale frames (lossless JPEG, JPEG-LS, JPEG 2000, HTJ2K,
    RLE). They release the GIL, so frames decode in parallel threads. Frames are checked
    structurally first (:mod:`dicomio.pixels.codestream`): these decoders are not hardened against
    damaged input. Installed with dicomio.
``pydicom/<plugin>``
    pydicom 3's decoders (``pydicom.pixels``) with the plugins it finds installed: pylibjpeg
    (always installed with dicomio), gdcm, pyjpegls, pillow, and pydicom's own RLE decoder.
    They also convert YBR colour to RGB, so colour frames always take this path.

Every decoder returns the stored bit patterns; :func:`dicomio.pixels.values.to_stored` turns
them into values the same way whichever decoder ran.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.transfer_syntax import TRANSFER_SYNTAXES, TransferSyntax
from dicomio.dicom.types import FileHeader, PixelFormat
from dicomio.errors import CorruptDataError, MissingDecoderError, UnsupportedTransferSyntaxError
from dicomio.pixels.codestream import CodestreamError, check_frame, decode_rle

__all__ = [
    "DecoderInfo",
    "EncodedPixels",
    "choose_decoder",
    "decodable_syntaxes",
    "decoders_for",
    "is_decoder_failure",
    "read_pixel_value",
]

# pydicom's decoding plugins, in the order dicomio prefers them.
PYDICOM_PLUGINS = ("pylibjpeg", "gdcm", "pyjpegls", "pillow", "pydicom")

# Lossless syntaxes only: for lossy JPEG, libjpeg-turbo (imagecodecs) and libjpeg (pylibjpeg)
# round the inverse DCT differently, so the direct and pydicom backends would disagree.
_IMAGECODECS_FUNCTIONS = {
    "1.2.840.10008.1.2.4.57": "ljpeg_decode",
    "1.2.840.10008.1.2.4.70": "ljpeg_decode",
    "1.2.840.10008.1.2.4.80": "jpegls_decode",
    "1.2.840.10008.1.2.4.81": "jpegls_decode",
    "1.2.840.10008.1.2.4.90": "jpeg2k_decode",
    "1.2.840.10008.1.2.4.91": "jpeg2k_decode",
    "1.2.840.10008.1.2.4.201": "jpeg2k_decode",
    "1.2.840.10008.1.2.4.202": "jpeg2k_decode",
    "1.2.840.10008.1.2.4.203": "jpeg2k_decode",
    "1.2.840.10008.1.2.5": "dicomrle_decode",
}
# Lossless JPEG goes to libjpeg-turbo instead when it can (see _turbo_decodes_lossless).
_LOSSLESS_JPEG = frozenset({"1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"})
_ITEM, _SEQUENCE_END = (0xFFFE, 0xE000), (0xFFFE, 0xE0DD)
_ITEM_HEADER = struct.Struct("<HHL")


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
    """

    name: str
    pip: str
    releases_gil: bool


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
    return tuple(p for p in PYDICOM_PLUGINS if p in available)


def decoders_for(syntax: TransferSyntax, fmt: PixelFormat | None = None) -> list[DecoderInfo]:
    """The installed decoders for ``syntax`` (and, if given, frames of format ``fmt``), fastest
    first. Native (uncompressed) syntaxes need no decoder and return ``[]``."""
    if syntax.native or not syntax.supported:
        return []
    found = []
    grey = fmt is None or fmt.samples_per_pixel == 1
    if syntax.uid in _IMAGECODECS_FUNCTIONS and grey and _installed("imagecodecs"):
        found.append(DecoderInfo("imagecodecs", "imagecodecs", True))
    found += [DecoderInfo(f"pydicom/{p}", p, False) for p in _pydicom_plugins(syntax.uid)]
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
        found = [d for d in found if d.name.startswith("pydicom/")]
    if prefer is not None:
        wanted = [d for d in found if prefer in (d.name, d.name.removeprefix("pydicom/"))]
        if not wanted:
            raise MissingDecoderError(
                f"decoder {prefer!r} is not installed or cannot decode {syntax}; installed "
                f"decoders for it: {', '.join(d.name for d in found) or 'none'}")
        return wanted[0]
    if not found:
        raise MissingDecoderError(
            f"no installed decoder for {syntax}; install one with "
            f"`pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle` "
            f"(dicomio's own dependencies) or `pip install imagecodecs`")
    return found[0]


def decodable_syntaxes() -> dict[str, list[str]]:
    """Every supported syntax and the names of its installed decoders (``[]``: native)."""
    return {uid: [d.name for d in decoders_for(ts)]
            for uid, ts in TRANSFER_SYNTAXES.items()
            if ts.supported and (ts.native or decoders_for(ts))}


def read_pixel_value(header: FileHeader) -> bytes:
    """Read the pixel data value of a file (for encapsulated data: up to the end of file).

    Raises
    ------
    CorruptDataError
        The file is shorter than the pixel data it declares.
    """
    assert header.pixel_data_offset is not None
    with open(header.path, "rb") as handle:
        handle.seek(header.pixel_data_offset)
        if header.pixel_data_length is None:
            return handle.read()
        value = handle.read(header.pixel_data_length)
    if len(value) < header.pixel_data_length:
        raise CorruptDataError(
            f"pixel data truncated: {len(value)} of {header.pixel_data_length} bytes present",
            path=header.path)
    return value


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
            if decoder.name == "imagecodecs":
                array = _imagecodecs_decode(frame, self.fmt, syntax.uid, out)
            else:
                array = _pydicom_decode(self.value, index, self.fmt, syntax.uid,
                                        decoder.name.removeprefix("pydicom/"))
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


@functools.cache
def _imagecodecs_function(name: str) -> Callable[..., Any] | None:
    function: Callable[..., Any] | None = getattr(importlib.import_module("imagecodecs"), name,
                                                  None)
    return function


@functools.cache
def _turbo_decodes_lossless() -> bool:
    """Whether imagecodecs' libjpeg-turbo (3.0 and later) decodes lossless JPEG.

    It decodes lossless JPEG 2-4x faster than liblj92 (``ljpeg_decode``), with the same values
    on every lossless JPEG of the corpus and the generated cases. Older builds of imagecodecs
    have only liblj92. Probed once, on a small image encoded and decoded here.
    """
    try:
        import imagecodecs

        probe = (np.arange(64, dtype=np.uint16) * 61).reshape(8, 8)
        encoded = imagecodecs.jpeg8_encode(probe, lossless=True, bitspersample=12)
        return bool(np.array_equal(imagecodecs.jpeg8_decode(encoded), probe))
    except Exception:  # no lossless support in this build, or no jpeg8 codec at all
        return False


def _imagecodecs_name(uid: str) -> str:
    if uid in _LOSSLESS_JPEG and _turbo_decodes_lossless():
        return "jpeg8_decode"
    return _IMAGECODECS_FUNCTIONS[uid]


def _imagecodecs_decode(
    data: bytes, fmt: PixelFormat, uid: str, out: NDArray[Any] | None
) -> NDArray[Any]:
    """Decode one frame with imagecodecs, straight into ``out`` when the decoder accepts it."""
    name = _imagecodecs_name(uid)
    if name == "dicomrle_decode":
        return decode_rle(data, fmt)
    function = _imagecodecs_function(name)
    if function is None:
        raise MissingDecoderError(
            f"this build of imagecodecs has no {name}; upgrade it (pip install -U imagecodecs) "
            f"or choose another decoder")
    if out is not None:
        try:
            array: NDArray[Any] = function(data, out=out)
            return array
        except ValueError:
            pass  # ``out`` refused (another dtype or shape): decode into an array of its own
    array = function(data)
    return array


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
