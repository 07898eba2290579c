""":mod:`dicomio.io.diffusion` against the dcm2niix program, on series made for the purpose.

The corpus has one GE DWI series, without the phase-encoding direction GE's gradients need, and
no Siemens classic or mosaic DWI: real GE and Siemens series are copied here with gradients of
our choosing written into them (GE's private (0043,1039)/(0019,10BB-10BD), Siemens' standard
(0018,9087)/(0018,9089)), in every slice orientation and phase-encoding direction, and dcm2niix
(the PyPI package's binary) converts each. dicomio's b-vectors are computed for dcm2niix's image
— the affine of the NIfTI it wrote, read with nibabel — and must equal its ``.bvec``.
"""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from dicomio.io.diffusion import DiffusionTable, diffusion_table
from tests.support.corpus import corpus_path
from tests.support.dwi_series import ORIENTATIONS, unit, write_ge_series, write_siemens_mosaics

dcm2niix = pytest.importorskip("dcm2niix", reason="dcm2niix is not installed: pip install "
                                                   "'dicomio[dcm2niix]'")

#: One b=0 volume, then a gradient along each stored axis and one in no axis's direction.
GRADIENTS = [(0.0, (0, 0, 0)), (1000.0, (1, 0, 0)), (1000.0, (0, 1, 0)), (1000.0, (0, 0, 1)),
             (1000.0, (0.3, 0.5, -0.8))]


def convert(folder: Path, out: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dcm2niix's b-values, b-vectors (volumes × 3) and NIfTI affine for ``folder``."""
    out.mkdir()
    done = subprocess.run([str(dcm2niix.bin), "-b", "n", "-z", "n", "-f", "out", "-o", str(out),
                           str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    bvals = np.loadtxt(out / "out.bval", ndmin=1)
    bvecs = np.loadtxt(out / "out.bvec", ndmin=2).T
    return bvals, bvecs, nib.load(out / "out.nii").affine


def ours(folder: Path, affine: np.ndarray) -> DiffusionTable:
    table = diffusion_table(folder, nifti_affine=affine)
    assert table is not None
    return table


@pytest.mark.parametrize(("orientation", "phase"),
                         list(itertools.product(ORIENTATIONS, ("COL", "ROW"))))
def test_ge_gradients_as_dcm2niix_places_them(tmp_path, orientation, phase) -> None:
    folder = tmp_path / "dicom"
    write_ge_series(folder, orientation, phase, GRADIENTS)
    bvals, bvecs, affine = convert(folder, tmp_path / "nifti")
    table = ours(folder, affine)
    np.testing.assert_array_equal(table.bvals, bvals)
    np.testing.assert_allclose(table.bvecs, unit(bvecs), atol=1e-5)


@pytest.mark.parametrize("orientation", ["axial", "sagittal"])
def test_ge_gradients_of_slices_stored_against_the_normal(tmp_path, orientation) -> None:
    folder = tmp_path / "dicom"
    write_ge_series(folder, orientation, "COL", GRADIENTS, reversed_slices=True)
    _, bvecs, affine = convert(folder, tmp_path / "nifti")
    np.testing.assert_allclose(ours(folder, affine).bvecs, unit(bvecs), atol=1e-5)


def test_ge_flagged_and_scaled_b_values(tmp_path) -> None:
    """GE's b-value may carry a flag of 10^9; a gradient shorter than 1 scales the b-value
    (rounded to a multiple of 5)."""
    gradients = [(0.0, (0, 0, 0)), (1000.0, (0.5, 0, 0)), (1000.0, (0, 0.7, 0.1)),
                 (1000.0, (0, 0, 1))]
    folder = tmp_path / "dicom"
    write_ge_series(folder, "axial", "COL", gradients, flag=True)
    bvals, bvecs, affine = convert(folder, tmp_path / "nifti")
    table = ours(folder, affine)
    np.testing.assert_array_equal(table.bvals, bvals)
    assert list(bvals) == [0, 250, 500, 1000]
    np.testing.assert_allclose(table.bvecs, unit(bvecs), atol=1e-5)


def test_ge_gradients_without_phase_encoding_are_written_as_stored(tmp_path) -> None:
    """dicom2nifti's GE series lacks (0018,1312): dcm2niix writes the stored components, and
    so does dicomio, saying why."""
    folder = corpus_path("dicom2nifti/data/ge/dti/001")
    bvals, bvecs, affine = convert(folder, tmp_path / "nifti")
    table = ours(folder, affine)
    np.testing.assert_array_equal(table.bvals, bvals)
    np.testing.assert_allclose(table.bvecs, unit(bvecs), atol=1e-6)
    assert np.isnan(table.directions[1]).all()
    assert any("0018,1312" in warning for warning in table.warnings)


@pytest.mark.parametrize("source", ["dcm_qa/In/Orientation/ax/axasc35",
                                    "dcm_qa/In/Orientation/sag/sagasc35",
                                    "dcm_qa_mosaic/In/ep2d_Int_HF_5"])
def test_siemens_mosaic_gradients(tmp_path, source) -> None:
    """The sagittal mosaics' CSA slice normal is opposite to row × column: dcm2niix keeps the
    tiles' order, its image then has a positive determinant, and it writes each b-vector with
    y and z negated where FSL's rule negates x — the opposite vector, the same diffusion
    direction (docs/conversion.md). Equal up to that sign."""
    folder = tmp_path / "dicom"
    gradients = [(0.0, (0, 0, 0)), (1000.0, (0.3, 0.5, -0.8)), (1000.0, (1, 0, 0)),
                 (1000.0, (0, 0.6, 0.8)), (1000.0, (0, 0, 1)), (1000.0, (0.6, -0.8, 0))]
    count = sum(1 for p in corpus_path(source).iterdir() if p.is_file())
    write_siemens_mosaics(corpus_path(source), folder, gradients[:count])
    bvals, bvecs, affine = convert(folder, tmp_path / "nifti")
    table = ours(folder, affine)
    np.testing.assert_array_equal(table.bvals, bvals)
    theirs = unit(bvecs)
    if np.linalg.det(affine[:3, :3]) > 0:
        theirs = -theirs
    np.testing.assert_allclose(table.bvecs, theirs, atol=1e-5)
