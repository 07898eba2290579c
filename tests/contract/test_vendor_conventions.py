"""Vendor conventions on real data, against dcm2niix (docs/vendors.md): GE ``epi_pepolar``
(dcm_qa_polar), images of different kinds under one series (Philips B0 map of dcm_qa_enh; a
GE B0 map and a Philips trace image made from real files), Philips floating-point values.

The references are dcm2niix's outputs in the corpus (``Ref/``), or the dcm2niix program run
here where the corpus holds none; each is put into the contract's axes by the files' own
cosines (:func:`tests.support.reference.in_file_axes`), never by dicomio's affine. Which images
are reversed, or of which kind, is read from the files with pydicom, by the rules the vendors
and dcm2niix state, not taken from dicomio.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import get_spec
from dicomio.compare.side_by_side import compare_series
from dicomio.errors import MixedImagesWarning
from dicomio.validate import validate
from tests.support.agreement import assert_geometry, spatial_shape
from tests.support.corpus import CORPUS
from tests.support.file_geometry import file_stack
from tests.support.reference import in_file_axes, load_reference

pytestmark = pytest.mark.corpus
POLAR = CORPUS / "dcm_qa_polar"
ROWS, ROW_SPACING = 128, 1.6875  # the polar series' images: 128 rows 1.6875 mm apart


def needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"corpus not found at {path} (set DICOMIO_CORPUS)")
    return path


def dcm2niix_program() -> str:
    spec = get_spec("dcm2niix")
    if not spec.installed():
        pytest.skip(f"dcm2niix is not installed: {spec.install_hint()}")
    import dcm2niix

    return str(dcm2niix.bin)


def convert(folder: Path, out: Path) -> dict[str, Path]:
    """Run dcm2niix on ``folder`` (default options, file name ``%s_%d``): its NIfTIs by name."""
    out.mkdir()
    subprocess.run([dcm2niix_program(), "-f", "%s_%d", "-z", "n", "-o", str(out), str(folder)],
                   check=True, capture_output=True)
    return {path.name: path for path in sorted(out.glob("*.nii"))}


def agree(volume: dicomio.Volume4D | dicomio.Volume, reference: Path) -> None:
    """Voxel for voxel, and dicomio's grid, the reference's and the files' within 1e-4 mm."""
    data, affine = load_reference(reference)
    files = file_stack(volume.provenance.files if volume.provenance else ())
    theirs, their_affine = in_file_axes(data, affine, files)
    if isinstance(volume, dicomio.Volume4D):
        theirs = np.moveaxis(theirs, 3, 0) if theirs.ndim == 4 else theirs[None]
    np.testing.assert_array_equal(volume.array, theirs)
    assert_geometry(volume.affine, their_affine, files, spatial_shape(volume))


# --- GE epi_pepolar -----------------------------------------------------------------------------

@pytest.mark.parametrize(("folder", "name", "polarity"), [
    ("7_FM_cv12_1_3mm", "7_FM_cv12_1_3mm.nii", "reversed"),
    ("9_FM_cv12_0_3mm", "9_FM_cv12_0_3mm.nii", "forward")])
def test_ge_epi_pepolar_single_polarity_modes_agree_with_the_dcm2niix_program(
        tmp_path, folder: str, name: str, polarity: str) -> None:
    """Modes 1 (every volume reversed) and 0 (none): the corpus keeps only the sidecars of
    dcm2niix's images. One stack of 4 volumes, as the dcm2niix program writes it (no + 1000:
    one polarity), every row where it puts it. (Modes 2 and 3, against the corpus' images:
    tests/contract/test_agreement.py.)"""
    source = needs(POLAR / "In" / folder)
    written = convert(source, tmp_path / "out")
    assert list(written) == [name]
    (stack,) = dicomio.list_series(source)
    assert stack.polarity == polarity
    volume = dicomio.load_4d(stack, rescale=False)
    agree(volume, written[name])
    stored = pydicom.dcmread(stack.files[0]).pixel_array
    np.testing.assert_array_equal(volume.array[0, 0],
                                  stored[::-1] if polarity == "reversed" else stored)


def test_compare_shows_the_toolkits_that_put_reversed_rows_upside_down(tmp_path) -> None:
    """One reversed volume (the first of series 6): every backend reads the same voxels, but
    pydicom, SimpleITK and VTK place them by the header, 127 rows × 1.6875 mm = 214.3 mm away
    at the first and last rows; dcm2niix places them where dicomio does."""
    source = needs(POLAR / "In" / "6_FM_cv12_2_3mm")
    for path in sorted(source.iterdir()):
        if pydicom.dcmread(path, stop_before_pixels=True).TemporalPositionIdentifier == 1:
            shutil.copy(path, tmp_path)
    (series,) = dicomio.list_series(tmp_path)
    assert series.polarity == "reversed" and series.n_slices == 60
    installed = [name for name in ("direct", "pydicom", "sitk", "vtk", "dcm2niix")
                 if get_spec(name).installed()]
    comparison = compare_series(series, installed)
    rows = {row.backend: row for row in comparison.results}
    assert all(row.status == "ok" and row.disagreement is None for row in rows.values())
    for toolkit in {"pydicom", "sitk"} & set(rows):
        assert rows[toolkit].reported_agrees is False
        assert rows[toolkit].reported_diff_mm == pytest.approx((ROWS - 1) * ROW_SPACING)
    if "vtk" in rows:  # no direction: its grid is off by the rows, and by its axes
        assert rows["vtk"].reported_agrees is False and rows["vtk"].reported_diff_mm > 100
    if "dcm2niix" in rows:
        assert rows["dcm2niix"].reported_agrees is True
    conventions = comparison.to_dict()["series"]["conventions"]
    assert len(conventions) == 1 and "rows back" in conventions[0]


def test_validate_reports_the_polarity_of_every_stack() -> None:
    report = validate(needs(POLAR / "In"))
    assert report.passed and not [f for f in report.all_findings if f.severity != "info"]
    pepolar = {entry.series.key: f.message for entry in report.series
               for f in entry.findings if f.code == "GE_EPI_PEPOLAR"}
    assert len(pepolar) == len(report.series) == 6  # two stacks in modes 2 and 3, one in 0, 1
    assert sum("reversed phase-encoding polarity images" in m for m in pepolar.values()) == 3


# --- kinds of image -----------------------------------------------------------------------------

PHILIPS = CORPUS / "dcm_qa_enh"


def test_a_philips_b0_map_is_a_magnitude_and_a_field_map_in_hz_as_dcm2niix_names_them() -> None:
    """dcm2niix writes the magnitude frames as ``_e1`` and the field map as
    ``_e2_fieldmaphz``: two stacks named so, each voxel for voxel its reference."""
    found = dicomio.list_series(needs(PHILIPS / "In" / "Philips"))
    assert [s.image_kind for s in found] == ["magnitude", "fieldmap_hz"]
    for stack, name in zip(found, ("e1", "e2_fieldmaphz"), strict=True):
        agree(dicomio.load_volume(stack, rescale=False),
              PHILIPS / "Ref" / f"Philips_WIP_B0_NS_801_{name}.nii")
        assert "IMAGE_KINDS_SPLIT" in {note.code for note in stack.notes}


def philips_scaling(frame_type: str) -> tuple[float, float, float]:
    """RS, RI and SS of the frames of ``frame_type`` (``M``, ``FIELD_MAP``) of the Philips
    file, read with pydicom (every frame of one type has the same)."""
    dataset = pydicom.dcmread(PHILIPS / "In/Philips/IM_0027_fMAP.dcm", stop_before_pixels=True)
    for item in dataset.PerFrameFunctionalGroupsSequence:
        if item.MRImageFrameTypeSequence[0].FrameType[3] == frame_type:
            values = item.PixelValueTransformationSequence[0]
            return (float(values.RescaleSlope), float(values.RescaleIntercept),
                    float(item[0x2005, 0x140F][0][0x2005, 0x100E].value))
    raise AssertionError(f"no {frame_type} frame")


@pytest.mark.parametrize(("kind", "frame_type", "name"), [
    ("magnitude", "M", "e1"), ("fieldmap_hz", "FIELD_MAP", "e2_fieldmaphz")])
def test_philips_precise_values_are_those_dcm2niix_writes(kind: str, frame_type: str,
                                                          name: str) -> None:
    """dcm2niix writes Philips' floating-point values (RS x stored + RI) / (RS x SS) by
    default, as scl_slope and scl_inter in float32, the slope the difference of two float32
    values: scaling='philips_precise' gives the same within that rounding (measured: 11.6 on
    values up to 2.4e8 for the magnitude, 0.0059 Hz for the field map, whose scl_slope
    0.24420166 is 1.4e-6 from 1 / SS)."""
    (stack,) = [s for s in dicomio.list_series(needs(PHILIPS / "In" / "Philips"))
                if s.image_kind == kind]
    import nibabel as nib

    data, affine = load_reference(PHILIPS / "Ref" / f"Philips_WIP_B0_NS_801_{name}.nii")
    proxy = nib.load(str(PHILIPS / "Ref" / f"Philips_WIP_B0_NS_801_{name}.nii")).dataobj
    raw = in_file_axes(data, affine, file_stack(stack.files))[0].astype(np.float64)
    theirs = raw * float(proxy.slope) + float(proxy.inter)
    rs, ri, ss = philips_scaling(frame_type)
    precise = dicomio.load_volume(stack, scaling="philips_precise").array
    exact = (rs * raw + ri) / (rs * ss)
    np.testing.assert_allclose(precise, exact, rtol=float(np.finfo(np.float32).eps))
    their_error = np.abs(raw) * abs(float(proxy.slope) - 1 / ss) + \
        abs(float(proxy.inter) - ri / (rs * ss))
    rounding = 2 * np.spacing(np.abs(theirs).astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(precise - theirs) <= their_error + rounding)


def test_philips_scaling_is_reported_where_the_values_differ() -> None:
    """RS x SS = 1.0813e-05 for the magnitude frames: its modality values are that times the
    floating-point ones, and PHILIPS_SCALING says so; the field map's RS x SS is 1 (0.2442 x
    4.095): the same values, and no finding."""
    magnitude, field_map = dicomio.list_series(needs(PHILIPS / "In" / "Philips"))
    rs, _, ss = philips_scaling("M")
    modality = dicomio.load_volume(magnitude).array.astype(np.float64)
    precise = dicomio.load_volume(magnitude, scaling="philips_precise").array
    nonzero = modality != 0
    np.testing.assert_allclose(modality[nonzero] / precise[nonzero], rs * ss, rtol=1e-6)
    assert rs * ss == pytest.approx(1.0813e-05, rel=1e-4)
    codes = [{note.code for note in stack.notes} for stack in (magnitude, field_map)]
    assert "PHILIPS_SCALING" in codes[0] and "PHILIPS_SCALING" not in codes[1]


GE_FMRI = CORPUS / "dcm_qa_nih/In/20180918GE/mr_0004"


def ge_b0_map(folder: Path, types: tuple[int, int]) -> None:
    """Two volumes of a real GE series made a B0 map: PulseSequenceName ``3db0map``, the GE
    private image type of the first volume ``types[0]``, of the second ``types[1]``."""
    folder.mkdir()
    for path in sorted(needs(GE_FMRI).iterdir()):
        try:
            dataset = pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            continue  # the folder's README
        volume = (int(dataset.InstanceNumber) - 1) // 15
        if volume > 1:
            continue
        dataset[0x0019, 0x109C].value = "3db0map"
        dataset[0x0043, 0x102F].value = types[volume]
        dataset.save_as(folder / path.name)


def test_a_ge_b0_map_is_a_field_map_in_hz_and_a_magnitude_image(tmp_path) -> None:
    """The GE private image type (0043,102F) 2 ("real": a B0 map's field map in Hz) and 0
    (magnitude): two stacks, each voxel for voxel the image dcm2niix writes of it (it names
    the field map ``_real`` here: the remaining B0 map attributes it checks are not in these
    files)."""
    ge_b0_map(tmp_path / "in", (2, 0))
    written = convert(tmp_path / "in", tmp_path / "out")
    found = dicomio.list_series(tmp_path / "in")
    assert [s.image_kind for s in found] == ["fieldmap_hz", "magnitude"]
    names = sorted(written)
    assert len(names) == 2 and names[1].endswith("_real.nii")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedImagesWarning)
        agree(dicomio.load_volume(found[0], rescale=False), written[names[1]])
        agree(dicomio.load_volume(found[1], rescale=False), written[names[0]])


def test_a_ge_b0_map_nothing_tells_apart_is_one_4d_series_said_loudly(tmp_path) -> None:
    """Both volumes of the same GE private type: dcm2niix writes one 4-D image of both;
    dicomio loads the same, with a MixedImagesWarning and IMAGE_KINDS_UNTOLD."""
    ge_b0_map(tmp_path / "in", (0, 0))
    written = convert(tmp_path / "in", tmp_path / "out")
    (series,) = dicomio.list_series(tmp_path / "in")
    with pytest.warns(MixedImagesWarning, match="GE B0 map"):
        volume = dicomio.load_4d(series, rescale=False)
    (name,) = written
    agree(volume, written[name])
    report = validate(tmp_path / "in")
    assert {f.code: f.severity for f in report.all_findings}["IMAGE_KINDS_UNTOLD"] == "warning"


def test_a_philips_trace_image_is_a_stack_of_its_own_as_dcm2niix_drops_it(tmp_path) -> None:
    """A real Philips DTI series (b0 and three directions) whose last volume is said to be
    derived (DiffusionDirectionality ISOTROPIC): dcm2niix writes it apart (``_ADC``) and keeps
    three volumes (its ``_ADC`` file keeps all four); dicomio makes it a ``trace`` stack beside
    a 3-volume one."""
    source = needs(CORPUS / "dicom2nifti/data/philips/dti/001")
    (tmp_path / "in").mkdir()
    for path in sorted(source.iterdir()):
        dataset = pydicom.dcmread(path)
        number = int(dataset.InstanceNumber)
        dataset.DiffusionDirectionality = ("ISOTROPIC" if number in (36, 102) else
                                           "NONE" if number in (33, 99) else "DIRECTIONAL")
        dataset.save_as(tmp_path / "in" / path.name)
    written = convert(tmp_path / "in", tmp_path / "out")
    weighted, trace = dicomio.list_series(tmp_path / "in")
    assert (weighted.image_kind, trace.image_kind) == ("magnitude", "trace")
    (derived,) = [name for name in written if name.endswith("_ADC.nii")]
    (main,) = [name for name in written if name != derived]
    agree(dicomio.load_4d(weighted, rescale=False), written[main])
    # dcm2niix's _ADC file holds the whole series, the derived volume last.
    whole = dicomio.load_4d(trace, rescale=False)
    data, affine = load_reference(written[derived])
    theirs, _ = in_file_axes(data, affine, file_stack(trace.files))
    assert theirs.shape[3] == 4
    np.testing.assert_array_equal(whole.array[0], theirs[..., 3])
