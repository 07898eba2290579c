"""Enhanced multi-frame images: geometry, rescale, FrameType and time from functional groups."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import backend_specs, get_spec
from dicomio.testing.multiframe import write_enhanced
from dicomio.testing.synthetic import J2K_LOSSLESS, RLE, SeriesSpec
from tests.support.cases import OBLIQUE
from tests.support.contract import assert_affine_is, stated_affine

INSTALLED = [spec.name for spec in backend_specs() if spec.installed()]
ENHANCED = SeriesSpec(shape=(6, 10, 13), modality="MR", orientation=OBLIQUE,
                      pixel_spacing=(0.8, 1.1), rescale_slope=[1, 2, 0.5, 1, 3, 1],
                      rescale_intercept=[0, -5, 3, 1, 0, 7])


def readable(series: dicomio.SeriesInfo, backend: str) -> None:
    reason = get_spec(backend).cannot_read(series)
    if reason:
        pytest.skip(f"{backend}: {reason}")


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", RLE, J2K_LOSSLESS])
def test_shuffled_frames_are_sorted_by_their_functional_group_positions(
        tmp_path, syntax: str, backend: str) -> None:
    truth = write_enhanced(tmp_path, ENHANCED.with_(transfer_syntax=syntax))
    header = dicomio.list_series(tmp_path)[0].frames[0].header
    assert header.position is None and header.has_functional_groups  # geometry only in groups
    (series,) = dicomio.list_series(tmp_path)
    readable(series, backend)
    raw = dicomio.load_volume(series, backend=backend, rescale=False)
    np.testing.assert_array_equal(raw.array, truth.stored[0])
    assert_affine_is(raw.affine, stated_affine(ENHANCED))
    values = dicomio.load_volume(series, backend=backend)
    assert values.dtype == np.float32  # per-frame slopes 2, 0.5, 3
    np.testing.assert_allclose(values.array, truth.modality_values()[0], rtol=1e-6)
    assert values.metadata["RescaleSlope"] == list(truth.slopes[0])


def test_enhanced_ct_frame_type_and_thickness(tmp_path) -> None:
    truth = write_enhanced(tmp_path, SeriesSpec(shape=(4, 8, 9), slice_spacing=2.0),
                           frame_types=[("ORIGINAL", "PRIMARY", "AXIAL", "NONE")])
    (series,) = dicomio.list_series(tmp_path)
    assert series.image_type == ("ORIGINAL", "PRIMARY", "AXIAL", "NONE")
    assert not series.issues  # SliceThickness from PixelMeasures agrees with the 2 mm spacing
    volume = dicomio.load_volume(tmp_path)
    np.testing.assert_array_equal(volume.array, truth.modality_values()[0])
    assert volume.dtype == np.int16


def test_series_split_over_files_is_4d_by_temporal_index(tmp_path) -> None:
    """Like dcm_qa_enh's Siemens XA10 export: one enhanced file per time point."""
    truth = write_enhanced(tmp_path, ENHANCED, volumes=4, files=4)
    with pytest.raises(dicomio.RepeatedPositionsError, match="4 volumes of 6 slices"):
        dicomio.load_volume(tmp_path)
    volume = dicomio.load_4d(tmp_path, rescale=False)
    assert volume.order_rule == "TemporalPositionIndex/Identifier"
    assert volume.volume_keys == (1, 2, 3, 4)
    np.testing.assert_array_equal(volume.array, truth.stored)
    assert volume.provenance.files == tuple(truth.files)


def test_frames_of_different_frame_types_are_separate_stacks(tmp_path) -> None:
    """Like dcm_qa_enh's Philips file: magnitude and field-map frames at the same positions."""
    types = [("ORIGINAL", "PRIMARY", "M", "FFE"), ("ORIGINAL", "PRIMARY", "B0", "MAP")]
    truth = write_enhanced(tmp_path, ENHANCED, volumes=2, frame_types=types, shuffle=False)
    stacks = dicomio.list_series(tmp_path)  # equal sizes: in the order they are stored
    assert [s.image_type for s in stacks] == types
    assert [s.key for s in stacks] == [f"{truth.series_uid}#0", f"{truth.series_uid}#1"]
    with pytest.raises(dicomio.MultipleSeriesError):
        dicomio.load_volume(tmp_path)
    for t, stack in enumerate(stacks):
        volume = dicomio.load_volume(tmp_path, series=stack.key, rescale=False)
        np.testing.assert_array_equal(volume.array, truth.stored[t])
        assert volume.metadata["ImageType"] == types[t]


def test_functional_groups_not_matching_the_frames_fall_back_with_a_warning(tmp_path) -> None:
    truth = write_enhanced(tmp_path, ENHANCED, shuffle=False)
    ds = pydicom.dcmread(truth.files[0])
    del ds.PerFrameFunctionalGroupsSequence[-1]
    ds.save_as(truth.files[0], enforce_file_format=True)
    (series,) = dicomio.list_series(tmp_path)
    assert any("5 items for 6 frames" in w for w in series.warnings)
    assert series.geometry is None  # no per-frame positions any more


@pytest.mark.corpus
def test_stripped_enhanced_file_explains_itself(corpus) -> None:
    """pydicom's emri_small: 10 Enhanced MR frames whose functional groups were removed."""
    path = corpus("pydicom_data/data/emri_small.dcm")
    with pytest.raises(dicomio.MissingGeometryError,
                       match="10 frames but neither per-frame functional groups nor "
                             "ImagePositionPatient"):
        dicomio.load_volume(path)
    volume = dicomio.load_volume(path, irregular="accept", rescale=False)
    reference = pydicom.dcmread(path).pixel_array
    np.testing.assert_array_equal(volume.array, reference)  # frames in stored order
    assert volume.spacing == pytest.approx((1.2, 1.0, 1.0))  # SpacingBetweenSlices, nominal
    assert any("affine is nominal" in w for w in volume.provenance.warnings)


@pytest.mark.corpus
def test_philips_file_mixing_image_types(corpus) -> None:
    stacks = dicomio.list_series(corpus("dcm_qa_enh/In/Philips"))
    assert [s.image_type[-1] for s in stacks] == ["M", "FIELD_MAP"]
    assert [s.shape for s in stacks] == [(32, 64, 64), (32, 64, 64)]
    field_map = dicomio.load_volume(stacks[1])
    assert field_map.metadata["RescaleIntercept"] == -500  # the field map's own rescale
    assert field_map.dtype == np.float32


RT_DOSES = ["rtdose.dcm", "rtdose_expb.dcm", "rtdose_rle.dcm"]


@pytest.mark.corpus
@pytest.mark.parametrize("name", RT_DOSES)
def test_rt_dose_frames_are_placed_by_grid_frame_offsets(corpus, name: str) -> None:
    """A classic multi-frame image with per-frame positions: frame k at GridFrameOffsetVector[k]."""
    path = corpus(f"pydicom_testfiles/test_files/{name}")
    volume = dicomio.load_volume(path, rescale=False)
    dataset = pydicom.dcmread(path)
    np.testing.assert_array_equal(volume.array, dataset.pixel_array)
    assert volume.spacing == pytest.approx((5.0, 10.0, 10.0))
    assert volume.origin == pytest.approx(tuple(float(v) for v in dataset.ImagePositionPatient))
    np.testing.assert_allclose(volume.direction[:, 0], [0, 0, 1])


@pytest.mark.corpus
def test_rt_dose_offsets_decide_the_slice_order(corpus, tmp_path) -> None:
    dataset = pydicom.dcmread(corpus("pydicom_testfiles/test_files/rtdose.dcm"))
    dataset.GridFrameOffsetVector = [-5.0 * k for k in range(15)]  # frames going down
    dataset.save_as(tmp_path / "down.dcm")
    volume = dicomio.load_volume(tmp_path / "down.dcm", rescale=False)
    np.testing.assert_array_equal(volume.array, dataset.pixel_array[::-1])
    assert volume.origin[2] == pytest.approx(float(dataset.ImagePositionPatient[2]) - 70)
    del dataset.GridFrameOffsetVector
    dataset.save_as(tmp_path / "down.dcm")
    (series,) = dicomio.list_series(tmp_path)
    assert any("GridFrameOffsetVector is missing for 15 frames" in w for w in series.warnings)


@pytest.mark.corpus
def test_bit_packed_segmentation_is_refused_clearly(corpus) -> None:
    """A SEG file: its frames are placed by functional groups, but 1-bit pixels are not read."""
    path = corpus("pydicom_data/data/liver.dcm")
    (series,) = dicomio.list_series(path)
    assert series.geometry is not None and series.n_slices == 3
    with pytest.raises(dicomio.BackendCannotReadError, match="BitsAllocated 1"):
        dicomio.load_volume(path)
