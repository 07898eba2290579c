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


def _json(name: str, source: str, reference: str, **options: object) -> Case:
    return Case(name, source, reference, **options)  # type: ignore[arg-type]


JSON_CASES = [
    *(_json(f"dcm_qa/{n}", f"dcm_qa/In/Orientation/{d}", f"dcm_qa/Ref/{n}")
      for n, d in (("ax_asc_35sl_6", "ax/axasc35"), ("fMRI_MB_asc_25", "axmb/AxAsc36mb2a"),
                   ("fMRI_MB_int_26", "axmb/AxInt36mb"), ("sag_asc_35sl_22", "sag/sagasc35"))),
    *(_json(f"dcm_qa_12bit/{n}", f"dcm_qa_12bit/In/{f}", f"dcm_qa_12bit/Ref/{n}")
      for n, f in ((2, "12bitUnsigned.dcm"), (3, "12bitUnsigned_0x0F0F.dcm"),
                   (4, "12bitSigned_0x0F0F.dcm"))),
    _json("dcm_qa_ct/GE 2", "dcm_qa_ct/In/GE", "dcm_qa_ct/Ref/_2"),
    _json("dcm_qa_ct/Philips 201", "dcm_qa_ct/In/Philips/S21570/S2010",
          "dcm_qa_ct/Ref/1A_TRAUMA_PLAIN_HEAD_DM_Head_201"),
    *(_json(f"dcm_qa_ct/{n}", "dcm_qa_ct/In/Philips", f"dcm_qa_ct/Ref/{n}",
            absent=ABSENT.format("the Philips CT series S2020, S2030, S4010 and S21610"))
      for n in ("1A_TRAUMA_PLAIN_HEAD_DM_Head_202", "1A_TRAUMA_PLAIN_HEAD_DM_Head_203",
                "1F_STEREOTAXIS_Head_201", "1F_STEREOTAXIS_Head_301")),
    _json("dcm_qa_enh/Canon", "dcm_qa_enh/In/Canon", "dcm_qa_enh/Ref/Canon_DTI_PA-ortho_9000",
          absent=ABSENT.format("In/Canon/DTI_PA.dcm")),
    *(_json(f"dcm_qa_enh/{n}", "dcm_qa_enh/In/Philips", f"dcm_qa_enh/Ref/Philips_WIP_{n}",
            absent=ABSENT.format(f))
      for n, f in (("AnatBrain_T1W3D_301", "In/Philips/IM_0006_T1.dcm"),
                   ("AnatBrain_T1W3D_301_ph", "In/Philips/IM_0006_T1.dcm"),
                   ("resting_state_1001_e1", "In/Philips/IM_0035_fMRI.dcm"),
                   ("resting_state_1001_e2", "In/Philips/IM_0035_fMRI.dcm"))),
    _json("dcm_qa_enh/B0_NS_801_e1", "dcm_qa_enh/In/Philips",
          "dcm_qa_enh/Ref/Philips_WIP_B0_NS_801_e1", stack=0),
    _json("dcm_qa_enh/B0_NS_801_e2", "dcm_qa_enh/In/Philips",
          "dcm_qa_enh/Ref/Philips_WIP_B0_NS_801_e2_fieldmaphz", stack=1),
    _json("dcm_qa_enh/Siemens", "dcm_qa_enh/In/Siemens/XA10",
          "dcm_qa_enh/Ref/Siemens_REST1_w_SMS_PF7-8_6"),
    _json("dcm_qa_mosaic/ep2d_Int_HF", "dcm_qa_mosaic/In/ep2d_Int_HF_5",
          "dcm_qa_mosaic/Ref/5_ep2d_Int_HF"),
    _json("dcm_qa_nih/GE", "dcm_qa_nih/In/20180918GE/mr_0004",
          "dcm_qa_nih/Ref/DCM2NIIX_regression_test_4"),
    *(_json(f"dcm_qa_nih/Siemens {pe}", f"dcm_qa_nih/In/20180918Si/mr_000{n}",
            f"dcm_qa_nih/Ref/EPI_PE={pe}_{n}")
      for n, pe in ((3, "AP"), (4, "PA"), (5, "RL"), (6, "LR"))),
    _json("dcm_qa_philips_dwi/cl", "dcm_qa_philips_dwi/In/cl",
          "dcm_qa_philips_dwi/Ref/701_DTI_Biobank_2mm_MB3S2_EPI_cl"),
    _json("dcm_qa_philips_dwi/enh", "dcm_qa_philips_dwi/In/enh",
          "dcm_qa_philips_dwi/Ref/701_DTI_Biobank_2mm_MB3S2_EPI_enh",
          absent=ABSENT.format("the enhanced file its DICOMDIR names")),
    *(_json(f"dcm_qa_polar/{number}", f"dcm_qa_polar/In/{folder}",
            f"dcm_qa_polar/Ref/{number}_{folder.split('_', 1)[1]}", stack=stack)
      for number, folder, stack in ((6, "6_FM_cv12_2_3mm", 0), (1006, "6_FM_cv12_2_3mm", 1),
                                    (7, "7_FM_cv12_1_3mm", None), (8, "8_FM_cv12_3_3mm", 0),
                                    (1008, "8_FM_cv12_3_3mm", 1), (9, "9_FM_cv12_0_3mm", None))),
    *(_json(f"dcm_qa_ts/{n}", f"dcm_qa_ts/In/{n}.dcm", f"dcm_qa_ts/Ref/{n}") for n in range(1, 10)),
    _json("dcm_qa_xa30/10_DWI_dir80_PA", "dcm_qa_xa30/In/10_DWI_dir80_PA",
          "dcm_qa_xa30/Ref/10_DWI_dir80_PA"),
    _json("dcm_qa_xa30/5_anat-T1w_acq-tfl", "dcm_qa_xa30/In/5_anat-T1w_acq-tfl",
          "dcm_qa_xa30/Ref/5_anat-T1w_acq-tfl"),
]


def json_references() -> list[Path]:
    """Every dcm2niix JSON of the corpus (``Ref/*.json``): each must be one of
    :data:`JSON_CASES`."""
    return sorted(CORPUS.glob("*/Ref/*.json"))
