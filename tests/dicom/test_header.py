"""The fast header reader: the same answers as pydicom, from any encoding, or a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.dicom.header import read_header
from dicomio.errors import InvalidDicomError, NotDicomError
from dicomio.testing.synthetic import (
    DEFLATED,
    EXPLICIT_BE,
    IMPLICIT_LE,
    JPEG_LOSSLESS_SV1,
    SeriesSpec,
)
from tests.support.dicom_files import rewrite


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", IMPLICIT_LE, EXPLICIT_BE, DEFLATED,
                                    JPEG_LOSSLESS_SV1])
def test_header_matches_pydicom(make_series, syntax: str) -> None:
    written = make_series(SeriesSpec(transfer_syntax=syntax, rescale_intercept=-1000.5,
                                     rescale_slope=0.25))
    for path in written.files:
        header = read_header(path)
        ds = pydicom.dcmread(path)
        assert header.transfer_syntax.uid == syntax
        assert header.series_uid == ds.SeriesInstanceUID
        assert header.sop_instance_uid == ds.SOPInstanceUID
        assert header.instance_number == ds.InstanceNumber
        assert header.position == tuple(float(v) for v in ds.ImagePositionPatient)
        assert header.orientation == tuple(float(v) for v in ds.ImageOrientationPatient)
        assert header.pixel_spacing == tuple(float(v) for v in ds.PixelSpacing)
        assert header.rescale_slope == 0.25 and header.rescale_intercept == -1000.5
        assert header.pixel is not None
        assert (header.pixel.rows, header.pixel.columns) == (ds.Rows, ds.Columns)
        assert header.pixel.bits_stored == 12 and header.pixel.pixel_representation == 0
        assert header.has_pixel_data


def test_pixel_offset_points_at_the_pixel_bytes(make_series) -> None:
    written = make_series(SeriesSpec())
    header = read_header(written.files[0])
    with open(written.files[0], "rb") as handle:
        handle.seek(header.pixel_data_offset)
        raw = handle.read(header.pixel_data_length)
    assert raw == pydicom.dcmread(written.files[0]).PixelData


def test_file_without_preamble_is_recognised(make_series, tmp_path: Path) -> None:
    """Old archives hold bare implicit-VR data sets: no preamble, no meta group."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    written = make_series(SeriesSpec(transfer_syntax=IMPLICIT_LE))
    ds = pydicom.dcmread(written.files[0])
    del ds.file_meta
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, True
    write_dataset(buffer, ds)
    raw = tmp_path / "raw"
    raw.write_bytes(buffer.getvalue())
    header = read_header(raw)
    assert header.series_uid == written.series_uid
    assert not header.has_preamble
    assert header.transfer_syntax.implicit_vr
    with open(raw, "rb") as handle:
        handle.seek(header.pixel_data_offset)
        assert handle.read() == ds.PixelData


@pytest.mark.parametrize("content", [b"", b"hello, this is a text file\n" * 20,
                                     bytes(range(256)) * 40,
                                     b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(500)])
def test_junk_is_not_dicom(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.dcm"
    path.write_bytes(content)
    with pytest.raises(NotDicomError) as info:
        read_header(path)
    assert str(path) in str(info.value)


def test_truncated_header_is_invalid(make_series, tmp_path: Path) -> None:
    written = make_series(SeriesSpec())
    data = written.files[0].read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[:400])
    with pytest.raises(InvalidDicomError) as info:
        read_header(cut)
    assert not isinstance(info.value, NotDicomError)
    assert "truncated" in str(info.value) and str(cut) in str(info.value)


def test_float_pixel_data_is_flagged(corpus) -> None:
    header = read_header(corpus("pydicom_data/data/parametric_map_float.dcm"))
    assert header.pixel is not None and header.pixel.float_data
    assert header.pixel.stored_dtype == np.dtype(np.float32)


def test_a_slice_spacing_of_several_values_is_no_spacing(make_series) -> None:
    """SliceThickness and SpacingBetweenSlices hold one value; several are damage, and taking
    the first placed the tiles of a garbage mosaic 1 mm apart."""
    truth = make_series(SeriesSpec(shape=(3, 4, 4)))
    rewrite(truth.files[:2], lambda ds: setattr(ds, "SpacingBetweenSlices", "2.5"))
    rewrite(truth.files[:1], lambda ds: setattr(ds, "SpacingBetweenSlices", ["1", "nan", "31"]))
    assert read_header(truth.files[0]).spacing_between_slices is None
    assert read_header(truth.files[1]).spacing_between_slices == 2.5


def test_an_absent_high_bit_is_bits_stored_minus_one(make_series) -> None:
    """HighBit is type 1 but some writers leave it out: the header is then read in the
    standard's layout (12 bits stored: high bit 11), not as a contradiction to refuse."""
    truth = make_series(SeriesSpec(bits_stored=12))
    rewrite(truth.files[0], HighBit=None)
    fmt = read_header(truth.files[0]).pixel
    assert fmt is not None and (fmt.bits_stored, fmt.high_bit) == (12, 11)
    volume = dicomio.load_volume(truth.folder)
    assert volume.array.shape[0] == len(truth.files)
