""":mod:`dicomio.io.diffusion`: b-values and b-vectors against the corpus' converter outputs.

Every ``.bval``/``.bvec`` of the corpus is a case. The b-vectors of a reference belong to the
converter's image: dicomio's are computed for that image's axes (dcm2niix's: its rows reversed,
built here from the file's ImageOrientationPatient with NumPy; dicom2nifti's: its NIfTI's own
affine). b-values must be equal (to the converter's six significant digits) and b-vectors within
1e-3 once both are unit length — except the b=0 volumes' vectors, which dicomio writes as 0
(docs/conversion.md: dcm2niix writes the stored vector of a b=0 volume, unrotated).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.errors import DicomIOError
from dicomio.io.diffusion import DiffusionTable, diffusion_table, fsl_bvecs, write_fsl
from tests.support.conversion_refs import (
    DWI_CASES,
    Case,
    dcm2niix_affine,
    dwi_references,
    input_folder,
    orientation_of,
)
from tests.support.corpus import CORPUS, corpus_path
from tests.support.dwi_series import unit, write_ge_series

#: Why a reference's b-vectors cannot be matched (strict xfails: they fail the day they match).
VECTORS_DIFFER = {
    "dicom2nifti/ge/dti/001": (
        "the files have no InPlanePhaseEncodingDirection (0018,1312), without which GE's "
        "image-relative gradient cannot be placed: dicomio writes it as stored, (1, 0, 0), as "
        "dcm2niix does (test_diffusion_dcm2niix checks that), and dicom2nifti writes (-1, 0, 0)"),
    "dicom2nifti/philips/dti/001": (
        "dicom2nifti writes Philips' patient-frame gradients as stored: not rotated into the "
        "image's axes, which are tilted by 1.5 degrees (the frames differ by 0.027), and without "
        "FSL's x flip for an image of positive determinant (dicomio's vectors are opposite, "
        "which is the same diffusion direction)"),
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("inputs")


_TABLES: dict[str, DiffusionTable] = {}


def ours_for(case: Case, scratch: Path) -> DiffusionTable:
    """dicomio's table for the reference converter's image (computed once per case)."""
    if case.absent:
        raise FileNotFoundError(case.absent)
    if case.name not in _TABLES:
        _TABLES[case.name] = _table(case, scratch)
    return _TABLES[case.name]


def _table(case: Case, scratch: Path) -> DiffusionTable:
    folder = input_folder(case, scratch)
    if case.converter == "dicom2nifti":
        affine = nib.load(case.reference_file(".nii.gz")).affine
    else:
        affine = dcm2niix_affine(orientation_of(folder))
    table = diffusion_table(folder, nifti_affine=affine)
    assert table is not None
    return table


def params(mark_vectors: bool) -> list:
    out = []
    for case in DWI_CASES:
        marks = []
        if case.absent:
            marks.append(pytest.mark.xfail(reason=case.absent, raises=FileNotFoundError,
                                           strict=True))
        elif mark_vectors and case.name in VECTORS_DIFFER:
            marks.append(pytest.mark.xfail(reason=VECTORS_DIFFER[case.name],
                                           raises=AssertionError, strict=True))
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


def test_every_corpus_bvec_is_a_case() -> None:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    cases = {corpus_path(c.reference + ".bvec") for c in DWI_CASES}
    assert set(dwi_references()) == cases


@pytest.mark.parametrize("case", params(mark_vectors=False))
def test_bvals_equal_the_reference(case: Case, scratch: Path) -> None:
    ours = ours_for(case, scratch)
    reference = np.loadtxt(case.reference_file(".bval"), ndmin=1)
    assert ours.bvals.shape == reference.shape
    assert [f"{v:g}" for v in ours.bvals] == [f"{v:g}" for v in reference]


@pytest.mark.parametrize("case", params(mark_vectors=True))
def test_bvecs_match_the_reference(case: Case, scratch: Path) -> None:
    ours = ours_for(case, scratch)
    reference = unit(np.loadtxt(case.reference_file(".bvec"), ndmin=2).T)
    assert ours.bvecs.shape == reference.shape
    weighted = ours.bvals > 0
    np.testing.assert_allclose(ours.bvecs[weighted], reference[weighted], atol=1e-3)
    assert not ours.bvecs[~weighted].any()


def test_the_table_follows_load_4d(scratch: Path) -> None:
    """The Philips classic series is ordered by InstanceNumber, which here is not the b-value
    order (b=0.001 is the fifth volume): the table's b-values are those of load_4d's volumes."""
    case = next(c for c in DWI_CASES if c.name == "dcm_qa_philips_dwi/cl")
    folder = input_folder(case, scratch)
    volumes = dicomio.load_4d(folder)
    table = diffusion_table(volumes)
    assert table is not None and len(table) == len(volumes) == 17
    first_files = [volumes.provenance.files[t * volumes.shape[1]] for t in range(len(volumes))]
    stored = [float(pydicom.dcmread(f, stop_before_pixels=True).DiffusionBValue)
              for f in first_files]
    np.testing.assert_allclose(table.bvals, stored)
    assert table.bvals[4] == pytest.approx(0.001)


def test_dicomio_image_vectors_are_dcm2niix_rotated_half_a_turn(scratch: Path) -> None:
    """dicomio's NIfTI keeps the rows as stored, dcm2niix's reverses them: in FSL's frame of
    dicomio's image (positive determinant, x flipped) each b-vector is dcm2niix's with x and y
    negated."""
    case = DWI_CASES[0]
    folder = input_folder(case, scratch)
    table = diffusion_table(folder)
    assert table is not None
    reference = unit(np.loadtxt(case.reference_file(".bvec")).T)
    np.testing.assert_allclose(table.bvecs, reference * (-1, -1, 1), atol=1e-3)
    image = dicomio.load_4d(folder)[0].to_nibabel()
    np.testing.assert_allclose(table.nifti_affine[:3, :3] / np.linalg.norm(
        table.nifti_affine[:3, :3], axis=0), image.affine[:3, :3] / np.linalg.norm(
        image.affine[:3, :3], axis=0), atol=1e-6)


def test_a_series_without_diffusion_has_no_table() -> None:
    assert diffusion_table(corpus_path("dcm_qa_nih/In/20180918GE/mr_0004")) is None


def test_fsl_frame_of_hand_made_images() -> None:
    """Axes given directly: a gradient along LPS x, y, z read in two images."""
    gradients = np.eye(3)
    # Voxel axes L, P, S (LPS): in RAS columns -x, -y, +z; determinant +1: x is negated.
    neurological = np.diag([-1.0, -1.0, 1.0, 1.0])
    np.testing.assert_allclose(fsl_bvecs(gradients, neurological), np.diag([-1.0, 1, 1]))
    # Voxel axes R, P, S: determinant -1 (radiological): plain components.
    radiological = np.diag([1.0, -1.0, 1.0, 1.0])
    np.testing.assert_allclose(fsl_bvecs(gradients, radiological), np.diag([-1.0, 1, 1]))
    # An image whose first axis is patient S (a sagittal-like permutation), spacing 2 mm.
    permuted = np.zeros((4, 4))
    permuted[:3, :3] = [[0, 0, -2], [0, -2, 0], [2, 0, 0]]
    permuted[3, 3] = 1
    got = fsl_bvecs(gradients, permuted)
    axes_lps = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=float)  # columns i, j, k
    expected = gradients @ axes_lps
    if np.linalg.det(axes_lps) > 0:
        expected[:, 0] *= -1
    np.testing.assert_allclose(got, expected)
    assert not fsl_bvecs(np.zeros((1, 3)), neurological).any()


def test_write_fsl_writes_three_rows_and_no_negative_zero(tmp_path: Path) -> None:
    bval, bvec = write_fsl([0, 1000, 0.001], [[0, -0.0, 0], [0.5, -0.25, 1 / 3], [1, 0, 0]],
                           tmp_path / "dwi.nii.gz")
    assert (bval.name, bvec.name) == ("dwi.bval", "dwi.bvec")
    assert bval.read_text() == "0 1000 0.001\n"
    assert bvec.read_text() == "0 0.5 1\n0 -0.25 0\n0 0.333333 0\n"
    with pytest.raises(ValueError, match="shape"):
        write_fsl([0, 1], [[0, 0, 0]], tmp_path / "bad")
    with pytest.raises(ValueError, match="finite"):
        write_fsl([np.nan], [[0, 0, 0]], tmp_path / "bad")


@pytest.mark.parametrize(("directions", "expected"), [(0, (1000.0, True)), (6, (0.0, False))])
def test_ge_weighted_volume_without_direction(tmp_path: Path, directions: int,
                                              expected: tuple[float, bool]) -> None:
    """GE's b > 0 with a zero gradient is a trace image when (0019,10E0), the number of
    diffusion directions, is 0 (its b-value kept, marked isotropic, a warning), else a b=0
    image (dcm2niix's reading)."""
    folder = tmp_path / "dicom"
    write_ge_series(folder, "axial", "COL", [(0.0, (0, 0, 0)), (1000.0, (1, 0, 0)),
                                             (1000.0, (0, 0, 0))])
    for path in folder.iterdir():
        dataset = pydicom.dcmread(path)
        dataset.add_new(0x001910E0, "DS", str(directions))
        dataset.save_as(path)
    table = diffusion_table(folder)
    assert table is not None
    assert (table.bvals[2], bool(table.isotropic[2])) == expected
    assert not table.bvecs[2].any()
    assert any("trace" in w for w in table.warnings) == expected[1]


def test_a_volume_whose_files_lay_out_otherwise_is_refused(scratch: Path) -> None:
    volumes = dicomio.load_4d(corpus_path("dicom2nifti/data/philips/dti/001"))
    assert volumes.provenance is not None
    shuffled = dataclasses.replace(volumes.provenance,
                                   files=tuple(reversed(volumes.provenance.files)))
    moved = dataclasses.replace(volumes, provenance=shuffled)
    with pytest.raises(DicomIOError, match="lay out as"):
        diffusion_table(moved)
