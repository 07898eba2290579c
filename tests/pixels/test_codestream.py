"""RLE data holding more frames than NumberOfFrames is reported, never dropped silently."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

import dicomio
from dicomio.dicom.header import read_header
from dicomio.pixels.codestream import rle_frame_excess
from dicomio.validate.report import validate

warnings.filterwarnings("ignore", module="pydicom")


def write_rle(folder: Path, stored: int, declared: int) -> tuple[Path, np.ndarray]:
    """An RLE secondary capture of ``stored`` 8 x 10 frames (one fragment each, as pydicom's
    encoder writes them) whose NumberOfFrames says ``declared``; returns it and its frames."""
    frames = (np.arange(stored * 80, dtype=np.uint16).reshape(stored, 8, 10) * 7 + 1)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.Rows, ds.Columns, ds.SamplesPerPixel = "OT", 8, 10, 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    if stored > 1:
        ds.NumberOfFrames = stored
    ds.PixelData = frames.tobytes()
    ds.compress(RLELossless, encoding_plugin="pydicom")
    if declared > 1:
        ds.NumberOfFrames = declared
    elif "NumberOfFrames" in ds:
        del ds.NumberOfFrames
    folder.mkdir(parents=True)
    path = folder / "frames.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path, frames


@pytest.mark.parametrize("stored, declared", [(2, 1), (3, 2)])
def test_frames_beyond_number_of_frames_are_reported(tmp_path, stored, declared) -> None:
    path, frames = write_rle(tmp_path / "series", stored, declared)
    excess = rle_frame_excess(read_header(path))
    assert excess is not None and str(path) in excess
    assert f"more fragments than its {declared} frame(s)" in excess
    volume = dicomio.load_volume(path, irregular="accept")
    np.testing.assert_array_equal(volume.array, frames[:declared])  # the declared frames
    assert excess in volume.provenance.warnings
    report = validate(path)
    (finding,) = [f for s in report.series for f in s.findings
                  if f.code == "PIXEL_DATA_TOO_LONG"]
    assert finding.severity == "error" and finding.files == (str(path),)


@pytest.mark.parametrize("frames", [1, 3])
def test_one_fragment_per_declared_frame_is_not_reported(tmp_path, frames) -> None:
    path, _ = write_rle(tmp_path / "series", frames, frames)
    assert rle_frame_excess(read_header(path)) is None
    volume = dicomio.load_volume(path, irregular="accept")
    assert not any("fragments" in w for w in volume.provenance.warnings)
