"""Real data: reference outputs of other converters, and the same pixels in several syntaxes.

Each reference is compared voxel by voxel (stored values) and by geometry (voxel centres within
1e-4 mm, after RAS → LPS), through every installed backend able to read the series; the
reference is put in the contract's axes by the files' own cosines, and its origin and slice
step, like dicomio's, are checked against the positions read with pydicom
(:func:`tests.support.agreement.assert_geometry`). The corpus
lives outside the repository (DICOMIO_CORPUS, default ../shared/corpus); without it these tests
skip with that reason.
"""

from __future__ import annotations

import numpy as np
import pytest

import dicomio
from dicomio.backends.registry import backend_specs, get_spec
from dicomio.compare.report import implied_slice_order, reported_displacement
from dicomio.pixels.assembly import read_plan
from tests.support.agreement import DICOM2NIFTI_STACKS, assert_geometry, spatial_shape
from tests.support.contract import assert_slices_match_files
from tests.support.file_geometry import file_stack
from tests.support.reference import in_file_axes, load_reference

pytestmark = pytest.mark.corpus
INSTALLED = [spec.name for spec in backend_specs() if spec.installed()]


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("name", DICOM2NIFTI_STACKS)
def test_dicom2nifti_ground_truth(corpus, name: str, backend: str) -> None:
    folder = corpus(f"dicom2nifti/data/{name}")
    (series,) = dicomio.list_series(folder)
    if get_spec(backend).cannot_read(series):
        pytest.skip(f"{backend}: {get_spec(backend).cannot_read(series)}")
    volume = dicomio.load_volume(series, backend=backend, rescale=False)
    files = file_stack(series.files)  # positions read with pydicom, not dicomio's affine
    data, affine = load_reference(corpus(f"dicom2nifti/data/{name}_ground_truth.nii.gz"))
    expected, their_affine = in_file_axes(data, affine, files)
    assert_geometry(volume.affine, their_affine, files, spatial_shape(volume))
    assert expected.shape == volume.shape
    differing = int(np.count_nonzero(volume.array != expected))
    assert differing == 0, f"{differing} voxels differ"


@pytest.mark.parametrize("name", DICOM2NIFTI_STACKS)
def test_corpus_slices_are_the_files_at_the_affine_positions(corpus, name: str) -> None:
    volume = dicomio.load_volume(corpus(f"dicom2nifti/data/{name}"))
    assert_slices_match_files(volume)


SAME_PIXELS = {
    "emri_small (10 frames)": ["pydicom_data/data/emri_small.dcm",
                               "pydicom_data/data/emri_small_big_endian.dcm",
                               "pydicom_data/data/emri_small_RLE.dcm",
                               "pydicom_data/data/emri_small_jpeg_2k_lossless.dcm",
                               "pydicom_data/data/emri_small_jpeg_ls_lossless.dcm"],
    "MR_small": ["pydicom_testfiles/test_files/MR_small.dcm",
                 "pydicom_testfiles/test_files/MR_small_bigendian.dcm",
                 "pydicom_testfiles/test_files/MR_small_implicit.dcm",
                 "pydicom_testfiles/test_files/MR_small_RLE.dcm",
                 "pydicom_testfiles/test_files/MR_small_jp2klossless.dcm",
                 "pydicom_testfiles/test_files/MR_small_jpeg_ls_lossless.dcm",
                 "pydicom_testfiles/test_files/MR_small_expb.dcm"],
    "693": ["pydicom_data/data/693_UNCR.dcm", "pydicom_data/data/693_J2KR.dcm"],
    "US1 (RGB)": ["pydicom_data/data/US1_UNCR.dcm",
                  "pylibjpeg_data/ds/JPEG2000Lossless/US1_J2KR.dcm"],
    "dcm_qa_ts mosaic, 9 syntaxes": [f"dcm_qa_ts/In/{i}.dcm" for i in range(1, 10)],
    "dicom2nifti generic series": ["dicom2nifti/data/generic/compressed/001",
                                   "dicom2nifti/data/generic/compressed_jpeg/001",
                                   "dicom2nifti/data/generic/compressed_jpegls/001",
                                   "dicom2nifti/data/generic/compressed_rle/001"],
}


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("name", list(SAME_PIXELS))
def test_same_pixels_in_every_syntax_decode_identically(corpus, name: str, backend: str) -> None:
    arrays = {}
    for relative in SAME_PIXELS[name]:
        path = corpus(relative)
        (series,) = dicomio.list_series(path)
        if get_spec(backend).cannot_read(series):
            continue
        volume = dicomio.load_volume(series, backend=backend, irregular="accept", rescale=False)
        arrays[relative] = volume.array
    if len(arrays) < 2:
        pytest.skip(f"{backend} reads fewer than two of the syntaxes")
    first, *others = arrays
    for other in others:
        assert arrays[other].dtype == arrays[first].dtype, other
        np.testing.assert_array_equal(arrays[other], arrays[first], err_msg=other)


def test_twelve_bit_high_bits_are_masked_and_sign_extended(corpus) -> None:
    """dcm_qa_12bit: stripes of 0x0F0F and 0xFFFF in 16-bit words holding 12-bit values."""
    unsigned = dicomio.load_volume(corpus("dcm_qa_12bit/In/12bitUnsigned_0x0F0F.dcm"),
                                   rescale=False)
    assert unsigned.dtype == np.uint16 and unsigned.array.max() == 4095
    assert {3855, 4095} <= set(np.unique(unsigned.array).tolist())
    signed = dicomio.load_volume(corpus("dcm_qa_12bit/In/12bitSigned_0x0F0F.dcm"),
                                 rescale=False)
    assert signed.dtype == np.int16
    assert signed.array.min() >= -2048 and signed.array.max() <= 2047
    assert {-241, -1} <= set(np.unique(signed.array).tolist())
    clean = dicomio.load_volume(corpus("dcm_qa_12bit/In/12bitUnsigned.dcm"), rescale=False)
    assert clean.array.max() <= 4095


# Lossy files decoded by GDCM (SimpleITK) and by pydicom's plugins differ by at most this much.
# Measured on the corpus: 1 level on RGB JPEG baseline (SC_rgb_jpeg, SC_jpeg_no_color_transform*),
# 3 on YBR_FULL JPEG extended (JPEGExtended_3s_1f_u_08_08): the libjpeg builds' IDCT and GDCM's
# integer YCbCr→RGB against pydicom's. JPEG-LS near-lossless and JPEG 2000 decode identically.
TOOLKIT_LOSSY_TOLERANCE = {"1.2.840.10008.1.2.4.50": 2, "1.2.840.10008.1.2.4.51": 3}
TOOLKITS = [name for name in ("sitk", "vtk") if name in INSTALLED]


@pytest.fixture(scope="module")
def corpus_series() -> list[dicomio.SeriesInfo]:
    from tests.support.corpus import corpus_path

    return dicomio.list_series(corpus_path("."))


@pytest.fixture(scope="module")
def pydicom_volumes() -> dict[tuple[str, bool], dicomio.Volume | None]:
    """pydicom's reading of each corpus series, shared by the toolkit comparisons."""
    return {}


def pydicom_volume(cache, series: dicomio.SeriesInfo, rescale: bool) -> dicomio.Volume | None:
    key = (f"{series.frames[0].path}#{series.key}", rescale)
    if key not in cache:
        try:
            cache[key] = dicomio.load_volume(series, backend="pydicom", rescale=rescale,
                                             irregular="accept")
        except dicomio.DicomIOError:  # not a volume (4-D...) or pydicom cannot decode it
            cache[key] = None
    return cache[key]


@pytest.mark.parametrize("backend", TOOLKITS)
def test_toolkit_backends_decode_every_corpus_series_like_pydicom(corpus_series, pydicom_volumes,
                                                                  backend: str) -> None:
    """Every series of the corpus a toolkit backend says it reads: same dtype and values as
    pydicom (rescaled and stored), exactly unless lossy; it never fails on one it accepted."""
    problems, compared = [], 0
    for series in corpus_series:
        if get_spec(backend).cannot_read(series):
            continue
        name = series.frames[0].path
        for rescale in (True, False):
            reference = pydicom_volume(pydicom_volumes, series, rescale)
            if reference is None:
                break  # nothing to compare with
            try:
                volume = dicomio.load_volume(series, backend=backend, rescale=rescale,
                                             irregular="accept")
            except dicomio.DicomIOError as exc:
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
                break
            tolerance = max(TOOLKIT_LOSSY_TOLERANCE.get(uid, 0)
                            for uid in series.transfer_syntaxes)
            difference = np.abs(volume.array.astype(np.float64) - reference.array).max()
            if volume.dtype != reference.dtype or difference > tolerance:
                problems.append(f"{name} (rescale={rescale}): {volume.dtype} vs "
                                f"{reference.dtype}, values differ by {difference}")
            np.testing.assert_array_equal(volume.affine, reference.affine)
            # A toolkit's own geometry describes the images it read: a volume's geometry only
            # when those images are its slices (not for mosaic tiles or reordered 4-D frames).
            assert volume.provenance is not None
            if read_plan(series).identity:
                assert volume.provenance.reported_geometry is not None
            else:
                assert volume.provenance.reported_geometry is None
        else:
            compared += 1
    assert not problems, "\n".join(problems)
    assert compared >= 40, f"only {compared} corpus series compared"


# --- dcm2niix, the reference converter, on every corpus series it says it reads ----------------
# Where it differs from pydicom (and from direct and SimpleITK, which agree with pydicom on each
# of these), measured with dcm2niix v1.0.20260724; each is asserted as it is, so that one that
# goes away, or a new one, fails.
#: Files every other backend decodes and dcm2niix refuses, with what it says.
DCM2NIIX_CANNOT_DECODE = {
    "pylibjpeg_data/ds/JPEGLS/CT1_JLSN.dcm":  # JPEG-LS near-lossless in two fragments
        "Compressed image with 0 frames stored as 2 fragments",
    "nibabel_nicom/data/slicethickness_empty_string.dcm":  # JPEG 2000
        "OpenJPEG failed to read the header",
}
#: Two Siemens mosaics dicomio stacks as one series of slices; dcm2niix writes two volumes.
DCM2NIIX_TWO_VOLUMES = {
    "nibabel_nicom/data/0.dcm": "wrote 2 volume(s) from 2 mosaic(s) whose first tiles lie at 2 "
                                "position(s)",
}
#: A damaged lossless JPEG: dcm2niix's own decoder agrees with the others up to the damage,
#: the 738th pixel in raster order (row 1, column 225), then decodes the rest differently.
DCM2NIIX_DAMAGED = ("pylibjpeg_data/ds/JPEGLossless/JPEGLossless_1s_1f_i_16_16_bad.dcm", 737)
#: NIfTI stores its sform in float32: dcm2niix's voxel centres lie this close to the files'.
DCM2NIIX_SFORM_MM = 5e-3
#: An RT dose grid: dcm2niix ignores GridFrameOffsetVector (frames 5 mm apart) and steps by
#: 1 mm, so its 15th frame is 14 × (5 - 1) = 56 mm from where the file puts it.
DCM2NIIX_RT_DOSE = ("pydicom_testfiles/test_files/rtdose.dcm", 1.0, 14 * (5.0 - 1.0))
#: The geometry issues dicomio finds where dcm2niix lays a regular grid over the slices.
IRREGULAR = {"MISSING_SLICE", "IRREGULAR_SPACING", "GANTRY_TILT"}


def test_dcm2niix_reads_every_corpus_series_like_pydicom_but_the_known_exceptions(
        corpus, corpus_series, pydicom_volumes) -> None:
    """Every series dcm2niix says it reads and pydicom reads as one volume: the same values
    and dtype (rescaled and stored, exactly), and dcm2niix's own voxel centres, from its NIfTI,
    where the files put them by dicomio's affine; or the exception listed above, exactly."""
    spec = get_spec("dcm2niix")
    if not spec.installed():
        pytest.skip(f"dcm2niix is not installed: {spec.install_hint()}")
    root = corpus(".")
    seen: dict[str, str] = {}
    problems, compared, irregular = [], 0, 0
    for series in corpus_series:
        if spec.cannot_read(series):
            continue
        name = series.frames[0].path.relative_to(root).as_posix()
        for rescale in (True, False):
            reference = pydicom_volume(pydicom_volumes, series, rescale)
            if reference is None:
                break  # not one volume (4-D...): nothing to compare with
            try:
                volume = dicomio.load_volume(series, backend="dcm2niix", rescale=rescale,
                                             irregular="accept")
            except dicomio.BackendReadError as exc:
                expected = {**DCM2NIIX_CANNOT_DECODE, **DCM2NIIX_TWO_VOLUMES}.get(name)
                if expected is None or expected not in str(exc):
                    problems.append(f"{name}: {exc}")
                seen[name] = "refused"
                break
            assert volume.dtype == reference.dtype, name
            differing = np.flatnonzero(volume.array.ravel() != reference.array.ravel())
            if name == DCM2NIIX_DAMAGED[0]:
                assert differing.size and differing[0] == DCM2NIIX_DAMAGED[1], differing[:1]
                seen[name] = "damaged"
            elif differing.size:
                problems.append(f"{name} (rescale={rescale}): {differing.size} voxels differ")
            reported = volume.provenance.reported_geometry if volume.provenance else None
            if reported is None:  # mosaic tiles: dcm2niix's grid is that of the tiles
                assert not read_plan(series).identity, name
                continue
            distance = reported_displacement(reported, volume.affine, volume.shape[:3])
            issues = ({i.code for i in series.geometry.errors} if series.geometry else set())
            warned = any("slice grid lies up to" in w for w in volume.provenance.warnings)
            if name == DCM2NIIX_RT_DOSE[0]:
                assert reported.spacing[0] == pytest.approx(DCM2NIIX_RT_DOSE[1], abs=1e-6)
                assert distance == pytest.approx(DCM2NIIX_RT_DOSE[2], abs=DCM2NIIX_SFORM_MM)
                assert warned
                seen[name] = "rt dose"
            elif issues & IRREGULAR:
                # Its regular grid over irregular slices: said, and found by dicomio too.
                assert warned and distance > DCM2NIIX_SFORM_MM, (name, distance)
                irregular += 1
            elif distance > DCM2NIIX_SFORM_MM or warned:
                problems.append(f"{name}: dcm2niix places voxels {distance:.3g} mm from "
                                f"dicomio's affine")
            else:
                assert implied_slice_order(reported, volume.affine,
                                           volume.shape[0]) in ("same", None), name
        else:
            compared += 1
    assert not problems, "\n".join(problems)
    assert seen == {**dict.fromkeys([*DCM2NIIX_CANNOT_DECODE, *DCM2NIIX_TWO_VOLUMES], "refused"),
                    DCM2NIIX_DAMAGED[0]: "damaged", DCM2NIIX_RT_DOSE[0]: "rt dose"}
    assert irregular == 5 * 2  # five irregular stacks, rescaled and stored
    assert compared >= 60, f"only {compared} corpus series compared"
