"""Transfer syntax → decoders, and the decoding of one file's frames.

Two families of decoders, tried in this order:

``imagecodecs``
    The fastest exact decoders for grey-scale frames (lossless JPEG, JPEG-LS, JPEG 2000, HTJ2K,
    RLE). They release the GIL, so frames decode in parallel threads. Frames are checked
    structurally first (:mod:`dicomio.codestream`): these decoders are not hardened against
    damaged input. Optional: ``pip install dicomio[fast]``.
``pydicom/<plugin>``
    pydicom 3's decoders (``pydicom.pixels``) with the plugins it finds installed: pylibjpeg
    (always installed with dicomio), gdcm, pyjpegls, pillow, and pydicom's own RLE decoder.
    They also convert YBR colour to RGB, so colour frames always take this path.

Every decoder returns the stored bit patterns; :func:`dicomio.pixels.to_stored` turns them into
values the same way whichever decoder ran.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

from .codestream import CodestreamError, check_frame, decode_rle
from .errors import CorruptDataError, MissingDecoderError, UnsupportedTransferSyntaxError
from .header import FileHeader, PixelFormat
from .transfer_syntax import TRANSFER_SYNTAXES, TransferSyntax

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
        found.append(DecoderInfo("imagecodecs", "dicomio[fast]", True))
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
            f"(dicomio's own dependencies) or `pip install dicomio[fast]`")
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
            self._frames = list(self._split())
        if index >= len(self._frames):
            raise CorruptDataError(
                f"frame {index} requested but the pixel data holds {len(self._frames)} frame(s)",
                path=self.header.path)
        return self._frames[index]

    def _split(self) -> Iterator[bytes]:
        from pydicom.encaps import generate_frames

        try:
            yield from generate_frames(self.value, number_of_frames=self.fmt.number_of_frames)
        except (ValueError, KeyError, IndexError, OSError, EOFError) as exc:
            raise CorruptDataError(f"cannot split the encapsulated pixel data: {exc}",
                                   path=self.header.path) from None

    def decode(self, index: int, decoder: DecoderInfo) -> NDArray[Any]:
        """Decode frame ``index`` with ``decoder``; raise CorruptDataError on failure."""
        syntax = self.header.transfer_syntax
        try:
            check_frame(self.frame_bytes(index), self.fmt, syntax.uid)
            if decoder.name == "imagecodecs":
                array = _imagecodecs_decode(self.frame_bytes(index), self.fmt, syntax.uid)
            else:
                array = _pydicom_decode(self.value, index, self.fmt, syntax.uid,
                                        decoder.name.removeprefix("pydicom/"))
        except CorruptDataError:
            raise
        except CodestreamError as exc:
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


@functools.cache
def _imagecodecs_function(name: str) -> Callable[..., Any]:
    function: Callable[..., Any] = getattr(importlib.import_module("imagecodecs"), name)
    return function


def _imagecodecs_decode(data: bytes, fmt: PixelFormat, uid: str) -> NDArray[Any]:
    name = _IMAGECODECS_FUNCTIONS[uid]
    if name == "dicomrle_decode":
        return decode_rle(data, fmt)
    array: NDArray[Any] = _imagecodecs_function(name)(data)
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
