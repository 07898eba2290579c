"""dcm2niix, run as a program, as an external oracle on every generated geometry case.

The real binary (PyPI package ``dcm2niix``) converts each generated series, and each classic
stack of the corpus with a dicom2nifti ground truth; its NIfTI is read
with nibabel and put into the contract's order by the arithmetic written out in
:func:`nifti_in_contract_order` (not dicomio's :mod:`~dicomio.backends.nifti_layout`, nor its
geometry functions). Three answers must then agree: dcm2niix's grid and voxels, dicomio's
``Volume.affine`` and array, and the affine each spec states (:func:`stated_affine`, plain
arithmetic); on the corpus, dcm2niix's grid and dicomio's against the positions the files
hold, read with pydicom. Where dcm2niix answers differently — a tilted stack — the test asserts
the difference exactly, and says why.
"""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec, WrittenSeries, write_series
from tests.support.agreement import DICOM2NIFTI_STACKS, assert_geometry, spatial_shape
from tests.support.cases import OBLIQUE
from tests.support.contract import assert_affine_is, stated_affine
from tests.support.file_geometry import file_stack, grid_distance, unit_normal
from tests.support.reference import in_file_axes, load_reference

dcm2niix = pytest.importorskip("dcm2niix", reason="dcm2niix is not installed: pip install "
                                                  "'dicomio[dcm2niix]'")
nibabel = pytest.importorskip("nibabel", reason="nibabel is not installed: pip install "
                                                "'dicomio[dcm2niix]'")

#: dcm2niix's sform is float32: its voxel centres lie this close to the files' (measured:
#: up to 8.4e-6 mm on these cases).
SFORM_MM = 1e-4
#: Its defaults file ignored, no sidecar, no compression, no cropping, the stored integers
#: kept as they are, every image converted.
OPTIONS = ("-g", "i", "-b", "n", "-z", "n", "-x", "n", "-l", "o", "-i", "n", "-f", "oracle")

# Small series: 5 slices of 12 rows × 16 columns (rows ≠ columns, so a transposition shows).
BASE = SeriesSpec(shape=(5, 12, 16), pixel_spacing=(0.8, 0.8), slice_spacing=2.0,
                  rescale_intercept=0.0)
CASES = {
    "axial": (BASE, "uid"),
    "sagittal": (BASE.with_(orientation=s.SAGITTAL), "uid"),
    "coronal": (BASE.with_(orientation=s.CORONAL), "uid"),
    "oblique": (BASE.with_(orientation=OBLIQUE), "uid"),
    "reversed": (BASE.with_(slice_spacing=-2.0), "instance"),
    "oblique-reversed": (BASE.with_(orientation=OBLIQUE, slice_spacing=-1.5), "instance"),
    "non-square-pixels": (BASE.with_(pixel_spacing=(0.6, 1.3)), "uid"),
    "anisotropic": (BASE.with_(pixel_spacing=(0.5, 0.5), slice_spacing=5.0), "uid"),
}


def run_dcm2niix(folder: Path, output: Path) -> str:
    """Convert ``folder`` into ``output``; what dcm2niix printed."""
    output.mkdir()
    done = subprocess.run([dcm2niix.bin, *OPTIONS, "-o", str(output), str(folder)],
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def nifti_in_contract_order(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """dcm2niix's NIfTI in the contract's (slice, row, column) order, and its affine.

    dcm2niix writes ``i`` along the columns, ``j`` up the rows (NIfTI's bottom-up
    convention: its ``j = 0`` is the last row) and ``k`` along the slices, and an sform in RAS.
    So: negate the sform's first two rows (RAS → LPS); the slices are ``k``, the rows ``j``
    reversed (the origin moves to the last ``j``), the columns ``i``. Whether this layout is
    right is what the comparison with the spec's affine checks.
    """
    image = nibabel.load(str(path))
    data = np.asarray(image.dataobj.get_unscaled())  # stored values, without scl_slope/inter
    sform = np.diag([-1.0, -1.0, 1.0, 1.0]) @ image.get_sform()
    rows = data.shape[1]
    array = np.flip(np.transpose(data, (2, 1, 0)), axis=1)
    affine = np.eye(4)
    affine[:3, 0] = sform[:3, 2]
    affine[:3, 1] = -sform[:3, 1]
    affine[:3, 2] = sform[:3, 0]
    affine[:3, 3] = sform[:3, 3] + (rows - 1) * sform[:3, 1]
    return array, affine


@pytest.mark.parametrize("name", list(CASES))
def test_dcm2niix_dicomio_and_the_spec_agree(name: str, tmp_path: Path) -> None:
    spec, naming = CASES[name]
    truth = write_series(tmp_path / "in", spec, naming=naming)
    printed = run_dcm2niix(truth.folder, tmp_path / "out")
    (image,) = sorted((tmp_path / "out").glob("*.nii"))  # one image: dcm2niix did not split it
    theirs, their_affine = nifti_in_contract_order(image)
    volume = dicomio.load_volume(truth.folder, rescale=False)
    stated = stated_affine(spec)
    assert_affine_is(volume.affine, stated, what="dicomio")
    assert_affine_is(their_affine, stated, atol=SFORM_MM, what="dcm2niix")
    assert grid_distance(their_affine, volume.affine, volume.shape) < SFORM_MM
    np.testing.assert_array_equal(theirs, truth.stored)
    np.testing.assert_array_equal(volume.array, theirs)
    assert "Gantry Tilt" not in printed


# --- gantry tilt: where dcm2niix answers differently ----------------------------------------
# The writer shears the stack along the column cosine: instance k lies at origin + k × (2 mm ×
# normal + tan(tilt) × 2 mm × column cosine). dicomio returns the sheared grid
# (irregular="accept") or resamples it onto an orthogonal one (irregular="resample").
# dcm2niix (v1.0.20260724) estimates the tilt from the slice vector, with the opposite sign
# to the writer's (it prints "estimated from slice vector -15" for a writer's +15), and:
#
# 1. writes the unresampled image with an *orthogonal* sform (it removes the shear, dcm2niix
#    issue 697): its slice k lies k × tan(tilt) × 2 mm from the file's position, against the
#    column cosine; the voxels are the stored ones;
# 2. writes a resampled copy (``_Tilt_1``) on dicomio's resampled grid (same shape, voxel
#    centres within the sform's precision). Where its estimate is positive (a writer's
#    negative tilt) its values are dicomio's; where its estimate is negative, they are
#    displaced along the rows, against the column cosine, by ceil(drift) - drift rows, drift
#    being the stack's whole shear in rows: dcm2niix pads the image by ceil(drift) rows and
#    moves its sform's origin by that whole number of rows, while the content moves by drift
#    rows (nii_saveNII3Dtilt: the origin adjusted for a negative tilt by the padding).
#
# The series hold a linear function of the patient position, which linear interpolation
# reproduces: the displacement is measured in rows from dcm2niix's values.
TILTS = {"tilt+15": 15.0, "tilt-15": -15.0, "tilt+10": 10.0}
GRADIENT = (40.0, 3.0, 5.0)  # stored units per mm along the column cosine, row cosine, normal
TILT_SPEC = SeriesSpec(shape=(6, 24, 16), pixel_spacing=(0.8, 0.8), slice_spacing=2.0,
                       rescale_intercept=0.0, bits_stored=15)  # dcm2niix corrects 16-bit data
#: How closely the displacement measured from rounded integer values (and a linear
#: interpolation of them) matches the explanation, in rows (measured: within 0.02).
DISPLACEMENT_ROWS = 0.05


def tilted(spec: SeriesSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positions the test writes, the function's gradient, and the stored values."""
    row, column = np.asarray(spec.orientation[:3]), np.asarray(spec.orientation[3:])
    normal = unit_normal(spec.orientation)
    shear = math.tan(math.radians(spec.tilt_degrees)) * spec.slice_spacing
    positions = np.asarray(spec.origin) + np.outer(np.arange(spec.shape[0]),
                                                   spec.slice_spacing * normal + shear * column)
    gradient = GRADIENT[0] * column + GRADIENT[1] * row + GRADIENT[2] * normal
    j, i = np.indices(spec.shape[1:])
    centres = (positions[:, None, None, :] + j[..., None] * spec.pixel_spacing[0] * column
               + i[..., None] * spec.pixel_spacing[1] * row)
    stored = np.rint(20000.0 + (centres - positions[0]) @ gradient).astype(np.uint16)
    return positions, gradient, stored


def inside_written_rows(points: np.ndarray, positions: np.ndarray,
                        spec: SeriesSpec) -> np.ndarray:
    """Points whose nearest written slice holds them between its second and last-but-one row
    (where linear interpolation blends no padding in)."""
    normal, column = unit_normal(spec.orientation), np.asarray(spec.orientation[3:])
    depth = (points - positions[0]) @ normal
    nearest = np.abs(depth[..., None] - (positions - positions[0]) @ normal).argmin(axis=-1)
    row = (points - positions[nearest]) @ column / spec.pixel_spacing[0]
    return (row >= 1) & (row <= spec.shape[1] - 2)


@pytest.fixture(params=list(TILTS))
def tilted_series(request, tmp_path: Path) -> tuple[SeriesSpec, WrittenSeries, str]:
    spec = TILT_SPEC.with_(tilt_degrees=TILTS[request.param])
    positions, _, stored = tilted(spec)
    truth = write_series(tmp_path / "in", spec, stored=stored, positions=positions)
    return spec, truth, run_dcm2niix(truth.folder, tmp_path / "out")


def test_tilt_dcm2niix_removes_the_shear_from_its_grid(tilted_series, tmp_path: Path) -> None:
    spec, truth, printed = tilted_series
    assert f"estimated from slice vector {-spec.tilt_degrees:g}" in printed
    theirs, their_affine = nifti_in_contract_order(tmp_path / "out" / "oracle.nii")
    volume = dicomio.load_volume(truth.folder, rescale=False, irregular="accept")
    stated = stated_affine(spec)  # sheared: column 0 is the files' step
    assert_affine_is(volume.affine, stated, what="dicomio")
    np.testing.assert_array_equal(theirs, truth.stored)
    np.testing.assert_array_equal(volume.array, theirs)
    # dcm2niix's grid: the first slice's position, the step's projection on the normal.
    column = np.asarray(spec.orientation[3:])
    shear = math.tan(math.radians(spec.tilt_degrees)) * spec.slice_spacing
    for k in range(spec.shape[0]):
        ours = stated[:3, 3] + k * stated[:3, 0]
        np.testing.assert_allclose(their_affine[:3, 3] + k * their_affine[:3, 0],
                                   ours - k * shear * column, atol=SFORM_MM, rtol=0)
    np.testing.assert_allclose(their_affine[:3, 1:3], stated[:3, 1:3], atol=SFORM_MM, rtol=0)


def test_tilt_corrections_share_a_grid_and_differ_by_the_row_rounding(
        tilted_series, tmp_path: Path) -> None:
    spec, truth, _ = tilted_series
    positions, gradient, _ = tilted(spec)
    theirs, their_affine = nifti_in_contract_order(tmp_path / "out" / "oracle_Tilt_1.nii")
    volume = dicomio.load_volume(truth.folder, rescale=False, irregular="resample")
    assert theirs.shape == volume.shape
    assert grid_distance(their_affine, volume.affine, volume.shape) < SFORM_MM
    normal = unit_normal(spec.orientation)
    np.testing.assert_allclose(volume.affine[:3, 0], spec.slice_spacing * normal, atol=1e-5)
    index = np.stack(np.indices(volume.shape), axis=-1).astype(np.float64)
    points = index @ volume.affine[:3, :3].T + volume.affine[:3, 3]
    expected = 20000.0 + (points - positions[0]) @ gradient
    inside = inside_written_rows(points, positions, spec)
    assert inside.mean() > 0.6
    # dicomio: the function itself, within the rounding of the stored and returned integers.
    assert np.abs(volume.array[inside] - expected[inside]).max() <= 1
    # dcm2niix: the function displaced along the rows by what rounding the shear to whole
    # rows leaves, where its tilt estimate is negative; dicomio's values where it is positive.
    drift = (spec.shape[0] - 1) * abs(
        math.tan(math.radians(spec.tilt_degrees))) * spec.slice_spacing / spec.pixel_spacing[0]
    per_row = GRADIENT[0] * spec.pixel_spacing[0]
    displacement = float(np.mean(theirs[inside] - expected[inside])) / per_row
    if spec.tilt_degrees > 0:
        assert displacement == pytest.approx(-(math.ceil(drift) - drift), abs=DISPLACEMENT_ROWS)
        assert np.abs(theirs[inside].astype(float) - volume.array[inside]).max() > per_row / 10
    else:
        assert displacement == pytest.approx(0.0, abs=DISPLACEMENT_ROWS)
        np.testing.assert_array_equal(theirs[inside], volume.array[inside])


# --- the corpus: dcm2niix on the classic stacks dicom2nifti also converted ----------------------
#: On real stacks dcm2niix steps by its own estimate of the spacing, stored in a float32 sform:
#: its grid lies up to 1.22e-4 mm (generic/rgb/001) from the files' mean-step grid.
CORPUS_GRID_MM = 2e-4


@pytest.mark.corpus
@pytest.mark.parametrize("name", DICOM2NIFTI_STACKS)
def test_dcm2niix_and_dicomio_agree_on_real_stacks(name: str, corpus, tmp_path: Path) -> None:
    """dcm2niix is given exactly the series' files; its voxels are dicomio's, and both grids
    are where the files put their slices (read with pydicom, not from dicomio's affine)."""
    (series,) = dicomio.list_series(corpus(f"dicom2nifti/data/{name}"))
    source = tmp_path / "in"
    source.mkdir()
    for n, path in enumerate(series.files):
        os.symlink(Path(path).resolve(), source / f"{n:04d}.dcm")
    run_dcm2niix(source, tmp_path / "out")
    (image,) = sorted((tmp_path / "out").glob("*.nii"))
    files = file_stack(series.files)
    data, affine = load_reference(image)
    theirs, their_affine = in_file_axes(data, affine, files)
    volume = dicomio.load_volume(series, rescale=False)
    assert theirs.shape == volume.shape
    np.testing.assert_array_equal(volume.array, theirs)
    assert_geometry(volume.affine, their_affine, files, spatial_shape(volume),
                    reference_mm=CORPUS_GRID_MM)
