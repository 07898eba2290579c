"""The SimpleITK backend: what GDCM does to values is undone, what it cannot do is declared and
really fails, and the geometry it reports is what dicomio claims it is.

Values against the truth on every generated case are the conformance suite's job; these tests
cover what is specific to SimpleITK.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import get_spec
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.cases import GEOMETRY_CASES, Case
from tests.support.dicom_files import rewrite
from tests.support.toolkits import assert_declared_and_refused, only_series

pytest.importorskip("SimpleITK")
SITK = get_spec("sitk")


STACKS = [case for case in GEOMETRY_CASES if case.spec.shape[0] > 1]


@pytest.mark.parametrize("case", STACKS, ids=lambda c: c.id)
def test_reported_geometry_is_the_truth(case: Case, make_series) -> None:
    """Given dicomio's sorted files, SimpleITK places a stack where dicomio does."""
    truth = make_series(case.spec, naming=case.naming)
    volume = dicomio.load_volume(truth.folder, backend="sitk")
    reported = volume.provenance.reported_geometry
    np.testing.assert_allclose(reported.affine(), truth.affine, atol=1e-4, rtol=0)
    np.testing.assert_allclose(reported.spacing, volume.spacing, atol=1e-4)
    np.testing.assert_allclose(np.asarray(reported.direction), volume.direction, atol=1e-5)


def test_reported_spacing_of_a_single_slice_is_1_mm(make_series) -> None:
    """ITK gives one slice a thickness of 1 mm; dicomio takes SliceThickness (here 2.5)."""
    truth = make_series(SeriesSpec(shape=(1, 8, 10), slice_spacing=2.5))
    volume = dicomio.load_volume(truth.folder, backend="sitk")
    reported = volume.provenance.reported_geometry
    assert volume.spacing[0] == pytest.approx(2.5)
    assert reported.spacing == pytest.approx((1.0, 0.7, 0.9))
    assert reported.origin == pytest.approx(volume.origin)


def test_reads_the_given_files_not_the_folder(tmp_path: Path) -> None:
    """Two series and a junk file in one folder: SimpleITK reads only the chosen series."""
    first = write_series(tmp_path, SeriesSpec(shape=(4, 8, 10), series_number=1), naming="uid")
    second = write_series(tmp_path, SeriesSpec(shape=(6, 8, 10), series_number=2, seed=3),
                          naming="uid")
    (tmp_path / "notes.txt").write_text("not DICOM")
    for index, truth in enumerate((first, second)):
        volume = dicomio.load_volume(tmp_path, backend="sitk", series=index, rescale=False)
        np.testing.assert_array_equal(volume.array, truth.stored)


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"])
def test_htj2k_rpcl_and_lossy_decode_like_pydicom(syntax: str, make_series) -> None:
    """dicomio cannot write these syntaxes: an HTJ2K code stream relabelled stands in."""
    imagecodecs = pytest.importorskip("imagecodecs")
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID

    truth = make_series(SeriesSpec(shape=(3, 12, 14), transfer_syntax=s.HTJ2K_LOSSLESS))
    for path in truth.files:
        dataset = pydicom.dcmread(path)
        stored = dataset.pixel_array
        level = 0 if syntax.endswith("202") else 30
        dataset.PixelData = encapsulate([bytes(imagecodecs.htj2k_encode(stored, level=level))])
        dataset.file_meta.TransferSyntaxUID = UID(syntax)
        dataset.save_as(path)
    ours = dicomio.load_volume(truth.folder, backend="sitk", rescale=False)
    reference = dicomio.load_volume(truth.folder, backend="pydicom", rescale=False)
    np.testing.assert_array_equal(ours.array, reference.array)
    if syntax.endswith("202"):
        np.testing.assert_array_equal(ours.array, truth.stored)


def test_a_file_gdcm_cannot_decode_is_named(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(4, 12, 14), transfer_syntax=s.J2K_LOSSLESS))
    broken = truth.files[2]
    dataset = pydicom.dcmread(broken)
    from pydicom.encaps import encapsulate

    dataset.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(40)])  # a J2K start, no image
    dataset.save_as(broken)
    with pytest.raises(dicomio.BackendReadError) as raised:
        dicomio.load_volume(truth.folder, backend="sitk")
    assert raised.value.path == broken


# --- what SimpleITK cannot read is declared, and really fails ---------------------------------

def test_signed_12_bit_monochrome1_is_declared(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10), signed=True, rescale_intercept=0))
    rewrite(truth.files, PhotometricInterpretation="MONOCHROME1")
    assert_declared_and_refused("sitk", truth.folder, "signed 12-bit MONOCHROME1")


def test_palette_colour_is_declared(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10), bits_allocated=8, bits_stored=8,
                                   rescale_intercept=0))
    lut = (np.arange(256, dtype=np.uint16) * 257).tobytes()
    for path in truth.files:
        dataset = pydicom.dcmread(path)
        dataset.PhotometricInterpretation = "PALETTE COLOR"
        for colour in ("Red", "Green", "Blue"):
            dataset.add_new(f"{colour}PaletteColorLookupTableDescriptor", "US", [256, 0, 16])
            setattr(dataset, f"{colour}PaletteColorLookupTableData", lut)
        dataset.save_as(path)
    assert_declared_and_refused("sitk", truth.folder, "applies the palette")


def test_8_bit_with_fewer_bits_stored_is_declared(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10), bits_allocated=8, bits_stored=7,
                                   rescale_intercept=0))
    assert_declared_and_refused("sitk", truth.folder, "8-bit data with BitsStored 7")


@pytest.mark.parametrize("bits_stored", [16, 24, 31])
def test_32_bit_with_fewer_bits_stored_is_declared(bits_stored: int, make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10), bits_allocated=32, bits_stored=bits_stored,
                                   rescale_intercept=0))
    assert_declared_and_refused("sitk", truth.folder, "GDCM masks the wrong bits")


def test_multi_frame_files_are_declared(corpus) -> None:
    series = only_series(corpus("pydicom_data/data/emri_small.dcm"))
    assert "multi-frame" in (SITK.cannot_read(series) or "")
    with pytest.raises(dicomio.BackendCannotReadError):
        dicomio.load_volume(series, backend="sitk", irregular="accept")
