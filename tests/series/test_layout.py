"""What a series is (``lay_out``), and that load_volume, load_4d and validate agree on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

import dicomio
from dicomio.series.layout import lay_out
from dicomio.testing.synthetic import SeriesSpec
from dicomio.validate.report import validate

US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


def write_cine(path: Path, sop_class: str, frames: np.ndarray) -> None:
    """A multi-frame file without any patient geometry, as ultrasound machines write them."""
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID = sop_class
    ds.SeriesInstanceUID, ds.StudyInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "US"
    ds.NumberOfFrames = len(frames)
    ds.Rows, ds.Columns = frames.shape[1:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = frames.astype(np.uint8).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_a_cine_loads_in_stored_frame_order(tmp_path: Path) -> None:
    frames = np.arange(3 * 4 * 5).reshape(3, 4, 5) * 4
    write_cine(tmp_path / "cine.dcm", US_MULTIFRAME, frames)
    (series,) = dicomio.list_series(tmp_path)
    assert lay_out(series).kind == "image"
    volume = dicomio.load_volume(tmp_path)
    np.testing.assert_array_equal(volume.array, frames)
    assert any("nominal" in w for w in volume.provenance.warnings)
    report = validate(tmp_path)
    assert [(f.code, f.severity) for f in report.all_findings] == [("NOMINAL_GEOMETRY", "info")]
    assert "3 frames" in report.all_findings[0].message


def test_frames_of_a_volume_kind_without_geometry_stay_unplaced(tmp_path: Path) -> None:
    """An enhanced MR whose functional groups are gone: where each frame lies is lost."""
    write_cine(tmp_path / "stripped.dcm", ENHANCED_MR, np.zeros((3, 4, 5)))
    (series,) = dicomio.list_series(tmp_path)
    assert lay_out(series).kind == "unplaced"
    with pytest.raises(dicomio.MissingGeometryError):
        dicomio.load_volume(tmp_path)
    assert [f.code for f in validate(tmp_path).all_findings if f.severity == "error"] == [
        "MISSING_GEOMETRY"]


def test_kinds_of_generated_series(make_series, tmp_path: Path) -> None:
    spec = SeriesSpec(shape=(4, 6, 6), series_uid="1.2.3.7")
    make_series(spec, folder=tmp_path / "a" / "t0")
    assert lay_out(dicomio.list_series(tmp_path / "a")[0]).kind == "volume"
    make_series(spec.with_(seed=1), folder=tmp_path / "a" / "t1")
    layout = lay_out(dicomio.list_series(tmp_path / "a")[0])
    assert (layout.kind, layout.n_volumes, len(layout.frames)) == ("4d", 2, 8)
    make_series(spec.with_(seed=2, shape=(2, 6, 6)), folder=tmp_path / "a" / "t2")
    layout = lay_out(dicomio.list_series(tmp_path / "a")[0])
    assert layout.kind == "repeated" and "different numbers of images" in str(layout.problem)
    with pytest.raises(dicomio.RepeatedPositionsError, match="not a 4-D series either"):
        dicomio.load_volume(tmp_path / "a")
    with pytest.raises(dicomio.RepeatedPositionsError, match="cannot be split"):
        dicomio.load_4d(tmp_path / "a")


@pytest.mark.corpus
def test_a_real_ultrasound_cine_loads_like_pydicom_reads_it(corpus) -> None:
    path = corpus("pydicom_testfiles/test_files/examples_ybr_color.dcm")
    volume = dicomio.load_volume(path, rescale=False)
    assert volume.provenance.decoders == ("pydicom/pylibjpeg",)
    # JPEG baseline is lossy and decoders round differently: compare with the same library.
    from pydicom.pixels import pixel_array

    reference = pixel_array(path, decoding_plugin="pylibjpeg")  # YBR to RGB, as dicomio does
    assert volume.shape == reference.shape == (30, 240, 320, 3)
    np.testing.assert_array_equal(volume.array, reference)
