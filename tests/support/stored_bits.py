"""The tests' own reading of stored bit patterns: what is in a file, and which values use bits
above BitsStored (written here from the standard, not taken from dicomio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from numpy.typing import NDArray


def file_patterns(path: Path, byteorder: str = "<") -> NDArray[np.uint16]:
    """The 16-bit patterns of a native file's pixel data, as pydicom reads the element (no
    decoding, no masking; deflated data sets come inflated)."""
    return np.frombuffer(pydicom.dcmread(path).PixelData, dtype=f"{byteorder}u2").astype(np.uint16)


def uses_high_bits(patterns: NDArray[np.integer], bits_stored: int,
                   signed: bool) -> NDArray[np.bool_]:
    """Which 16-bit patterns use bits above ``bits_stored``: any bit set for unsigned values;
    for signed ones, any bit from the sign bit up that differs from the sign bit."""
    values = np.asarray(patterns).astype(np.uint16)
    if signed:
        top = values >> (bits_stored - 1)
        return ~((top == 0) | (top == (1 << (16 - bits_stored + 1)) - 1))
    return (values >> bits_stored) != 0
