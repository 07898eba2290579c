"""Grey-scale frames decoded by imagecodecs: the first choice of the decoder table
(:data:`dicomio.pixels.decoders.DECODERS`) wherever it is exact.

One function per codec family, each a :data:`FrameDecode`; they release the GIL, so frames
decode in parallel threads. Frames reach them checked (:mod:`dicomio.pixels.codestream`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.types import PixelFormat
from dicomio.errors import MissingDecoderError
from dicomio.pixels.codestream import decode_rle

__all__ = ["FrameDecode", "dct_jpeg", "jpeg2000", "jpeg_ls", "lossless_jpeg", "rle"]

class FrameDecode(Protocol):
    """Decodes one grey-scale frame into its stored bit patterns.

    ``out`` is an array of the frame's shape and stored itemsize to decode into, or None;
    ``threads`` how many threads the codec itself may use on the frame (only OpenJPEG does:
    a few large JPEG 2000 frames).
    """

    def __call__(self, data: bytes, fmt: PixelFormat, out: NDArray[Any] | None, *,
                 threads: int = 1) -> NDArray[Any]: ...


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


def _decode(name: str, data: bytes, out: NDArray[Any] | None, **options: Any) -> NDArray[Any]:
    """Decode one frame with imagecodecs' function ``name``, straight into ``out`` when the
    function accepts it."""
    function = _imagecodecs_function(name)
    if function is None:
        raise MissingDecoderError(
            f"this build of imagecodecs has no {name}; upgrade it (pip install -U imagecodecs) "
            f"or choose another decoder")
    if out is not None:
        try:
            array: NDArray[Any] = function(data, out=out, **options)
            return array
        except ValueError:
            pass  # ``out`` refused (another dtype or shape): decode into an array of its own
    array = function(data, **options)
    return array


def lossless_jpeg(data: bytes, fmt: PixelFormat, out: NDArray[Any] | None, *,
                  threads: int = 1) -> NDArray[Any]:
    """libjpeg-turbo where this imagecodecs decodes lossless JPEG with it, else liblj92."""
    return _decode("jpeg8_decode" if _turbo_decodes_lossless() else "ljpeg_decode", data, out)


def dct_jpeg(data: bytes, fmt: PixelFormat, out: NDArray[Any] | None, *,
             threads: int = 1) -> NDArray[Any]:
    """libjpeg-turbo, for baseline (8-bit) and extended (12-bit) lossy JPEG: the inverse DCT
    GDCM runs too (the same values on the corpus), and 12-bit streams pylibjpeg refuses."""
    return _decode("jpeg8_decode", data, out)


def jpeg_ls(data: bytes, fmt: PixelFormat, out: NDArray[Any] | None, *,
            threads: int = 1) -> NDArray[Any]:
    """CharLS."""
    return _decode("jpegls_decode", data, out)


def jpeg2000(data: bytes, fmt: PixelFormat, out: NDArray[Any] | None, *,
             threads: int = 1) -> NDArray[Any]:
    """OpenJPEG, for JPEG 2000 and HTJ2K codestreams alike (on ``threads`` threads)."""
    return _decode("jpeg2k_decode", data, out, numthreads=threads)


def rle(data: bytes, fmt: PixelFormat, out: NDArray[Any] | None, *,
        threads: int = 1) -> NDArray[Any]:
    """imagecodecs' PackBits, segment by segment, so that a damaged segment is an error
    (:func:`dicomio.pixels.codestream.decode_rle`)."""
    return decode_rle(data, fmt)
