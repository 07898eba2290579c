"""The dcm2niix backend: the reference converter's volume under the contract, its own geometry
reported, and every way dcm2niix reads a series differently said, never returned silently.

Expected geometries are written out by plain arithmetic from each generated series' spec
(:func:`tests.support.contract.stated_affine`), never with dicomio's geometry functions.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.backends.base import ReadOptions
from dicomio.backends.registry import auto_order, get_spec, register, select
from dicomio.cli import app
from dicomio.compare.report import implied_slice_order, reported_displacement
from dicomio.dicom.transfer_syntax import HTJ2K as HTJ2K_LOSSY
from dicomio.dicom.transfer_syntax import HTJ2K_LOSSLESS_RPCL as HTJ2K_RPCL
from dicomio.extras import pip_install
from dicomio.testing import synthetic as s
from dicomio.testing.multiframe import write_4d
from dicomio.testing.synthetic import SeriesSpec
from tests.support.agreement import REFERENCES, Expect, cannot_read, check, series_of
from tests.support.contract import stated_affine
from tests.support.corpus import CORPUS
from tests.support.dicom_files import rewrite
from tests.support.file_geometry import file_stack

pytest.importorskip("dcm2niix", reason="dcm2niix is not installed: pip install "
                                       "'dicomio[dcm2niix]'")
pytest.importorskip("nibabel", reason="nibabel is not installed: pip install "
                                      "'dicomio[dcm2niix]'")
DCM2NIIX = get_spec("dcm2niix")
runner = CliRunner()

OBLIQUE = (0.866025, 0.5, 0.0, -0.353553, 0.612372, 0.707107)
BASE = SeriesSpec(shape=(6, 12, 14))
CASES = {
    "axial": (BASE, "uid"),
    "sagittal": (BASE.with_(orientation=s.SAGITTAL), "uid"),
    "coronal": (BASE.with_(orientation=s.CORONAL), "uid"),
    "oblique": (BASE.with_(orientation=OBLIQUE), "uid"),
    "reversed": (BASE.with_(slice_spacing=-3.0), "instance"),
    "oblique-reversed": (BASE.with_(orientation=OBLIQUE, slice_spacing=-1.5), "instance"),
    "non-square-pixels": (BASE.with_(shape=(5, 9, 31), pixel_spacing=(0.4, 1.7)), "uid"),
    "prone": (BASE.with_(orientation=(-1.0, 0.0, 0.0, 0.0, -1.0, 0.0)), "uid"),
}


def test_stated_affine_is_the_written_axial_truth() -> None:
    """The helper, on the default axial spec, against numbers written out by hand."""
    expected = [[0.0, 0.0, 0.9, -80.0], [0.0, 0.7, 0.0, -60.0], [2.5, 0.0, 0.0, 40.0],
                [0.0, 0.0, 0.0, 1.0]]
    np.testing.assert_array_equal(stated_affine(BASE), expected)
    sagittal = stated_affine(BASE.with_(orientation=s.SAGITTAL, slice_spacing=-2.0))
    # normal = (0, 1, 0) × (0, 0, -1) = (-1, 0, 0); instance 5 lies 5 × 2 mm along +x.
    np.testing.assert_array_equal(sagittal[:3, 0], [-2.0, 0.0, 0.0])
    np.testing.assert_array_equal(sagittal[:3, 3], [-70.0, -60.0, 40.0])


@pytest.mark.parametrize("name", list(CASES))
def test_voxels_equal_direct_and_geometry_is_the_spec(name: str, make_series) -> None:
    spec, naming = CASES[name]
    truth = make_series(spec, naming=naming)
    expected = stated_affine(spec)
    for rescale in (False, True):
        ours = dicomio.load_volume(truth.folder, backend="dcm2niix", rescale=rescale)
        direct = dicomio.load_volume(truth.folder, backend="direct", rescale=rescale)
        assert ours.dtype == direct.dtype
        np.testing.assert_array_equal(ours.array, direct.array)
    reported = ours.provenance.reported_geometry
    np.testing.assert_allclose(reported.affine(), expected, atol=1e-3, rtol=0)
    slices = np.arange(spec.shape[0])[:, None] * expected[:3, 0] + expected[:3, 3]
    np.testing.assert_allclose(reported.slice_origins(spec.shape[0]), slices, atol=1e-3)
    assert reported_displacement(reported, expected, ours.shape) < 1e-3
    assert implied_slice_order(reported, expected, spec.shape[0]) == "same"
    assert ours.provenance.backend == "dcm2niix"


def test_provenance_names_the_version_and_the_time(make_series) -> None:
    truth = make_series(BASE)
    volume = dicomio.load_volume(truth.folder, backend="dcm2niix")
    (decoder,) = volume.provenance.decoders
    assert re.fullmatch(r"dcm2niix v1\.0\.\d{8}\S*", decoder), decoder  # the binary's own
    converted = next(w for w in volume.provenance.warnings if "converted" in w)
    assert converted.startswith(f"{decoder} converted 6 file(s) in ")
    assert float(converted.split(" in ")[1].removesuffix(" s")) > 0


def test_the_rescale_option_is_honoured_even_when_dcm2niix_writes_floats(make_series) -> None:
    """Different slopes per slice: dcm2niix writes float32 modality values; the stored ones
    are recovered, and rescale=True gives the contract's values and dtype."""
    spec = BASE.with_(rescale_slope=[1, 2, 1, 0.5, 1, 3], rescale_intercept=[0, -5, 3, 1, 0, -1])
    truth = make_series(spec)
    raw = dicomio.load_volume(truth.folder, backend="dcm2niix", rescale=False)
    np.testing.assert_array_equal(raw.array, truth.stored)
    values = dicomio.load_volume(truth.folder, backend="dcm2niix")
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values.array, truth.modality_values().astype(np.float32))


def test_auto_never_picks_it(make_series, restore_registry) -> None:
    """Not even when every other backend refuses the series."""
    import dataclasses

    assert "dcm2niix" not in auto_order()
    (series,) = dicomio.list_series(make_series(BASE).folder)
    for name in auto_order():
        register(dataclasses.replace(get_spec(name), unable=lambda _: "refused in this test"))
    with pytest.raises(dicomio.BackendCannotReadError) as raised:
        select(series, "auto")
    assert "dcm2niix" not in str(raised.value)
    assert select(series, "dcm2niix")[0] is DCM2NIIX


def test_not_installed_names_the_extra(make_series, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "dcm2niix" else real(name, *a))
    truth = make_series(BASE)
    with pytest.raises(dicomio.BackendUnavailableError,
                       match=re.escape(pip_install("dcm2niix"))):
        dicomio.load_volume(truth.folder, backend="dcm2niix")


def test_a_series_dcm2niix_splits_is_a_clear_error(make_series) -> None:
    """dcm2niix does not stack images whose StudyTime differs; dicomio reads them as one
    series (its key is SeriesInstanceUID and position)."""
    truth = make_series(BASE)
    rewrite(truth.files[:3], StudyTime="080000")
    rewrite(truth.files[3:], StudyTime="090000")
    with pytest.raises(dicomio.BackendCannotReadError) as raised:
        dicomio.load_volume(truth.folder, backend="dcm2niix")
    message = str(raised.value)
    assert "splits series" in message and "into 2 images" in message
    assert "Study Date/Time" in message  # dcm2niix's own reason, quoted
    assert raised.value.path in truth.files
    np.testing.assert_array_equal(dicomio.load_volume(truth.folder, rescale=False).array,
                                  truth.stored)


def test_4d_volumes_are_matched_by_instance_number_and_the_difference_said(tmp_path) -> None:
    """dcm2niix orders the images of a position by InstanceNumber; here TemporalPosition
    Identifier orders the volumes and InstanceNumbers run backwards."""
    truth = write_4d(tmp_path, SeriesSpec(shape=(4, 9, 11)), volumes=3, key="temporal")
    ours = dicomio.load_4d(tmp_path, backend="dcm2niix", rescale=False)
    np.testing.assert_array_equal(ours.array, truth.stored)
    (note,) = [w for w in ours.provenance.warnings if "InstanceNumber" in w]
    assert "dcm2niix's volumes [2, 1, 0]" in note


@pytest.mark.parametrize("syntax", [HTJ2K_RPCL, HTJ2K_LOSSY])
def test_htj2k_rpcl_is_declared_and_lossy_htj2k_decodes(syntax: str, make_series) -> None:
    """dicomio cannot write these syntaxes: an HTJ2K code stream relabelled stands in."""
    imagecodecs = pytest.importorskip("imagecodecs")
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID

    truth = make_series(SeriesSpec(shape=(3, 12, 14), transfer_syntax=s.HTJ2K_LOSSLESS))
    for path in truth.files:
        dataset = pydicom.dcmread(path)
        stored = dataset.pixel_array
        level = 0 if syntax == HTJ2K_RPCL else 30
        dataset.PixelData = encapsulate([bytes(imagecodecs.htj2k_encode(stored, level=level))])
        dataset.file_meta.TransferSyntaxUID = UID(syntax)
        dataset.save_as(path)
    (series,) = dicomio.list_series(truth.folder)
    if syntax == HTJ2K_RPCL:
        assert "cannot decode" in (DCM2NIIX.cannot_read(series) or "")
        return
    ours = dicomio.load_volume(series, backend="dcm2niix", rescale=False)
    reference = dicomio.load_volume(series, backend="pydicom", rescale=False)
    np.testing.assert_array_equal(ours.array, reference.array)


def test_declared_limits_are_refusals(make_series) -> None:
    truth = make_series(BASE.with_(transfer_syntax=s.DEFLATED))
    (series,) = dicomio.list_series(truth.folder)
    assert "Deflated" in (DCM2NIIX.cannot_read(series) or "")
    with pytest.raises(dicomio.BackendCannotReadError):
        dicomio.load_volume(series, backend="dcm2niix")
    extended = make_series(BASE.with_(transfer_syntax=s.JPEG_EXTENDED))
    (series,) = dicomio.list_series(extended.folder)
    assert "JPEG Extended with more than 8 bits" in (DCM2NIIX.cannot_read(series) or "")


def test_compare_puts_dcm2niix_beside_dicomio(make_series) -> None:
    truth = make_series(CASES["oblique-reversed"][0], naming="instance")
    result = runner.invoke(app, ["compare", str(truth.folder), "-b", "direct,dcm2niix",
                                 "--reference", "direct", "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["backend"]: r for r in json.loads(result.stdout)["results"]}
    row = rows["dcm2niix"]
    assert row["status"] == "ok" and row["agrees"] is True and row["max_abs_diff"] == 0
    assert row["decoders"][0].startswith("dcm2niix v")
    geometry = row["reported_geometry"]
    assert geometry["max_displacement_mm"] < 1e-3 and geometry["slice_order"] == "same"
    text = runner.invoke(app, ["compare", str(truth.folder), "-b", "direct,dcm2niix"])
    assert text.exit_code == 0 and "dcm2niix" in text.stdout


# --- real data -------------------------------------------------------------------------------

needs_corpus = pytest.mark.skipif(not CORPUS.exists(),
                                  reason=f"corpus not found at {CORPUS} (set DICOMIO_CORPUS)")


@needs_corpus
@pytest.mark.corpus
@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: r.name)
def test_corpus_references_agree(reference) -> None:
    """dcm2niix through the backend agrees with each 3-D and 4-D reference, as the agreement
    table says every backend must; what it cannot read is a skip saying why."""
    reason = cannot_read(reference, "dcm2niix")
    if reason is not None:
        pytest.skip(f"dcm2niix cannot read it: {reason}")
    outcome = check(reference, "dcm2niix")
    assert outcome.status == ("exact" if reference.expect is Expect.EXACT else "documented")


# dcm2niix's own grid on the 3-D references it reads (slices, not mosaic tiles), against the
# grid it is documented to use, built from the files' positions read with pydicom (not from
# dicomio's affine): "first" starts at the first slice's position and steps by the median gap
# along the normal (dicomio's rule); "last" passes through the last slice instead (dcm_qa_xa30:
# the positions are rounded, the first-slice grid is 1.04e-4 mm away); "thickness" steps by
# SliceThickness × normal (0.9 mm, where the rounded gaps run 0.89984 to 0.90004: 1.5e-4 mm
# from the first-slice grid). Its sform is float32: about 1e-5 mm of noise.
OWN_GRID = {
    "dcm_qa_xa30/T1w": "last",
    "dicom2nifti/siemens_multiframe/anatomical/001": "thickness",
    "dicom2nifti/philips_enhanced/anatomical/001": "first",
    "dicom2nifti/hyperfine/anatomical/001": "first",
    "dicom2nifti/generic/anatomical/002_non_isotropic": "first",
}


@needs_corpus
@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(OWN_GRID))
def test_dcm2niix_own_geometry_on_real_stacks(name: str) -> None:
    (reference,) = [r for r in REFERENCES if r.name == name]
    series = series_of(reference)
    volume = dicomio.load_volume(series, backend="dcm2niix", rescale=False)
    reported = volume.provenance.reported_geometry
    files = file_stack(series.files)
    n = len(files.positions)
    assert n == volume.shape[0]
    gap = float(np.median(np.diff(files.positions @ files.normal)))
    first = files.affine(gap * files.normal)
    grid = first.copy()
    if OWN_GRID[name] == "thickness":
        grid[:3, 0] = series.frames[0].slice_thickness * files.normal
    elif OWN_GRID[name] == "last":
        grid[:3, 3] = files.positions[-1] - (n - 1) * grid[:3, 0]
    assert reported_displacement(reported, grid, volume.shape) < 1e-4
    if OWN_GRID[name] != "first":  # the documented grid is the one that explains it
        assert reported_displacement(reported, first, volume.shape) > 1e-4
    assert implied_slice_order(reported, first, n) == "same"
    # The reference's origin is the first file's own position (not dicomio's affine).
    np.testing.assert_allclose(reported.origin, files.first, atol=2e-3)


@needs_corpus
@pytest.mark.corpus
def test_ge_epi_pepolar_each_polarity_is_read_as_direct_reads_it() -> None:
    """Mode 2 (rev-fwd): dicomio makes each polarity a stack, so dcm2niix is given one
    polarity at a time (it writes the reversed one as series number + 1000, rows flipped back)
    and reads each as direct does; its geometry, turned round with the rows, agrees."""
    found = dicomio.list_series(CORPUS / "dcm_qa_polar/In/6_FM_cv12_2_3mm")
    assert sorted(stack.polarity or "" for stack in found) == ["forward", "reversed"]
    for stack in found:
        ours = dicomio.load_4d(stack, backend="dcm2niix", rescale=False)
        direct = dicomio.load_4d(stack, backend="direct", rescale=False)
        np.testing.assert_array_equal(ours.array, direct.array)
        flipped = any("flipped the rows" in w for w in ours.provenance.warnings)
        assert flipped is (stack.polarity == "reversed")
        reported = ours.provenance.reported_geometry
        assert reported is not None
        assert reported_displacement(reported, ours.affine, ours.shape[1:4]) < 1e-4


@needs_corpus
@pytest.mark.corpus
def test_ge_epi_pepolar_rows_dcm2niix_flips_are_returned_as_stored() -> None:
    """Mode 1 (all reversed): dcm2niix flips every image's rows and keeps the affine; the
    backend returns the rows as stored, as every backend does (the read stage flips them back
    for all alike), says so, and reports dcm2niix's claim for the stored rows, which puts row
    j where the files put row 127 - j."""
    folder = CORPUS / "dcm_qa_polar/In/7_FM_cv12_1_3mm"
    ours = dicomio.load_4d(folder, backend="dcm2niix", rescale=False)
    direct = dicomio.load_4d(folder, backend="direct", rescale=False)
    np.testing.assert_array_equal(ours.array, direct.array)
    assert any("epi_pepolar" in w and "flipped the rows" in w for w in ours.provenance.warnings)
    first = ours[0]
    assert first.shape[1] == 128
    row_spacing = float(np.linalg.norm(first.affine[:3, 1]))
    # load_4d keeps no toolkit geometry: ask the reader itself.
    (series,) = dicomio.list_series(folder)
    reported = DCM2NIIX.reader().read(series, ReadOptions(rescale=False)).reported_geometry
    assert reported is not None
    # The first volume's slices: the farthest voxel centres are the first and last rows.
    moved = reported_displacement(reported, first.affine, first.shape)
    assert moved == pytest.approx(127 * row_spacing, rel=1e-4)
    assert math.isclose(np.asarray(reported.direction)[:, 1] @ first.direction[:, 1], -1,
                        abs_tol=1e-5)
