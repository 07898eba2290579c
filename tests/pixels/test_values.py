"""Stored values and modality values: the dtype rules and bit handling of the contract."""

from __future__ import annotations

import numpy as np
import pytest

from dicomio.dicom.types import PixelFormat
from dicomio.pixels.values import output_dtype, rescale_into, to_stored


def fmt(bits_allocated=16, bits_stored=12, signed=False, samples=1) -> PixelFormat:
    return PixelFormat(rows=2, columns=3, bits_allocated=bits_allocated, bits_stored=bits_stored,
                       high_bit=bits_stored - 1, pixel_representation=int(signed),
                       samples_per_pixel=samples)


@pytest.mark.parametrize(("pixel", "scalings", "rescale", "expected"), [
    (fmt(), [(1, 0)], True, "uint16"),
    (fmt(), [(1, -1024)], True, "int16"),                 # CT: 0..4095 - 1024 fits int16
    (fmt(bits_stored=16), [(1, -1024)], True, "int32"),   # 0..65535 - 1024 needs int32
    (fmt(signed=True), [(1, 0)], True, "int16"),
    (fmt(8, 8), [(1, 0)], True, "uint8"),
    (fmt(8, 8), [(1, -100)], True, "int16"),
    (fmt(), [(1, -1024), (1, 5000)], True, "int16"),      # per-slice intercepts widen
    (fmt(), [(0.5, -1024)], True, "float32"),
    (fmt(), [(1, 0.5)], True, "float32"),
    (fmt(32, 32), [(0.5, 0)], True, "float64"),           # float32 would merge stored values
    (fmt(), [(0.5, -1024)], False, "uint16"),
    (fmt(signed=True), [(2, 1)], False, "int16"),
    (fmt(8, 8, samples=3), [(1, 0)], True, "uint8"),
])
def test_output_dtype_rules(pixel, scalings, rescale, expected) -> None:
    frames = [(pixel, slope, intercept) for slope, intercept in scalings]
    assert output_dtype(frames, rescale=rescale) == np.dtype(expected)


def test_high_bits_are_masked() -> None:
    raw = np.array([[0xF123, 0x0FFF, 0x1000], [0, 1, 0xFFFF]], dtype=np.uint16)
    assert to_stored(raw.copy(), fmt()).tolist() == [[0x123, 0xFFF, 0], [0, 1, 0xFFF]]


def test_signed_values_are_sign_extended_from_bits_stored() -> None:
    raw = np.array([[0x0800, 0x07FF, 0x0FFF], [0xF800, 0x0001, 0x0000]], dtype=np.uint16)
    stored = to_stored(raw.copy(), fmt(signed=True))
    assert stored.dtype == np.int16
    assert stored.tolist() == [[-2048, 2047, -1], [-2048, 1, 0]]


def test_decoders_returning_signed_or_wider_dtypes_agree() -> None:
    values = np.array([[-5, 100, -2048], [2047, 0, -1]], dtype=np.int32)
    expected = values.astype(np.int16)
    for decoded in (values, values.astype(np.int16), values.astype(np.int16).view(np.uint16),
                    values.astype(np.int16).astype(">i2")):
        assert to_stored(decoded.copy(), fmt(signed=True)).tolist() == expected.tolist()


def test_rescale_integer_is_exact_and_float_rounds_once() -> None:
    stored = np.array([[0, 1, 4095]], dtype=np.uint16)
    out = np.empty((1, 3), np.int16)
    rescale_into(stored, 1.0, -1024.0, out)
    assert out.tolist() == [[-1024, -1023, 3071]]
    out32 = np.empty((1, 3), np.float32)
    rescale_into(stored, 0.1, -3.3, out32)
    assert out32.tolist() == np.float32(stored * 0.1 - 3.3).tolist()
