"""The Siemens CSA header parser: both layouts, bad input, and agreement with nibabel."""

from __future__ import annotations

import importlib.util

import pydicom
import pytest

from dicomio.dicom.csa import CsaError, number, parse_csa, vector
from dicomio.testing.multiframe import csa_header

ELEMENTS = {
    "EchoLinePosition": ("IS", ["32"]),
    "NumberOfImagesInMosaic": ("US", ["35"]),
    "SliceNormalVector": ("FD", ["0.00174537", "-0.0923705", "0.99572318"]),
    "ImaCoilString": ("LO", ["HEA;HEP"]),
}


@pytest.mark.parametrize("version", [1, 2])
def test_both_layouts_parse_to_the_same_elements(version: int) -> None:
    elements = parse_csa(csa_header(ELEMENTS, version=version))
    assert list(elements) == list(ELEMENTS)
    assert number(elements, "NumberOfImagesInMosaic") == 35
    assert vector(elements, "SliceNormalVector", 3) == (0.00174537, -0.0923705, 0.99572318)
    assert elements["ImaCoilString"].items == ("HEA;HEP",)
    assert number(elements, "ImaCoilString") is None  # text, not a number
    assert number(elements, "Absent") is None and vector(elements, "Absent", 3) is None


def test_trailing_empty_items_are_not_numbers() -> None:
    elements = parse_csa(csa_header({"A": ("IS", ["1"]), "V": ("FD", ["1", "2", "", ""])}))
    assert elements["V"].numbers() == (1.0, 2.0)
    assert vector(elements, "V", 3) is None


@pytest.mark.parametrize("data", [b"", b"SV10\x04\x03\x02\x01", b"\xff" * 16,
                                  csa_header(ELEMENTS)[:150]])
def test_garbage_and_truncated_headers_raise(data: bytes) -> None:
    with pytest.raises(CsaError):
        parse_csa(data)


@pytest.mark.corpus
@pytest.mark.skipif(importlib.util.find_spec("nibabel") is None, reason="nibabel not installed")
@pytest.mark.parametrize("relative", [
    "dcm_qa_ts/In/1.dcm", "dcm_qa_12bit/In/12bitSigned_0x0F0F.dcm",
    "dcm_qa_mosaic/In/ep2d_Int_HF_5/IM-0004-0001.dcm", "nibabel_nicom/data/csa_slice_norm.dcm"])
def test_real_headers_agree_with_nibabel(corpus, relative: str) -> None:
    from nibabel.nicom import csareader

    raw = pydicom.dcmread(corpus(relative), stop_before_pixels=True)[0x0029, 0x1010].value
    ours, theirs = parse_csa(raw), csareader.read(raw)
    assert set(ours) == set(theirs["tags"])
    assert number(ours, "NumberOfImagesInMosaic") == csareader.get_n_mosaic(theirs)
    assert vector(ours, "SliceNormalVector", 3) == tuple(csareader.get_slice_normal(theirs))
