"""The agreement table: every corpus reference that is one 3-D or 4-D volume, against dicomio.

Each :class:`Reference` names a DICOM input, the converter output it is compared with, and what
agreement means for it (:class:`Expect`). :func:`check` loads the input through one backend,
compares, and returns an :class:`Outcome`, or raises AssertionError saying what disagrees.
``tests/contract/test_agreement.py`` runs every reference through every installed backend;
``python -m tools.agreement_table`` writes the same results to ``docs/agreement.md``.

What agreement means:

``EXACT``
    Stored values (``rescale=False``) voxel for voxel, and every voxel centre within 1e-4 mm
    of the reference's (its sform, RAS → LPS).
``MEAN_STEP``
    Voxel-exact; the reference's slice step is ``(last IPP - first IPP) / (n - 1)`` while
    dicomio's is the slice normal × the median gap, from the first IPP. The positions in these
    files are rounded (to 1 µm), so the two grids part by up to about 1 µm at the far end: the
    reference must lie within 1e-4 mm of dicomio's affine with that mean step in column 0.
``LAST_ANCHOR``
    Voxel-exact; the reference's grid has dicomio's step but passes through the *last* slice's
    IPP, dicomio's through the first. The file's positions are rounded to 0.1 µm and the stack
    spans 190.0001 mm in 95 steps of 2 mm: the grids are 1.04e-4 mm apart. The reference must
    lie within 1e-4 mm of dicomio's affine moved to the last slice.
``MODALITY``
    The reference holds modality values (``stored × RescaleSlope + RescaleIntercept`` per
    slice or frame), not stored ones: compared with ``rescale=True``, within ``ulps`` units in
    the last place of float32 (dicom2nifti multiplies in float32, dicomio in float64 rounded
    once).
``TILT_RESAMPLED``
    Both resample a tilted stack with a missing slice onto an orthogonal grid, on different
    grids: dicom2nifti's slice spacing is the length of the sheared slice step (the true
    spacing / cos(tilt)) and its interpolation is trilinear; dicomio's is the true spacing
    (``irregular="resample"``). Same shape and axes, spacing in that ratio; values are not
    compared (the grids do not coincide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

import dicomio
from dicomio.backends.registry import get_spec
from dicomio.geometry.conventions import slice_normal
from dicomio.pixels.assembly import read_plan
from tests.support.corpus import CORPUS
from tests.support.reference import load_reference, reference_in_contract_order

GEOMETRY_MM = 1e-4


class Expect(Enum):
    EXACT = "exact"
    MEAN_STEP = "exact values; reference slice step = mean IPP step"
    LAST_ANCHOR = "exact values; reference grid through the last slice"
    MODALITY = "reference holds modality values"
    TILT_RESAMPLED = "both resampled, on different grids"


@dataclass(frozen=True)
class Reference:
    """One reference volume and how dicomio must agree with it."""

    name: str
    source: str      # the DICOM input, relative to the corpus
    reference: str   # the converter's NIfTI output, relative to the corpus
    what: str
    stack: int = 0   # which of list_series(source)
    four_d: bool = False
    expect: Expect = Expect.EXACT
    ulps: int = 0

    @property
    def converter(self) -> str:
        return "dicom2nifti" if self.reference.startswith("dicom2nifti") else "dcm2niix"


def _ts(number: int, syntax: str) -> Reference:
    return Reference(f"dcm_qa_ts/{number}", f"dcm_qa_ts/In/{number}.dcm",
                     f"dcm_qa_ts/Ref/{number}.nii", f"Siemens mosaic, {syntax}")


def _d2n(name: str, what: str, **options: Any) -> Reference:
    return Reference(f"dicom2nifti/{name}", f"dicom2nifti/data/{name}",
                     f"dicom2nifti/data/{name}_ground_truth.nii.gz", what, **options)


REFERENCES: list[Reference] = [
    *(_ts(n, s) for n, s in enumerate(
        ["explicit LE", "implicit LE", "explicit BE", "RLE", "JPEG lossless .70",
         "JPEG lossless .70 (labelled .57 upstream)", "JPEG-LS lossless",
         "JPEG-LS lossless (2)", "JPEG 2000 lossless"], start=1)),
    Reference("dcm_qa_12bit/2", "dcm_qa_12bit/In/12bitUnsigned.dcm", "dcm_qa_12bit/Ref/2.nii",
              "12-bit unsigned mosaic, group 0019 stripped"),
    Reference("dcm_qa_12bit/3", "dcm_qa_12bit/In/12bitUnsigned_0x0F0F.dcm",
              "dcm_qa_12bit/Ref/3.nii", "12-bit unsigned mosaic, garbage high bits"),
    Reference("dcm_qa_12bit/4", "dcm_qa_12bit/In/12bitSigned_0x0F0F.dcm",
              "dcm_qa_12bit/Ref/4.nii", "12-bit signed mosaic, garbage high bits"),
    Reference("dcm_qa/ax_asc_35sl", "dcm_qa/In/Orientation/ax/axasc35",
              "dcm_qa/Ref/ax_asc_35sl_6.nii", "axial mosaics, 2 volumes", four_d=True),
    Reference("dcm_qa/sag_asc_35sl", "dcm_qa/In/Orientation/sag/sagasc35",
              "dcm_qa/Ref/sag_asc_35sl_22.nii", "sagittal mosaics, 2 volumes", four_d=True),
    Reference("dcm_qa/fMRI_MB_asc", "dcm_qa/In/Orientation/axmb/AxAsc36mb2a",
              "dcm_qa/Ref/fMRI_MB_asc_25.nii", "multiband mosaics, JPEG lossless, 2 volumes",
              four_d=True),
    Reference("dcm_qa/fMRI_MB_int", "dcm_qa/In/Orientation/axmb/AxInt36mb",
              "dcm_qa/Ref/fMRI_MB_int_26.nii", "multiband mosaics, JPEG 2000, 2 volumes",
              four_d=True),
    Reference("dcm_qa_mosaic/ep2d_Int_HF", "dcm_qa_mosaic/In/ep2d_Int_HF_5",
              "dcm_qa_mosaic/Ref/5_ep2d_Int_HF.nii",
              "mosaics stored head to foot, 6 volumes", four_d=True),
    Reference("dcm_qa_nih/GE", "dcm_qa_nih/In/20180918GE/mr_0004",
              "dcm_qa_nih/Ref/DCM2NIIX_regression_test_4.nii",
              "GE classic fMRI, 15 slices x 10 volumes", four_d=True),
    *(Reference(f"dcm_qa_nih/Siemens {pe}", f"dcm_qa_nih/In/20180918Si/mr_000{n}",
                f"dcm_qa_nih/Ref/EPI_PE={pe}_{n}.nii", f"Siemens mosaics, PE {pe}, 2 volumes",
                four_d=True)
      for n, pe in ((3, "AP"), (4, "PA"), (5, "RL"), (6, "LR"))),
    Reference("dcm_qa_xa30/T1w", "dcm_qa_xa30/In/5_anat-T1w_acq-tfl",
              "dcm_qa_xa30/Ref/5_anat-T1w_acq-tfl.nii", "Siemens XA30 enhanced, 96 frames",
              expect=Expect.LAST_ANCHOR),
    Reference("dcm_qa_enh/Siemens", "dcm_qa_enh/In/Siemens/XA10",
              "dcm_qa_enh/Ref/Siemens_REST1_w_SMS_PF7-8_6.nii",
              "Siemens XA10 enhanced, one file per volume, 4 volumes", four_d=True),
    Reference("dcm_qa_enh/Philips e1", "dcm_qa_enh/In/Philips",
              "dcm_qa_enh/Ref/Philips_WIP_B0_NS_801_e1.nii",
              "Philips enhanced, magnitude frames of a mixed file", stack=0),
    Reference("dcm_qa_enh/Philips e2", "dcm_qa_enh/In/Philips",
              "dcm_qa_enh/Ref/Philips_WIP_B0_NS_801_e2_fieldmaphz.nii",
              "Philips enhanced, field-map frames of a mixed file", stack=1),
    _d2n("ge/fmri/001", "GE classic fMRI, 2 volumes", four_d=True),
    _d2n("ge/dti/001", "GE classic DTI, 2 volumes", four_d=True),
    _d2n("ge/dti/002", "GE classic DTI (old), oblique, 4 volumes", four_d=True,
         expect=Expect.MEAN_STEP),
    _d2n("philips/fmri/001", "Philips classic fMRI, 4 volumes", four_d=True),
    _d2n("philips/dti/001", "Philips classic DTI, 4 volumes", four_d=True),
    _d2n("siemens/fmri_classic/001", "Siemens classic fMRI, 2 volumes", four_d=True),
    _d2n("philips_enhanced/fmri/001", "Philips enhanced fMRI, 4 volumes", four_d=True,
         expect=Expect.MODALITY, ulps=1),
    _d2n("philips_enhanced/anatomical/001", "Philips enhanced anatomical",
         expect=Expect.MODALITY, ulps=1),
    _d2n("siemens_multiframe/anatomical/001", "Siemens enhanced anatomical, oblique",
         expect=Expect.MEAN_STEP),
    _d2n("hyperfine/anatomical/001", "Hyperfine enhanced, shared functional groups"),
    _d2n("generic/anatomical/002_non_isotropic", "per-slice float rescale",
         expect=Expect.MODALITY),
    _d2n("failing/sliceincrement/002", "gantry tilt and a missing slice",
         expect=Expect.TILT_RESAMPLED),
]


@dataclass(frozen=True)
class Outcome:
    """How one reference and one backend agree."""

    status: str   # "exact", "documented", "cannot read"
    detail: str


def series_of(reference: Reference) -> dicomio.SeriesInfo:
    return dicomio.list_series(CORPUS / reference.source)[reference.stack]


def cannot_read(reference: Reference, backend: str) -> str | None:
    """Why ``backend`` cannot read this reference's input (it reads the stored images)."""
    return get_spec(backend).cannot_read(read_plan(series_of(reference)).stored)


def check(reference: Reference, backend: str) -> Outcome:
    """Load the reference's input with ``backend`` and compare; AssertionError on a
    disagreement that the reference's :class:`Expect` does not explain."""
    reason = cannot_read(reference, backend)
    if reason is not None:
        return Outcome("cannot read", reason)
    series = series_of(reference)
    rescale = reference.expect is Expect.MODALITY
    irregular = "resample" if reference.expect is Expect.TILT_RESAMPLED else "raise"
    loader = dicomio.load_4d if reference.four_d else dicomio.load_volume
    volume = loader(series, backend=backend, rescale=rescale, irregular=irregular)
    assert volume.provenance is not None and volume.provenance.backend == backend
    data, affine = load_reference(CORPUS / reference.reference)
    if not reference.four_d and data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]  # a 4-D NIfTI of one volume
    if reference.expect is Expect.TILT_RESAMPLED:
        return _tilt_resampled(volume, series, data, affine)
    ordered, distance = _in_contract_order(data, affine, volume)
    values = _compare_values(reference, volume.array, ordered)
    if reference.expect in (Expect.MEAN_STEP, Expect.LAST_ANCHOR):
        explained = _explained_distance(reference.expect, data, affine, volume)
        assert explained < GEOMETRY_MM, f"even the documented grid is {explained:.3g} mm off"
        return Outcome("documented", f"{values}; voxel centres {distance:.3g} mm apart, "
                                     f"{explained:.2g} mm from the documented grid")
    assert distance < GEOMETRY_MM, f"voxel centres {distance:.3g} mm apart"
    status = "exact" if reference.expect is Expect.EXACT else "documented"
    return Outcome(status, f"{values}; geometry {distance:.2g} mm")


def _explained_distance(expect: Expect, data: np.ndarray, affine: np.ndarray,
                        volume: Any) -> float:
    """Distance between the reference and dicomio's affine changed as ``expect`` says."""
    changed = volume.affine.copy()
    positions = np.asarray(volume.slice_positions)
    if expect is Expect.MEAN_STEP:
        changed[:3, 0] = (positions[-1] - positions[0]) / (len(positions) - 1)
    else:
        changed[:3, 3] = positions[-1] - (len(positions) - 1) * changed[:3, 0]
    return _in_contract_order(data, affine, volume, changed)[1]


def _in_contract_order(data: np.ndarray, affine: np.ndarray, volume: Any,
                       our_affine: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The reference in (volume,) slice, row, column order, and the geometry distance."""
    ours = volume.affine if our_affine is None else our_affine
    if isinstance(volume, dicomio.Volume4D):
        pairs = [reference_in_contract_order(data[..., t], affine, ours, volume.shape[1:])
                 for t in range(data.shape[3])]
        return np.stack([p[0] for p in pairs]), max(p[1] for p in pairs)
    return reference_in_contract_order(data, affine, ours, volume.shape)


def _compare_values(reference: Reference, ours: np.ndarray, theirs: np.ndarray) -> str:
    assert theirs.shape == ours.shape, f"shape {theirs.shape} != {ours.shape}"
    if reference.expect is not Expect.MODALITY:
        differing = int(np.count_nonzero(theirs != ours))
        assert differing == 0, f"{differing} voxels differ (up to " \
            f"{np.abs(theirs.astype(float) - ours).max():g})"
        return "voxel-exact"
    assert ours.dtype == np.float32, ours.dtype
    expected = theirs.astype(np.float32)
    tolerance = reference.ulps * np.spacing(np.maximum(np.abs(expected), np.abs(ours)))
    worst = np.abs(expected.astype(np.float64) - ours) - tolerance
    assert worst.max() <= 0, f"modality values differ by more than {reference.ulps} ulp"
    off = int(np.count_nonzero(expected != ours))
    return ("modality values equal" if off == 0 else
            f"modality values within {reference.ulps} float32 ulp ({off} voxels differ)")


def _tilt_resampled(volume: Any, series: dicomio.SeriesInfo, data: np.ndarray,
                    affine: np.ndarray) -> Outcome:
    assert series.geometry is not None and series.orientation is not None
    positions = series.geometry.positions
    step = (positions[-1] - positions[0]) / (len(positions) - 1)
    along = float(step @ slice_normal(series.orientation))
    angle = math.degrees(math.atan2(float(np.linalg.norm(step - along * slice_normal(
        series.orientation))), along))
    mapping = np.linalg.inv(volume.affine) @ affine
    rotation = mapping[:3, :3]
    permutation = np.argmax(np.abs(rotation), axis=1)
    assert sorted(permutation.tolist()) == [0, 1, 2], mapping
    scales = np.abs(rotation[np.arange(3), permutation])
    off_axis = np.abs(rotation).sum() - scales.sum()
    assert off_axis < 1e-4, f"axes not parallel: {mapping}"
    assert tuple(data.shape[p] for p in permutation) == volume.shape
    ratio = 1 / math.cos(math.radians(angle))
    np.testing.assert_allclose(scales, [ratio, 1, 1], atol=1e-4)
    return Outcome("documented", f"same shape {volume.shape} and axes; reference slice spacing "
                                 f"{volume.spacing[0] * scales[0]:.4f} mm = dicomio's "
                                 f"{volume.spacing[0]:.4f} mm / cos({angle:.2f}°); values on "
                                 f"other grids, not compared")


# dicom2nifti ground truths that are one 3-D stack of classic slices, checked by
# tests/contract/test_corpus.py.
# Not here, and why: generic/anatomical/002_non_isotropic and failing/sliceincrement/002 are
# resampled by dicom2nifti (not the stored voxels); 4-D, multi-frame and mosaic references are
# checked by the multi-frame/4-D agreement table.
DICOM2NIFTI_STACKS = [
    "anatomical/001",
    "failing/slicecount/001",
    "ge/anatomical/001",
    "ge/anatomical/001_single_slice",
    "generic/anatomical/001",
    "generic/compressed/001",
    "generic/compressed_jpeg/001",
    "generic/compressed_jpegls/001",
    "generic/compressed_rle/001",
    "generic/rgb/001",
    "hitachi/anatomical/001",
    "philips/anatomical/001",
    "siemens/anatomical/001",
]
