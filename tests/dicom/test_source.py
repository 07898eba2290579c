""":mod:`dicomio.dicom.source`: pydicom reads a file through dicomio asking for no more bytes
than the file holds, so a damaged length costs no allocation of that length.

Found by the fuzz campaign: a VR swapped in a small file made pydicom parse its header with
another VR, read a 4-byte length of about 3 GiB and allocate it (a MemoryError under the
worker's memory ceiling, reported as over budget for a 4 KiB file).
"""

from __future__ import annotations

import multiprocessing
import struct
from pathlib import Path

import pydicom

from dicomio.dicom.source import PathSource, read_dataset
from dicomio.limits import limit_memory

#: The ceiling of the process reading the file, and the length the damaged element declares.
CEILING_MIB, DECLARED = 512, 0xC0000000  # 3 GiB


def damaged_file(path: Path) -> Path:
    """A small DICOM file whose last element, an OB, declares 3 GiB and holds 16 bytes."""
    dataset = pydicom.Dataset()
    dataset.PatientName = "Damaged^Length"
    dataset.file_meta = pydicom.dataset.FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    dataset.file_meta.MediaStorageSOPClassUID = pydicom.uid.SecondaryCaptureImageStorage
    dataset.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    dataset.save_as(path, enforce_file_format=True)
    with path.open("ab") as file:  # (0009,0010) OB, explicit VR: 2 reserved bytes, 4-byte length
        file.write(struct.pack("<HH2s2xI", 0x0009, 0x0010, b"OB", DECLARED) + bytes(16))
    return path


def read_in_ceiling(path: Path) -> str:
    """Read ``path`` with :func:`read_dataset` in this process: what happened, in a word."""
    try:
        dataset = read_dataset(PathSource(path), force=True)
    except MemoryError:
        return "MemoryError"
    except Exception as exc:  # pydicom's own error for the short value is fine
        return f"refused: {type(exc).__name__}"
    return f"read: {len(dataset[0x0009, 0x0010].value)} bytes"


def test_a_damaged_length_is_not_allocated(tmp_path: Path) -> None:
    path = damaged_file(tmp_path / "damaged.dcm")
    assert path.stat().st_size < 1024
    context = multiprocessing.get_context("spawn")
    with context.Pool(1, initializer=limit_memory, initargs=(CEILING_MIB,)) as worker:
        outcome = worker.apply(read_in_ceiling, (path,))
    assert outcome != "MemoryError"
    assert outcome == "read: 16 bytes" or outcome.startswith("refused")


def test_a_plain_file_reads_whole(tmp_path: Path) -> None:
    """Values of their declared length, the pixel data included, and the file's name kept."""
    from dicomio.testing.synthetic import write_series

    path = write_series(tmp_path / "series").files[0]
    dataset = read_dataset(PathSource(path))
    assert len(dataset.PixelData) == dataset.Rows * dataset.Columns * 2
    assert Path(dataset.filename) == path
