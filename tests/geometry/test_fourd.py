"""4-D series: repeated positions are explained, split into volumes and ordered by a stated key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import backend_specs, get_spec
from dicomio.testing.multiframe import write_4d, write_enhanced
from dicomio.testing.synthetic import SeriesSpec
from tests.support.contract import assert_affine_is, stated_affine
from tests.support.dicom_files import rewrite

INSTALLED = [spec.name for spec in backend_specs() if spec.installed()]
SPEC = SeriesSpec(shape=(4, 9, 11))
RULE = {"instance": "InstanceNumber", "temporal": "TemporalPositionIndex/Identifier",
        "time": "AcquisitionTime"}


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("key", list(RULE))
def test_volumes_are_ordered_by_the_first_usable_key(tmp_path, key: str, backend: str) -> None:
    """Each series lets only one key tell the volume order (the others are reversed)."""
    truth = write_4d(tmp_path, SPEC, volumes=3, key=key)
    (series,) = dicomio.list_series(tmp_path)
    if get_spec(backend).cannot_read(series):
        pytest.skip(f"{backend}: {get_spec(backend).cannot_read(series)}")
    volume = dicomio.load_4d(series, backend=backend, rescale=False)
    assert volume.order_rule == RULE[key]
    assert volume.shape == (3, 4, 9, 11) and volume.dtype == np.uint16
    np.testing.assert_array_equal(volume.array, truth.stored)
    assert_affine_is(volume.affine, stated_affine(SPEC), atol=1e-6)
    np.testing.assert_allclose(volume.slice_positions, truth.positions, atol=1e-6)
    values = dicomio.load_4d(series, backend=backend)
    np.testing.assert_array_equal(values.array, truth.modality_values())
    assert values.dtype == np.int16 and values.metadata["NumberOfVolumes"] == 3


def test_load_volume_explains_a_4d_series(tmp_path) -> None:
    write_4d(tmp_path, SPEC, volumes=3, key="temporal")
    with pytest.raises(dicomio.RepeatedPositionsError) as info:
        dicomio.load_volume(tmp_path)
    message = str(info.value)
    assert "is 4-D" in message and "3 volumes of 4 slices" in message
    assert "ordered by TemporalPositionIndex/Identifier" in message and "load_4d" in message
    assert any(i.code == "DUPLICATE_POSITION" for i in info.value.issues)


def test_incomplete_volumes_are_not_4d(tmp_path) -> None:
    truth = write_4d(tmp_path, SPEC, volumes=3)
    truth.files[5].unlink()
    with pytest.raises(dicomio.RepeatedPositionsError,
                       match="not a 4-D series either: the 4 positions hold different numbers "
                             r"of images \(2 to 3"):
        dicomio.load_volume(tmp_path)
    with pytest.raises(dicomio.RepeatedPositionsError, match="cannot be split into volumes"):
        dicomio.load_4d(tmp_path)


def test_volumes_must_share_their_slices(tmp_path) -> None:
    truth = write_4d(tmp_path, SPEC, volumes=2)
    for path in truth.files[4:]:  # move the second volume 2 mm in-plane
        ds = pydicom.dcmread(path)
        ds.ImagePositionPatient = [float(ds.ImagePositionPatient[0]) + 2,
                                   *ds.ImagePositionPatient[1:]]
        ds.save_as(path, enforce_file_format=True)
    with pytest.raises(dicomio.RepeatedPositionsError, match="volume 1 does not have the slice "
                                                             "positions of volume 0"):
        dicomio.load_4d(tmp_path)


def test_volume4d_gives_volumes_as_views(tmp_path) -> None:
    truth = write_4d(tmp_path, SPEC, volumes=3)
    volume = dicomio.load_4d(tmp_path)
    assert len(volume) == 3 and volume.spacing == pytest.approx((2.5, 0.7, 0.9))
    second = volume[1]
    assert isinstance(second, dicomio.Volume) and np.shares_memory(second.array, volume.array)
    np.testing.assert_array_equal(second.array, truth.modality_values()[1])
    np.testing.assert_array_equal(second.affine, volume.affine)
    assert [v.shape for v in volume.volumes()] == [(4, 9, 11)] * 3
    assert volume.provenance.files == tuple(truth.files)  # (volume, slice) order
    assert "Volume4D(shape=(3, 4, 9, 11)" in repr(volume)


def test_a_single_volume_loads_as_4d_with_one_volume(make_series) -> None:
    truth = make_series(SPEC)
    volume = dicomio.load_4d(truth.folder)
    assert volume.shape == (1, 4, 9, 11) and volume.order_rule == "single volume"
    np.testing.assert_array_equal(volume.array[0], truth.modality_values())


@pytest.mark.corpus
def test_frames_without_geometry_follow_the_geometry_policy(corpus) -> None:
    path = corpus("pydicom_data/data/emri_small.dcm")
    with pytest.raises(dicomio.MissingGeometryError):
        dicomio.load_4d(path)
    volume = dicomio.load_4d(path, irregular="accept", rescale=False)
    assert volume.shape == (1, 10, 64, 64)
    np.testing.assert_array_equal(volume.array[0], pydicom.dcmread(path).pixel_array)


def test_volumes_of_different_image_types_are_separate_stacks(tmp_path) -> None:
    """An ADC volume beside the images it was derived from: ImageType tells the kinds apart,
    so they are two stacks (docs/vendors.md), never one 4-D series of both."""
    truth = write_4d(tmp_path, SPEC, volumes=2)
    rewrite(truth.files[4:], ImageType=["DERIVED", "SECONDARY", "ADC"])
    stacks = dicomio.list_series(tmp_path)
    assert sorted(s.image_kind or "" for s in stacks) == ["", "adc"]
    with pytest.raises(dicomio.MultipleSeriesError, match="found 2 series"):
        dicomio.load_volume(tmp_path)
    for stack in stacks:
        assert {Path(f).name for f in stack.files} == {
            Path(f).name for f in (truth.files[4:] if stack.image_kind else truth.files[:4])}
        assert dicomio.load_volume(stack).shape == (4, 9, 11)


@pytest.mark.parametrize("moved", [[0], [0, 4, 8]], ids=["one image", "a position"])
def test_a_volume_named_differently_at_one_position_is_refused(tmp_path, moved) -> None:
    """TemporalPositionIdentifier names a volume: slice 0's images renumbered by +10 (one of
    them: the volumes would mix time points 2 and 1; all of them: 11 beside 1) are no 4-D
    series, and the error names the renumbered files."""
    truth = write_4d(tmp_path, SPEC, volumes=3, key="temporal")  # file 4t + s: volume t, slice s
    for index in moved:
        rewrite(truth.files[index], lambda ds: setattr(
            ds, "TemporalPositionIdentifier", ds.TemporalPositionIdentifier + 10))
    with pytest.raises(dicomio.InconsistentVolumeOrderError) as info:
        dicomio.load_4d(tmp_path)
    assert isinstance(info.value, dicomio.RepeatedPositionsError)
    at_slice_0 = {truth.files[4 * t].resolve() for t in range(3)}
    assert {p.resolve() for p in info.value.paths} == at_slice_0  # each volume's odd image
    message = str(info.value)
    assert "TemporalPositionIndex/Identifier names a volume, but volume 0 has 1 at most of its " \
           f"slices and {2 if moved == [0] else 11} at slice 0" in message
    assert "3 volume(s) mix images" in message
    with pytest.raises(dicomio.RepeatedPositionsError, match="not a 4-D series either"):
        dicomio.load_volume(tmp_path)


def _frame_content(path: Path, change) -> None:
    """Apply ``change`` to the FrameContentSequence item of every frame of an enhanced file."""
    def each(ds: pydicom.Dataset) -> None:
        for item in ds.PerFrameFunctionalGroupsSequence:
            change(item.FrameContentSequence[0])
    rewrite(path, each)


def _without_temporal(content: pydicom.Dataset) -> None:
    del content.TemporalPositionIndex


def test_dimension_index_values_name_a_volume_but_not_its_slice(tmp_path) -> None:
    """Without TemporalPositionIndex, DimensionIndexValues (in-stack position, time point)
    order the volumes: the in-stack part follows the slice, the time part must not."""
    spec = SeriesSpec(shape=(4, 9, 11), modality="MR")
    truth = write_enhanced(tmp_path / "sound", spec, volumes=3)
    _frame_content(truth.files[0], _without_temporal)
    volume = dicomio.load_4d(tmp_path / "sound", rescale=False)
    assert volume.order_rule == "DimensionIndexValues"
    np.testing.assert_array_equal(volume.array, truth.stored)

    broken = write_enhanced(tmp_path / "broken", spec, volumes=3)

    def time_point_3_at_slice_2(content: pydicom.Dataset) -> None:
        _without_temporal(content)
        if list(content.DimensionIndexValues) == [2, 1]:  # slice 2 (from 1) of time point 1
            content.DimensionIndexValues = [2, 30]

    _frame_content(broken.files[0], time_point_3_at_slice_2)
    with pytest.raises(dicomio.InconsistentVolumeOrderError,
                       match=r"DimensionIndexValues names a volume, but volume 0 has \(1,\) at "
                             r"most of its slices and \(2,\) at slice 1 \(enhanced_1.dcm, "
                             r"frame \d+\)"):
        dicomio.load_4d(tmp_path / "broken")
