"""Vendor conventions (dicomio.series.vendor) on written series whose truth is known: the
private values read, the rules applied, the stacks they make, the values they give.

The real-data checks, against dcm2niix, are in tests/contract/test_vendor_conventions.py.
Expected values come from the writer's truth and plain NumPy, never from dicomio's geometry.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

import dicomio
from dicomio.backends.base import ReportedGeometry
from dicomio.dicom.frame import Frame
from dicomio.dicom.header import read_header
from dicomio.dicom.transfer_syntax import lookup
from dicomio.dicom.types import FileHeader
from dicomio.errors import MissingGeometryError, MixedImagesWarning, RepeatedPositionsError
from dicomio.pixels.assembly import read_plan
from dicomio.series.vendor import image_kind, pepolar_polarity
from dicomio.testing import synthetic as s
from dicomio.testing.multiframe import write_4d
from dicomio.testing.synthetic import SeriesSpec
from dicomio.validate import validate
from tests.support.dicom_files import rewrite

GE = "GE MEDICAL SYSTEMS"
PEPOLAR = "research/ABCD/epi_pepolar"


def ge_private(dataset: Dataset, *, sequence: str = PEPOLAR, mode: str | None = "2",
               image_type: int | None = None, internal: str = "EPI") -> None:
    """Give a dataset GE's private acquisition and parameter blocks, as GE writes them."""
    dataset.Manufacturer = GE
    dataset.add_new((0x0019, 0x0010), "LO", "GEMS_ACQU_01")
    dataset.add_new((0x0019, 0x109C), "LO", sequence)
    dataset.add_new((0x0019, 0x109E), "LO", internal)
    if mode is not None:
        dataset.add_new((0x0019, 0x10B3), "DS", mode)
    if image_type is not None:
        dataset.add_new((0x0043, 0x0010), "LO", "GEMS_PARM_01")
        dataset.add_new((0x0043, 0x102F), "SS", image_type)


def philips_private(dataset: Dataset, scale_slope: float) -> None:
    dataset.Manufacturer = "Philips Medical Systems"
    dataset.add_new((0x2005, 0x0010), "LO", "Philips MR Imaging DD 001")
    dataset.add_new((0x2005, 0x100E), "FL", scale_slope)


# --- the header walk ----------------------------------------------------------------------------

@pytest.mark.parametrize("syntax", [s.EXPLICIT_LE, s.IMPLICIT_LE, s.EXPLICIT_BE])
def test_the_header_walk_keeps_the_private_values_the_conventions_read(make_series,
                                                                       syntax: str) -> None:
    """SS and FL values are binary (byte order and all), DS and LO text, in every syntax."""
    truth = make_series(SeriesSpec(shape=(1, 4, 5), transfer_syntax=syntax))

    def change(dataset: Dataset) -> None:
        ge_private(dataset, mode="3.000000", image_type=-2)
        dataset.add_new((0x2005, 0x0010), "LO", "Philips MR Imaging DD 001")
        dataset.add_new((0x2005, 0x100E), "FL", 8.448640073766e-06)
        dataset.add_new((0x2001, 0x0010), "LO", "Philips Imaging DD 001")
        dataset.add_new((0x2001, 0x1004), "CS", "I")
        dataset.DiffusionDirectionality = "ISOTROPIC"
        dataset.add_new((0x0065, 0x0010), "LO", "Image Private Header")
        dataset.add_new((0x0065, 0x1050), "DS", "20")

    rewrite(truth.files, change)
    header = read_header(truth.files[0])
    assert header.ge_pulse_sequence == PEPOLAR and header.ge_internal_sequence == "EPI"
    assert header.ge_user_data_12 == 3.0 and header.ge_image_type == -2
    assert header.philips_scale_slope == pytest.approx(8.448640073766e-06, rel=1e-7)
    assert header.philips_diffusion_direction == "I"
    assert header.diffusion_directionality == "ISOTROPIC" and header.uih_grid_slices == 20


# --- GE epi_pepolar -----------------------------------------------------------------------------

def pepolar_header(mode: float | None, volume: int | None, *, manufacturer: str = GE,
                   sequence: str = PEPOLAR) -> FileHeader:
    return FileHeader(Path("image.dcm"), lookup(s.EXPLICIT_LE), manufacturer=manufacturer,
                      ge_pulse_sequence=sequence, ge_user_data_12=mode,
                      temporal_position=volume)


@pytest.mark.parametrize(("mode", "volume", "reversed_rows"), [
    (0, 1, False), (0, 2, False), (1, 1, True), (1, 2, True), (1, None, True),
    (2, 1, True), (2, 2, False), (2, 3, True), (2, 4, False),
    (3, 1, False), (3, 2, True), (3, 3, False), (3, 4, True),
    (2, None, None), (3, 0, None), (4, 1, None), (None, 1, None)])
def test_the_polarity_follows_the_mode_and_the_volume(mode: float | None, volume: int | None,
                                                      reversed_rows: bool | None) -> None:
    """dcm_qa_polar's README: 0 forward, 1 reversed, 2 odd volumes reversed, 3 even ones;
    what cannot be told is None."""
    polarity = pepolar_polarity(pepolar_header(mode, volume))
    assert polarity is not None and polarity.reversed is reversed_rows


def test_only_ge_epi_pepolar_has_a_polarity() -> None:
    assert pepolar_polarity(pepolar_header(2, 1, manufacturer="SIEMENS")) is None
    assert pepolar_polarity(pepolar_header(2, 1, sequence="research/ABCD/muxepi")) is None


def write_pepolar(folder: Path, mode: str | None, *, volume_numbers: bool = True
                  ) -> s.WrittenSeries:
    truth = write_4d(folder, SeriesSpec(shape=(3, 6, 5), modality="MR"), volumes=2,
                     key="temporal")
    rewrite(truth.files, lambda d: ge_private(d, mode=mode, image_type=0))
    if not volume_numbers:
        rewrite(truth.files, TemporalPositionIdentifier=None)
    return truth


def test_a_mode_2_series_is_two_stacks_and_the_reversed_rows_come_back(tmp_path) -> None:
    """Volume 1 (odd) is reversed: its stack returns the stored rows upside down, back where
    the header puts them; volume 2 as stored; both with the writer's affine."""
    truth = write_pepolar(tmp_path, "2")
    stacks = {x.polarity: x for x in dicomio.list_series(tmp_path)}
    reversed_stack, forward = stacks["reversed"], stacks["forward"]
    assert all(f.rows_reversed for f in reversed_stack.frames)
    assert not any(f.rows_reversed for f in forward.frames)
    first = dicomio.load_volume(reversed_stack, rescale=False)
    np.testing.assert_array_equal(first.array, truth.stored[0][:, ::-1, :])
    np.testing.assert_allclose(first.affine, truth.affine, atol=1e-9)
    second = dicomio.load_volume(forward, rescale=False)
    np.testing.assert_array_equal(second.array, truth.stored[1])
    assert any("flips their rows back" in c for c in first.provenance.conventions)
    assert dicomio.load_volume(tmp_path, series=f"{truth.series_uid}#reversed",
                               rescale=False).array.tobytes() == first.array.tobytes()
    codes = {f.code: f for entry in validate(tmp_path).series for f in entry.findings}
    assert codes["GE_EPI_PEPOLAR"].severity == "info"


def test_a_toolkit_geometry_turns_round_with_the_rows(tmp_path) -> None:
    """pydicom reports the header's geometry for the stored rows; the rows flipped back, its
    claim is that row 0 lies where the header puts the last row: 5 row spacings (0.7 mm)
    along the column cosine (0, 1, 0), the column axis turned round."""
    write_pepolar(tmp_path, "1")
    path = sorted(tmp_path.iterdir())[0]
    position = np.asarray(pydicom.dcmread(path).ImagePositionPatient, dtype=float)
    volume = dicomio.load_volume(path, backend="pydicom", rescale=False)
    reported = volume.provenance.reported_geometry
    assert reported is not None
    np.testing.assert_allclose(reported.origin, position + np.array([0.0, 5 * 0.7, 0.0]),
                               atol=1e-9)
    np.testing.assert_allclose(np.asarray(reported.direction)[:, 1], [0.0, -1.0, 0.0])
    np.testing.assert_allclose(volume.affine[:3, 3], position, atol=1e-9)  # the header's


def test_reported_geometry_with_rows_reversed() -> None:
    geometry = ReportedGeometry((10.0, 20.0, 30.0), (2.0, 0.5, 0.25),
                                ((0, 0, 1), (0, 1, 0), (1, 0, 0)),
                                positions=((10.0, 20.0, 30.0), (10.0, 20.0, 32.0)))
    turned = geometry.with_rows_reversed(9)
    assert turned.origin == (10.0, 24.0, 30.0)  # 8 rows of 0.5 mm along +y
    assert turned.direction == ((0, 0, 1), (0, -1, 0), (1, 0, 0))
    assert turned.positions == ((10.0, 24.0, 30.0), (10.0, 24.0, 32.0))
    assert turned.with_rows_reversed(9) == geometry


def test_only_the_slices_marked_reversed_are_flipped(tmp_path) -> None:
    write_pepolar(tmp_path, "2")
    (first,) = [x for x in dicomio.list_series(tmp_path) if x.polarity == "reversed"]
    plan = read_plan(first)
    assert plan.identity and all(plan.reversed_rows)
    stored = np.arange(3 * 2 * 3).reshape(3, 2, 3)
    np.testing.assert_array_equal(plan.assemble(stored.copy()), stored[:, ::-1])


@pytest.mark.parametrize(("mode", "numbers", "why"), [
    ("2", False, "no TemporalPositionIdentifier"), ("7", True, "not one of its modes")])
def test_a_polarity_that_cannot_be_told_is_refused(tmp_path, mode: str, numbers: bool,
                                                   why: str) -> None:
    write_pepolar(tmp_path, mode, volume_numbers=numbers)
    with pytest.raises(MissingGeometryError, match=f"epi_pepolar.*{why}"):
        dicomio.load_4d(tmp_path)
    codes = {f.code: f for entry in validate(tmp_path).series for f in entry.findings}
    assert codes["FRAMES_AS_STORED"].severity == "error" and why in \
        codes["FRAMES_AS_STORED"].message


# --- kinds of image -----------------------------------------------------------------------------

def kind_of(**values: object) -> str | None:
    header = FileHeader(Path("image.dcm"), lookup(s.EXPLICIT_LE), **values)  # type: ignore[arg-type]
    return image_kind(Frame.single(header))[0]


@pytest.mark.parametrize(("values", "kind"), [
    ({"manufacturer": GE, "ge_image_type": 0}, "magnitude"),
    ({"manufacturer": GE, "ge_image_type": 1}, "phase"),
    ({"manufacturer": GE, "ge_image_type": 3}, "imaginary"),
    ({"manufacturer": GE, "ge_image_type": 2}, "real"),
    ({"manufacturer": GE, "ge_image_type": 2, "ge_pulse_sequence": "3db0map"}, "fieldmap_hz"),
    ({"manufacturer": GE, "ge_image_type": 2, "ge_internal_sequence": "B0map"}, "fieldmap_hz"),
    ({"manufacturer": GE, "ge_image_type": 0, "ge_pulse_sequence": "B0map"}, "magnitude"),
    ({"manufacturer": "SIEMENS", "ge_image_type": 1, "image_type": ("ORIGINAL", "PRIMARY", "M")},
     "magnitude"),  # the GE value counts for GE only
    ({"image_type": ("ORIGINAL", "PRIMARY", "P", "ND")}, "phase"),
    ({"image_type": ("ORIGINAL", "PRIMARY", "PHASE MAP", "P")}, "phase"),
    ({"image_type": ("ORIGINAL", "PRIMARY", "R_FFE", "R", "FFE")}, "real"),
    ({"image_type": ("ORIGINAL", "PRIMARY", "M_SE", "M", "SE")}, "magnitude"),
    ({"image_type": ("ORIGINAL", "PRIMARY", "B0 MAP", "B0", "UNSPECIFIED")}, "fieldmap_hz"),
    ({"image_type": ("DERIVED", "PRIMARY", "DIFFUSION", "ADC")}, "adc"),
    ({"image_type": ("DERIVED", "PRIMARY", "DIFFUSION", "TRACEW")}, "trace"),
    ({"image_type": ("ORIGINAL", "PRIMARY", "M_SE", "M", "SE"),
      "diffusion_directionality": "ISOTROPIC"}, "trace"),
    ({"manufacturer": "Philips", "image_type": ("ORIGINAL", "PRIMARY", "M_SE", "M", "SE"),
      "philips_diffusion_direction": "I"}, "trace"),
    ({"image_type": ("ORIGINAL", "PRIMARY", "AXIAL")}, None),
    ({"image_type": ("ORIGINAL", "PRIMARY", "AXIAL", "ADD")}, None),
])
def test_the_kind_of_an_image_is_read_as_dcm2niix_reads_it(values: dict[str, object],
                                                           kind: str | None) -> None:
    assert kind_of(**values) == kind


def write_two_kinds(folder: Path, second: dict[str, object]) -> s.WrittenSeries:
    """Two volumes at the same positions; the second one's files get ``second``."""
    truth = write_4d(folder, SeriesSpec(shape=(3, 6, 5), modality="MR"), volumes=2)
    rewrite(truth.files, ImageType=["ORIGINAL", "PRIMARY", "M", "ND"])
    rewrite(truth.files[3:], **second)
    return truth


def test_images_of_different_kinds_are_stacks_named_by_their_kind(tmp_path) -> None:
    truth = write_two_kinds(tmp_path, {"ImageType": ["ORIGINAL", "PRIMARY", "P", "ND"]})
    magnitude, phase = dicomio.list_series(tmp_path)
    assert (magnitude.image_kind, phase.image_kind) == ("magnitude", "phase")
    assert magnitude.names == (f"{truth.series_uid}#magnitude",)
    volume = dicomio.load_volume(tmp_path, series=f"{truth.series_uid}#phase", rescale=False)
    np.testing.assert_array_equal(volume.array, truth.stored[1])
    assert any("this one is the phase" in c for c in volume.provenance.conventions)
    codes = {(entry.series.key, f.code): f.severity
             for entry in validate(tmp_path).series for f in entry.findings}
    assert codes[(phase.key, "IMAGE_KINDS_SPLIT")] == "info"
    assert "MIXED_IMAGE_TYPE" not in {code for _, code in codes}


def test_a_ge_b0_map_whose_kinds_nothing_tells_apart_is_said_loudly(tmp_path) -> None:
    """Both volumes GE magnitude (0043,102F = 0) in a B0map sequence: one 4-D series, a
    MixedImagesWarning, IMAGE_KINDS_UNTOLD, and load_volume's refusal says it too."""
    truth = write_4d(tmp_path, SeriesSpec(shape=(3, 6, 5), modality="MR"), volumes=2)
    rewrite(truth.files, lambda d: ge_private(d, sequence="B0map", mode=None, image_type=0))
    (series,) = dicomio.list_series(tmp_path)
    with pytest.warns(MixedImagesWarning, match="field map in Hz and a magnitude image"):
        volumes = dicomio.load_4d(series, rescale=False)
    assert volumes.shape[0] == 2
    with pytest.raises(RepeatedPositionsError, match="nothing in these headers tells them"):
        dicomio.load_volume(series)
    codes = {f.code: f.severity for entry in validate(tmp_path).series for f in entry.findings}
    assert codes["IMAGE_KINDS_UNTOLD"] == "warning"


def test_a_ge_b0_map_told_apart_is_a_field_map_and_a_magnitude(tmp_path) -> None:
    truth = write_4d(tmp_path, SeriesSpec(shape=(3, 6, 5), modality="MR"), volumes=2)
    rewrite(truth.files[:3], lambda d: ge_private(d, sequence="B0map", mode=None,
                                                  image_type=2))
    rewrite(truth.files[3:], lambda d: ge_private(d, sequence="B0map", mode=None,
                                                  image_type=0))
    found = dicomio.list_series(tmp_path)
    assert [x.image_kind for x in found] == ["fieldmap_hz", "magnitude"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedImagesWarning)
        for stack, stored in zip(found, truth.stored, strict=True):
            np.testing.assert_array_equal(dicomio.load_volume(stack, rescale=False).array,
                                          stored)


# --- Philips floating-point values --------------------------------------------------------------

def test_philips_precise_values_are_those_of_philips_formula(make_series) -> None:
    """FP = (RS × stored + RI) / (RS × SS), computed here from the writer's stored values."""
    spec = SeriesSpec(shape=(3, 6, 5), modality="MR", rescale_slope=1.5, rescale_intercept=-3.0)
    truth = make_series(spec)
    rewrite(truth.files, lambda d: philips_private(d, 0.02))
    expected = (1.5 * truth.stored.astype(np.float64) - 3.0) / (1.5 * 0.02)
    precise = dicomio.load_volume(truth.folder, scaling="philips_precise")
    assert precise.dtype == np.float32 and precise.metadata["Scaling"] == "philips_precise"
    np.testing.assert_allclose(precise.array, expected, rtol=1e-6)
    assert any("RS 1.5, RI -3, SS 0.02" in w for w in precise.provenance.warnings)
    modality = dicomio.load_volume(truth.folder)
    np.testing.assert_allclose(modality.array, 1.5 * truth.stored - 3.0, rtol=1e-6)
    assert any("philips_precise" in c for c in modality.provenance.conventions)
    with pytest.raises(ValueError, match="rescale=True"):
        dicomio.load_volume(truth.folder, rescale=False, scaling="philips_precise")


def test_philips_precise_on_other_data_says_it_returns_modality_values(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 4, 5), rescale_slope=2.0, rescale_intercept=1.0))
    volume = dicomio.load_volume(truth.folder, scaling="philips_precise")
    np.testing.assert_allclose(volume.array, truth.modality_values())
    assert any("no Philips MRScaleSlope" in w for w in volume.provenance.warnings)


# --- United Imaging grids -----------------------------------------------------------------------

@pytest.mark.parametrize("volumes", [1, 2])
def test_a_uih_grid_is_refused_naming_uih(tmp_path, volumes: int) -> None:
    """A grid of 20 slices in one 4 × 5 image of tiles, no ImagePositionPatient: before, one
    file loaded as a single image with a nominal affine, and several were refused for the
    missing position; now both are refused saying what the files are."""
    for t in range(volumes):
        truth = s.write_series(tmp_path / f"v{t}", SeriesSpec(
            shape=(1, 16, 20), modality="MR", series_uid="1.2.3.4", seed=t))

        def change(dataset: Dataset, number: int = t + 1) -> None:
            dataset.Manufacturer = "UIH"
            dataset.ImageType = ["ORIGINAL", "PRIMARY", "M", "VFRAME"]
            dataset.add_new((0x0065, 0x0010), "LO", "Image Private Header")
            dataset.add_new((0x0065, 0x1050), "DS", "20")
            dataset.InstanceNumber = number
            del dataset.ImagePositionPatient

        rewrite(truth.files, change)
    with pytest.raises(MissingGeometryError, match=r"United Imaging \(UIH\) grid.*20 slices"):
        dicomio.load_volume(tmp_path)
    codes = {f.code: f for entry in validate(tmp_path).series for f in entry.findings}
    assert codes["FRAMES_AS_STORED"].severity == "error"
    assert "SaveBySlc" in codes["FRAMES_AS_STORED"].message
