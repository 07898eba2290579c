"""DWI series made from real ones for tests: GE and Siemens files with gradients of our choosing.

The corpus has one GE DWI series (without the phase-encoding direction GE's gradients need) and
no Siemens classic or mosaic DWI. These writers copy real series and write gradients into them:
GE's private (0043,1039) and (0019,10BB-10BD), Siemens' standard (0018,9087)/(0018,9089).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from tests.support.corpus import corpus_path

ORIENTATIONS = {  # row cosine, column cosine
    "axial": ((1, 0, 0), (0, 1, 0)),
    "sagittal": ((0, 1, 0), (0, 0, -1)),
    "coronal": ((1, 0, 0), (0, 0, -1)),
    "oblique": ((1, 0, 0), (0, np.cos(0.3), np.sin(0.3))),
}


def unit(vectors: np.ndarray) -> np.ndarray:
    """Each row at unit length (zero rows stay zero)."""
    lengths = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, lengths, out=np.zeros_like(vectors), where=lengths > 0)


def write_ge_series(folder: Path, orientation: str, phase: str, gradients: list, *,
                    reversed_slices: bool = False, flag: bool = False) -> None:
    """The first volume of dicom2nifti's GE DTI series (4 axial slices), repeated once per
    gradient, turned to ``orientation`` (positions along the new normal, descending when
    ``reversed_slices``), HFS, with InPlanePhaseEncodingDirection ``phase``; each volume's
    gradient is written into (0043,1039) and (0019,10BB/BC/BD) (with GE's 10^9 flag added to
    the b-value when ``flag``)."""
    folder.mkdir(parents=True)
    source = corpus_path("dicom2nifti/data/ge/dti/001")
    templates = [pydicom.dcmread(p) for p in sorted(source.glob("IM-0001-000*"))]
    row, column = (np.asarray(v, dtype=float) for v in ORIENTATIONS[orientation])
    normal = np.cross(row, column)
    for volume, (bvalue, vector) in enumerate(gradients):
        for number, dataset in enumerate(templates):
            dataset = pydicom.dcmread(dataset.filename)
            height = float(dataset.ImagePositionPatient[2])
            position = -100 * row - 100 * column + (-height if reversed_slices else height) * normal
            dataset.ImageOrientationPatient = [f"{v:.6f}" for v in (*row, *column)]
            dataset.ImagePositionPatient = [f"{v:.4f}" for v in position]
            dataset.InPlanePhaseEncodingDirection = phase
            dataset.PatientPosition = "HFS"
            dataset.InstanceNumber = volume * len(templates) + number + 1
            dataset.SOPInstanceUID = generate_uid()
            dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
            stored = int(bvalue) + (1_000_000_000 if flag and bvalue else 0)
            dataset[0x0043, 0x1039].value = f"{stored}\\8\\0\\0"
            for element, component in zip((0x10BB, 0x10BC, 0x10BD), vector, strict=True):
                dataset[0x0019, element].value = f"{component:.6f}"
            dataset.save_as(folder / f"v{volume}_{number}.dcm")


def write_siemens_mosaics(source: Path, folder: Path, gradients: list) -> None:
    """Siemens mosaics (one file per volume) with ``gradients`` in the standard elements."""
    folder.mkdir(parents=True)
    files = sorted(p for p in source.iterdir() if p.is_file())
    assert len(files) >= len(gradients)
    for path, (bvalue, vector) in zip(files, gradients, strict=False):
        dataset = pydicom.dcmread(path)
        dataset.DiffusionBValue = float(bvalue)
        dataset.DiffusionGradientOrientation = [float(v) for v in unit(np.array(vector, float))]
        dataset.save_as(folder / path.name)
