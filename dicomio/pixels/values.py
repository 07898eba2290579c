"""From decoded frames to the values of the contract: stored values, then modality values.

Every backend passes what its toolkit decoded through these functions, so that the dtype and
every value are the same whichever backend read the series:

- :func:`to_stored` masks the bits above BitsStored and sign-extends when PixelRepresentation
  is 1 (decoders disagree on both); :func:`count_out_of_range` counts the values that use
  those bits before they are masked (the validator's VALUES_OUT_OF_RANGE);
- :func:`output_dtype` applies the dtype rules of the contract, from the headers alone;
- :func:`rescale_into` writes ``stored * slope + intercept`` into the output.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.types import PixelFormat, stored_range

__all__ = ["count_out_of_range", "finish_frame", "output_dtype", "rescale_into", "to_stored"]

_INTEGER_DTYPES = [np.dtype(t) for t in ("uint8", "int8", "uint16", "int16", "uint32", "int32",
                                          "int64")]
# float32 holds every integer below 2**24 exactly: beyond that, adjacent stored values merge.
_FLOAT32_EXACT = 2.0**24
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _smallest_integer_dtype(low: float, high: float) -> np.dtype[Any] | None:
    for dtype in _INTEGER_DTYPES:
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return dtype
    return None


def output_dtype(
    frames: Iterable[tuple[PixelFormat, float, float]], *, rescale: bool = True
) -> np.dtype[Any]:
    """The dtype of the volume, decided from the headers alone.

    Parameters
    ----------
    frames
        ``(pixel format, slope, intercept)`` of each frame.
    rescale
        False: the stored dtype (uint/int of BitsAllocated). True: the smallest integer dtype
        holding every possible modality value when each slope is 1 and each intercept
        integral; otherwise float32, or float64 where float32 would merge adjacent values.
        Colour and floating-point pixel data keep their stored dtype.
    """
    items = list(frames)
    formats = {fmt for fmt, _, _ in items}
    first = next(iter(formats))
    if first.float_data or first.samples_per_pixel > 1:
        return first.stored_dtype
    if not rescale:
        stored = {fmt.stored_dtype for fmt in formats}
        if len(stored) == 1:
            return stored.pop()
        items = [(fmt, 1.0, 0.0) for fmt in formats]
    ranges = [(*stored_range(fmt), slope, intercept) for fmt, slope, intercept in items]
    if all(slope == 1 and float(intercept).is_integer() for _, _, slope, intercept in ranges):
        lowest = min(low + intercept for low, _, _, intercept in ranges)
        highest = max(high + intercept for _, high, _, intercept in ranges)
        found = _smallest_integer_dtype(lowest, highest)
        if found is not None:
            return found
    for low, high, slope, intercept in ranges:
        largest = max(abs(low * slope + intercept), abs(high * slope + intercept))
        if slope == 0 or largest / abs(slope) >= _FLOAT32_EXACT or largest > _FLOAT32_MAX:
            return np.dtype(np.float64)
    return np.dtype(np.float32)


def to_stored(
    values: NDArray[Any], fmt: PixelFormat, *, keep_high_bits: bool = False
) -> NDArray[Any]:
    """Return the stored values of a decoded frame: high bits masked, sign extended.

    Decoders return the bit pattern in various dtypes (signed, unsigned, wider); whatever they
    return, the low BitsStored bits are the value. HighBit is BitsStored - 1, as the standard
    requires: a header where it is not is refused before reading
    (:func:`dicomio.dicom.checks.pixel_format_problem`). Works in place (``values`` is
    modified) when it already has the stored itemsize. ``keep_high_bits`` returns the bit
    patterns in the stored dtype, neither masked nor sign-extended (see
    :attr:`dicomio.backends.base.ReadOptions.keep_high_bits`).
    """
    if not values.dtype.isnative:  # pydicom returns big-endian data in big-endian dtypes
        values = values.astype(values.dtype.newbyteorder("="))
    if fmt.float_data:
        return values.astype(fmt.stored_dtype, copy=False)
    unsigned = np.dtype(f"uint{fmt.bits_allocated}")
    if values.dtype != unsigned:
        values = values.view(unsigned) if values.dtype.itemsize == unsigned.itemsize \
            else values.astype(unsigned)
    spare = fmt.bits_allocated - fmt.bits_stored
    if spare > 0 and not keep_high_bits:
        if fmt.signed:
            values <<= spare
            signed = values.view(fmt.stored_dtype)
            signed >>= spare  # arithmetic shift: sign-extends
            return signed
        values &= (1 << fmt.bits_stored) - 1
    return values.view(fmt.stored_dtype)


def count_out_of_range(raw: NDArray[Any], fmt: PixelFormat) -> int:
    """Count stored values that use bits above BitsStored.

    ``raw`` holds the bit patterns as stored or decoded, before any masking. Unsigned values
    must have no bit set above BitsStored; signed ones must have every bit above the sign bit
    equal to it (a proper sign extension). Only the standard layout, HighBit = BitsStored − 1,
    is checked; other (retired) layouts and float data return 0.
    """
    spare = fmt.bits_allocated - fmt.bits_stored
    if spare <= 0 or fmt.float_data or fmt.high_bit != fmt.bits_stored - 1:
        return 0
    unsigned = np.dtype(f"uint{fmt.bits_allocated}")
    values = raw.view(unsigned) if raw.dtype.itemsize == unsigned.itemsize else \
        raw.astype(unsigned)
    if fmt.signed:
        top = values >> (fmt.bits_stored - 1)
        valid = (top == 0) | (top == (1 << (spare + 1)) - 1)
    else:
        valid = (values >> fmt.bits_stored) == 0
    return int(values.size - np.count_nonzero(valid))


def rescale_into(
    stored: NDArray[Any], slope: float, intercept: float, out: NDArray[Any]
) -> None:
    """Write ``stored * slope + intercept`` into ``out`` (cast to ``out.dtype``).

    Integer outputs add the intercept exactly; float outputs compute in float64 and round once,
    so every backend produces the same bits.
    """
    if out.dtype.kind in "iu":
        out[...] = stored
        if intercept:
            out += int(intercept)
        return
    if slope == 1 and intercept == 0:
        out[...] = stored
        return
    exact = stored.astype(np.float64)
    if slope != 1:
        exact *= slope
    if intercept:
        exact += intercept
    out[...] = exact


def finish_frame(
    decoded: NDArray[Any],
    fmt: PixelFormat,
    out: NDArray[Any],
    *,
    slope: float = 1.0,
    intercept: float = 0.0,
    rescale: bool = True,
    keep_high_bits: bool = False,
) -> None:
    """Turn one decoded frame into contract values, written into ``out``.

    ``keep_high_bits`` (with ``rescale`` False) writes the stored bit patterns unmasked: see
    :attr:`dicomio.backends.base.ReadOptions.keep_high_bits`.
    """
    if decoded.shape != out.shape:
        decoded = decoded.reshape(out.shape)
    stored = to_stored(decoded, fmt, keep_high_bits=keep_high_bits)
    if not rescale or fmt.samples_per_pixel > 1 or fmt.float_data:
        out[...] = stored
    else:
        rescale_into(stored, slope, intercept, out)
