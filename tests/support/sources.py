"""Build the places DICOM lives in from a folder on disk: zip and tar archives of it, and a
DICOM file set with its DICOMDIR written by pydicom (``pydicom.fileset``)."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pydicom
from pydicom.fileset import FileSet

ARCHIVE_KINDS = ("zip", "tar", "tgz")


def files_under(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, sorted."""
    return sorted(path for path in folder.rglob("*") if path.is_file())


def archive_of(folder: Path, kind: str, out: Path) -> Path:
    """``folder``'s files (with its subfolders) as a ``kind`` archive ``out``."""
    if kind == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files_under(folder):
                archive.write(path, path.relative_to(folder).as_posix())
    else:
        with tarfile.open(out, "w:gz" if kind == "tgz" else "w") as archive:
            for path in files_under(folder):
                archive.add(path, arcname=f"./{path.relative_to(folder).as_posix()}")
    return out


def file_set_of(files: list[Path], out: Path) -> Path:
    """``files`` written by pydicom as a DICOM file set in the folder ``out``; returns its
    DICOMDIR. pydicom's STUDY record needs a StudyID: one is added where absent."""
    file_set = FileSet()
    for path in files:
        dataset = pydicom.dcmread(path)
        dataset.StudyID = dataset.get("StudyID") or "1"
        file_set.add(dataset)
    file_set.write(out)
    return out / "DICOMDIR"
