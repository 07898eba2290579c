"""The corpus' converter outputs beside the image: b-value tables and JSON sidecars.

Each case names its DICOM input (relative to the corpus), the reference written by a converter
(dcm2niix's ``Ref/`` files, dicom2nifti's ground truths), and — when the input cannot be used —
why, which the tests turn into a strict xfail (never a silent skip). Inputs stored gzipped (the
Philips DWI set) are decompressed into a temporary folder by :func:`input_folder`.
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom

from tests.support.corpus import CORPUS, corpus_path

ABSENT = "its DICOM input is not in the corpus snapshot ({}, omitted for size: see SOURCE.md)"


@dataclass(frozen=True)
class Case:
    """One reference and the series it was made from."""

    name: str
    source: str          # the DICOM input, relative to the corpus
    reference: str       # the reference's path without extension, relative to the corpus
    absent: str = ""     # why the input cannot be used (a strict xfail), "" when it can
    stack: int | None = None  # which of the input's series, when it holds several

    @property
    def converter(self) -> str:
        return "dicom2nifti" if self.reference.startswith("dicom2nifti") else "dcm2niix"

    def reference_file(self, suffix: str) -> Path:
        return corpus_path(self.reference + suffix)


def input_folder(case: Case, scratch: Path) -> Path:
    """The case's DICOM input: the corpus folder, or its gzipped files decompressed into
    ``scratch`` (once)."""
    source = corpus_path(case.source)
    packed = sorted(source.rglob("*.gz"))
    if not packed:
        return source
    target = scratch / case.name.replace("/", "_")
    if not target.exists():
        target.mkdir(parents=True)
        for path in packed:
            with gzip.open(path, "rb") as compressed, open(target / path.stem, "wb") as plain:
                shutil.copyfileobj(compressed, plain)
    return target


def orientation_of(folder: Path) -> np.ndarray:
    """ImageOrientationPatient of the first DICOM image under ``folder`` (top level, or the
    first frame's plane orientation of an enhanced file), read with pydicom."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            dataset = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if "ImageOrientationPatient" in dataset:
            return np.array(dataset.ImageOrientationPatient, dtype=float)
        for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            for group in dataset.get(groups) or ():
                if "PlaneOrientationSequence" in group:
                    orientation = group.PlaneOrientationSequence[0].ImageOrientationPatient
                    return np.array(orientation, dtype=float)
    raise AssertionError(f"no ImageOrientationPatient under {folder}")


def dcm2niix_affine(orientation: np.ndarray) -> np.ndarray:
    """The axes of the NIfTI dcm2niix writes for classic and enhanced slices (its rows reversed,
    slices along the normal): voxel axes ``r``, ``-c``, ``r × c`` in LPS, as a RAS affine (unit
    spacing; only the directions matter to b-vectors)."""
    row, column = orientation[:3], orientation[3:6]
    axes_lps = np.column_stack([row, -column, np.cross(row, column)])
    affine = np.eye(4)
    affine[:3, :3] = np.diag([-1.0, -1.0, 1.0]) @ axes_lps
    return affine


DWI_CASES = [
    Case("dcm_qa_xa30/10_DWI_dir80_PA", "dcm_qa_xa30/In/10_DWI_dir80_PA",
         "dcm_qa_xa30/Ref/10_DWI_dir80_PA"),
    Case("dcm_qa_philips_dwi/cl", "dcm_qa_philips_dwi/In/cl",
         "dcm_qa_philips_dwi/Ref/701_DTI_Biobank_2mm_MB3S2_EPI_cl"),
    Case("dcm_qa_philips_dwi/enh", "dcm_qa_philips_dwi/In/enh",
         "dcm_qa_philips_dwi/Ref/701_DTI_Biobank_2mm_MB3S2_EPI_enh",
         absent=ABSENT.format("the enhanced file its DICOMDIR names")),
    Case("dcm_qa_enh/Canon", "dcm_qa_enh/In/Canon", "dcm_qa_enh/Ref/Canon_DTI_PA-ortho_9000",
         absent=ABSENT.format("In/Canon/DTI_PA.dcm")),
    Case("dicom2nifti/ge/dti/001", "dicom2nifti/data/ge/dti/001",
         "dicom2nifti/data/ge/dti/001_ground_truth"),
    Case("dicom2nifti/philips/dti/001", "dicom2nifti/data/philips/dti/001",
         "dicom2nifti/data/philips/dti/001_ground_truth"),
]


def dwi_references() -> list[Path]:
    """Every ``.bvec`` of the corpus: each must be one of :data:`DWI_CASES`."""
    return sorted(CORPUS.rglob("*.bvec"))
