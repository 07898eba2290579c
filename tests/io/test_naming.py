""":mod:`dicomio.io.naming`: dcm2niix-like output names, safe and unique."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import Dataset

from dicomio.io.naming import expand, safe_name, unique_path


@pytest.fixture
def dataset() -> Dataset:
    ds = Dataset()
    ds.ProtocolName = "T1 mprage"
    ds.SeriesNumber = 5
    ds.SeriesDescription = "sag T1"
    ds.PatientID = "P/01"
    ds.PatientName = "Doe^Jane"
    ds.StudyDate, ds.StudyTime = "20240102", "103000.123"
    ds.EchoNumbers = 2
    ds.Manufacturer = "SIEMENS"
    ds.SequenceName = "*tfl3d1"
    return ds


def test_every_placeholder(dataset: Dataset) -> None:
    assert expand("%p_%s_%d_%i_%n_%t_%e_%f_%m_%z_%%", dataset, "dicom") == \
        "T1 mprage_5_sag T1_P/01_Doe^Jane_20240102103000_2_dicom_Si_*tfl3d1_%"


def test_absent_values_and_unknown_placeholders(dataset: Dataset) -> None:
    assert expand("%p", Dataset(), "f") == "" and expand("%e", Dataset(), "f") == "1"
    with pytest.raises(ValueError, match="%q"):
        expand("%q_%s", dataset, "f")
    with pytest.raises(ValueError, match="lone %"):
        expand("name%", dataset, "f")


def test_safe_name() -> None:
    assert safe_name("T1 mprage/../x:y") == "T1_mprage_.._x_y"
    assert safe_name("..hidden") == "hidden" and safe_name("-rf") == "rf"
    assert safe_name("Ümlaut é\x1b[31m") == "Umlaut_e_31m"
    assert safe_name("///") == "series"


def test_unique_path(tmp_path: Path) -> None:
    first = unique_path(tmp_path, "x", ".nii.gz")
    assert first == tmp_path / "x.nii.gz"
    first.touch()
    assert unique_path(tmp_path, "x", ".nii.gz") == tmp_path / "xa.nii.gz"
    taken = {tmp_path / f"x{c}.nii.gz" for c in "abcdefghijklmnopqrstuvwxyz"}
    assert unique_path(tmp_path, "x", ".nii.gz", taken) == tmp_path / "xaa.nii.gz"
    (tmp_path / "y.json").touch()  # another conversion's sidecar holds the name
    assert unique_path(tmp_path, "y", ".nii", set()) == tmp_path / "ya.nii"
