"""Headers from WADO-RS metadata, without a server: a DICOM JSON model (as pydicom writes it
from a file) becomes a header that says honestly what is not known before retrieval, is
grouped and checked for geometry as the file is, and raises no false alarm about the pixel
data it does not have. The real server's side is tests/sources/test_dicomweb_headers.py."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

import dicomio
from dicomio.dicom.header import read_header
from dicomio.dicom.transfer_syntax import JPEG2000_LOSSLESS, NOT_RETRIEVED
from dicomio.series.discover import discover
from dicomio.series.group import group
from dicomio.series.retrieve import needs_retrieval, with_pixel_data
from dicomio.sources.web_address import WebAddress
from dicomio.sources.web_headers import (
    WebHeaderSource,
    header_bytes,
    mosaic_bulk_data,
    stored_syntax,
    with_bulk_data,
)
from dicomio.testing.synthetic import SeriesSpec, write_series
from dicomio.validate import ValidationConfig, validate_series

ROOT = "http://127.0.0.1:9/dicom-web"  # the discard port: nothing answers there


def _item(path: Path) -> dict[str, Any]:
    """The DICOM JSON model of a file, as a server's metadata gives it (no pixel data)."""
    item = pydicom.dcmread(path).to_json_dict()
    item.pop("7FE00010")
    return item


def _source(path: Path, item: dict[str, Any] | None = None) -> WebHeaderSource:
    item = _item(path) if item is None else item
    dataset = pydicom.dcmread(path, stop_before_pixels=True)
    url = (f"{ROOT}/studies/{dataset.StudyInstanceUID}/series/{dataset.SeriesInstanceUID}"
           f"/instances/{dataset.SOPInstanceUID}")
    return WebHeaderSource(url, header_bytes(item), stored_syntax(item), (),
                           WebAddress(ROOT))


@pytest.fixture
def written(tmp_path: Path) -> list[Path]:
    return list(write_series(tmp_path / "series", SeriesSpec(shape=(4, 10, 12))).files)


def test_a_header_from_metadata_says_what_is_not_known(written: list[Path]) -> None:
    dataset = pydicom.dcmread(written[0])
    header = read_header(_source(written[0]))
    assert header.headers_only and not read_header(written[0]).headers_only
    assert header.transfer_syntax is NOT_RETRIEVED
    assert header.transfer_syntax.uid == "" and str(header.transfer_syntax) == \
        "not known before retrieval"
    assert header.has_pixel_data
    assert header.pixel_data_offset is None and header.pixel_data_length is None
    assert header.pixel is not None
    assert (header.pixel.rows, header.pixel.columns) == (dataset.Rows, dataset.Columns)
    assert header.position == pytest.approx([float(v) for v in dataset.ImagePositionPatient])
    assert str(header.path).startswith(f"{ROOT}/studies/")


def test_a_transfer_syntax_the_metadata_gives_is_kept(written: list[Path]) -> None:
    item = {**_item(written[0]), "00083002": {"vr": "UI", "Value": [JPEG2000_LOSSLESS]}}
    assert read_header(_source(written[0], item)).transfer_syntax.uid == JPEG2000_LOSSLESS


def test_a_series_from_metadata_groups_and_validates_as_its_files(written: list[Path]) -> None:
    inventory = discover([_source(path) for path in reversed(written)])
    [series] = group(inventory.headers)
    [expected] = dicomio.list_series(written[0].parent)
    assert series.shape == expected.shape == (4, 10, 12)
    assert series.spacing == pytest.approx(expected.spacing)
    assert needs_retrieval(series) and not needs_retrieval(expected)
    headers_only = validate_series(series, ValidationConfig(pixels=False))
    assert headers_only == validate_series(expected, ValidationConfig(pixels=False)) == []


def test_pixel_checks_that_cannot_retrieve_are_decode_failed(written: list[Path]) -> None:
    pytest.importorskip("dicomweb_client", reason="retrieving needs dicomweb-client")
    [series] = group(discover([_source(path) for path in written]).headers)
    with dicomio.dicomweb_settings(retries=0, timeout=5):
        findings = validate_series(series, ValidationConfig(pixels=True))
        with pytest.raises(dicomio.DicomWebError):
            with_pixel_data(series)
    assert [f.code for f in findings] == ["DECODE_FAILED"]
    assert "DicomWebConnectionError" in findings[0].message


def test_an_instance_without_pixel_module_is_skipped_as_no_image(tmp_path: Path) -> None:
    report = Dataset()
    report.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    report.SOPInstanceUID, report.SeriesInstanceUID = generate_uid(), generate_uid()
    report.StudyInstanceUID, report.Modality = generate_uid(), "SR"
    report.file_meta = FileMetaDataset()
    report.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = tmp_path / "report.dcm"
    report.save_as(path, enforce_file_format=True)
    inventory = discover([_source(path, report.to_json_dict())])
    assert not inventory.headers
    [skipped] = inventory.skipped
    assert skipped.category == "no_pixel_data" and "Basic Text SR" in skipped.reason


def _mosaic(uri: str) -> dict[str, Any]:
    return {"00080008": {"vr": "CS", "Value": ["ORIGINAL", "PRIMARY", "M", "MOSAIC"]},
            "00290010": {"vr": "LO", "Value": ["SIEMENS CSA HEADER"]},
            "00290011": {"vr": "LO", "Value": ["SIEMENS MEDCOM HEADER2"]},
            "00291010": {"vr": "OB", "BulkDataURI": uri},
            "00291110": {"vr": "OB", "BulkDataURI": uri + "-other"}}


def test_only_a_mosaics_csa_headers_are_fetched_with_the_metadata() -> None:
    mosaic = _mosaic(f"{ROOT}/studies/1/series/2/instances/3/bulk/00291010")
    assert mosaic_bulk_data(mosaic) == {"00291010": mosaic["00291010"]["BulkDataURI"]}
    plain = {**mosaic, "00080008": {"vr": "CS", "Value": ["ORIGINAL", "PRIMARY"]}}
    assert mosaic_bulk_data(plain) == {}
    asked: list[str] = []

    def fetch(where: str) -> bytes:
        asked.append(where)
        return b"SV10" + where.encode()

    done = with_bulk_data([mosaic, plain], fetch, workers=2)
    assert asked == [mosaic["00291010"]["BulkDataURI"]]
    assert base64.b64decode(done[0]["00291010"]["InlineBinary"]) == b"SV10" + asked[0].encode()
    assert done[0]["00291110"] == mosaic["00291110"] and done[1] == plain


def test_metadata_a_file_could_not_hold_still_gives_its_header() -> None:
    # JSON numbers longer than a DS may be (16 characters), and no SOPInstanceUID: the header
    # keeps the values as the server gave them.
    item = {"00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
            "00200032": {"vr": "DS", "Value": [-104.12345678901234, 1e-17, 2.0]},
            "00280030": {"vr": "DS", "Value": [0.123456789012345678, 0.5]}}
    source = WebHeaderSource(f"{ROOT}/studies/1/series/2/instances/3", header_bytes(item))
    header = read_header(source)
    assert header.position == (-104.12345678901234, 1e-17, 2.0)
    assert header.pixel_spacing == (0.123456789012345678, 0.5)
    assert header.headers_only and header.pixel is None and not header.has_pixel_data
