"""The validator reads pixels as ``load_volume`` does, through the read stage: every stored
frame decoded once, VALUES_OUT_OF_RANGE counted from that one decode, mosaics and big-endian
files read right."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom.pixels
import pytest

from dicomio.pixels.encapsulated import EncodedPixels
from dicomio.testing.multiframe import write_mosaic
from dicomio.testing.synthetic import EXPLICIT_BE, RLE, SeriesSpec
from dicomio.validate.findings import Finding
from dicomio.validate.report import validate
from tests.support.dicom_files import rewrite
from tests.support.stored_bits import file_patterns, uses_high_bits

# Written with BitsStored 16 (the RLE encoder refuses values beyond BitsStored), then declared 12.
RLE_SPEC = SeriesSpec(shape=(4, 8, 10), transfer_syntax=RLE, bits_stored=16, rescale_intercept=0)
MOSAIC = SeriesSpec(shape=(5, 12, 14), modality="MR", rescale_intercept=0.0)


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count every frame decoded: by dicomio's decoders (``EncodedPixels.decode``, their one
    entry for a compressed frame) and by pydicom (``pydicom.pixels.pixel_array``)."""
    calls: list[int] = []

    def counted(function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(EncodedPixels, "decode", counted(EncodedPixels.decode))
    monkeypatch.setattr(pydicom.pixels, "pixel_array", counted(pydicom.pixels.pixel_array))
    return calls


def only(findings: list[Finding], code: str) -> Finding:
    (found,) = [f for f in findings if f.code == code]
    return found


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_each_rle_frame_is_decoded_once_and_out_of_range_counted(
        make_series, monkeypatch: pytest.MonkeyPatch, signed: bool) -> None:
    rng = np.random.default_rng(7)
    low = -2048 if signed else 0
    patterns = rng.integers(low, 2048, size=RLE_SPEC.shape).astype(np.int64).astype(np.uint16)
    for k in range(4):  # k + 1 values of slice k with bits 12 and 13 set (and bit 11 clear)
        patterns[k, 2, :k + 1] = 0x3005
    dtype = np.int16 if signed else np.uint16
    truth = make_series(RLE_SPEC.with_(signed=signed), stored=patterns.view(dtype))
    rewrite(truth.files, BitsStored=12, HighBit=11)
    expected = {str(path): int(np.count_nonzero(uses_high_bits(truth.stored[k], 12, signed)))
                for k, path in enumerate(truth.files)}
    assert list(expected.values()) == [1, 2, 3, 4]
    calls = count_decodes(monkeypatch)

    report = validate(truth.folder)

    assert len(calls) == 4  # one decode per frame (the validator used to decode each twice)
    finding = only(report.all_findings, "VALUES_OUT_OF_RANGE")
    assert finding.message.startswith("10 stored value(s) in 4 file(s) use bits above "
                                      "BitsStored=12")
    assert f"most in {truth.files[3].name} (4)" in finding.message
    assert finding.files == tuple(expected)
    assert [f.code for f in report.all_findings] == ["VALUES_OUT_OF_RANGE"]


def test_clean_rle_series_decoded_once_without_finding(make_series, monkeypatch) -> None:
    truth = make_series(RLE_SPEC.with_(bits_stored=12))
    calls = count_decodes(monkeypatch)
    assert validate(truth.folder).all_findings == []
    assert len(calls) == 4


def test_big_endian_values_are_read_in_their_byte_order(make_series) -> None:
    """The validator used to read big-endian pixel data as little endian: false findings."""
    clean = make_series(SeriesSpec(shape=(3, 8, 10), transfer_syntax=EXPLICIT_BE))
    assert validate(clean.folder).all_findings == []
    garbage = make_series(SeriesSpec(shape=(3, 8, 10), transfer_syntax=EXPLICIT_BE,
                                     high_bit_garbage=True))
    total = sum(int(np.count_nonzero(uses_high_bits(file_patterns(path, ">"), 12, False)))
                for path in garbage.files)
    assert total > 0
    finding = only(validate(garbage.folder).all_findings, "VALUES_OUT_OF_RANGE")
    assert finding.message.startswith(f"{total} stored value(s) in 3 file(s)")


def test_mosaic_is_validated_as_it_loads(tmp_path: Path, monkeypatch) -> None:
    """A mosaic's tiles are cut from the stored image, read whole and once: the validator used
    to ask the backend for tile-sized frames and report DECODE_FAILED."""
    clean = write_mosaic(tmp_path / "clean", MOSAIC.with_(transfer_syntax=RLE))
    calls = count_decodes(monkeypatch)
    # write_mosaic records a SliceThickness below the spacing, as scanners do
    assert [f.code for f in validate(clean.folder).all_findings] == ["THICKNESS_SPACING_MISMATCH"]
    assert len(calls) == 1  # the mosaic, not each of its 5 tiles
    garbage = write_mosaic(tmp_path / "garbage", MOSAIC.with_(high_bit_garbage=True))
    (path,) = garbage.files
    total = int(np.count_nonzero(uses_high_bits(file_patterns(path), 12, False)))
    assert total > 0
    finding = only(validate(garbage.folder).all_findings, "VALUES_OUT_OF_RANGE")
    assert finding.message.startswith(f"{total} stored value(s) in 1 file(s)")
    assert finding.files == (str(path),)
