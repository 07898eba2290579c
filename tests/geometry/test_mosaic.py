"""Siemens mosaics: tiles cut in order, true slice positions, head-to-foot storage, 4-D."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import backend_specs, get_spec
from dicomio.testing.multiframe import write_mosaic
from dicomio.testing.synthetic import RLE, SeriesSpec
from tests.support.contract import assert_affine_is, stated_affine

INSTALLED = [spec.name for spec in backend_specs() if spec.installed()]
OBLIQUE = (0.866025, 0.5, 0.0, -0.353553, 0.612372, 0.707107)
MOSAIC = SeriesSpec(shape=(5, 12, 14), modality="MR", rescale_intercept=0.0,
                    orientation=OBLIQUE, pixel_spacing=(1.5, 2.0), slice_spacing=3.0)


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("descending", [False, True], ids=["foot-to-head", "head-to-foot"])
def test_mosaic_tiles_become_slices_in_position_order(tmp_path, descending: bool,
                                                      backend: str) -> None:
    truth = write_mosaic(tmp_path, MOSAIC, descending=descending)
    (series,) = dicomio.list_series(tmp_path)
    assert series.is_mosaic and series.shape == (5, 12, 14)
    if get_spec(backend).cannot_read(series):
        pytest.skip(f"{backend}: {get_spec(backend).cannot_read(series)}")
    volume = dicomio.load_volume(series, backend=backend, rescale=False)
    np.testing.assert_array_equal(volume.array, truth.stored[0])
    assert_affine_is(volume.affine, stated_affine(MOSAIC))
    assert volume.metadata["Mosaic"] is True
    assert volume.provenance.files == tuple(truth.files)


def test_mosaic_position_is_the_corner_of_the_whole_image(tmp_path) -> None:
    """The stored IPP is not slice 0's: dicomio moves it to the first tile's corner."""
    truth = write_mosaic(tmp_path, MOSAIC)
    stored_ipp = np.array(pydicom.dcmread(truth.files[0]).ImagePositionPatient, dtype=float)
    volume = dicomio.load_volume(tmp_path)
    assert np.linalg.norm(stored_ipp - volume.origin) > 10
    np.testing.assert_allclose(volume.origin, truth.positions[0], atol=1e-4)


@pytest.mark.parametrize("csa_version", [1, 2])
def test_count_only_in_the_csa_header(tmp_path, csa_version: int) -> None:
    """Files whose private group 0019 was stripped (dcm_qa_12bit) keep the count in the CSA."""
    truth = write_mosaic(tmp_path, MOSAIC, private_count=False, csa_version=csa_version)
    volume = dicomio.load_volume(tmp_path, rescale=False)
    np.testing.assert_array_equal(volume.array, truth.stored[0])


def test_compressed_mosaic(tmp_path) -> None:
    truth = write_mosaic(tmp_path, MOSAIC.with_(transfer_syntax=RLE))
    volume = dicomio.load_volume(tmp_path, rescale=False)
    np.testing.assert_array_equal(volume.array, truth.stored[0])


def test_mosaics_of_several_volumes_load_as_4d(tmp_path) -> None:
    truth = write_mosaic(tmp_path, MOSAIC, volumes=3, descending=True)
    with pytest.raises(dicomio.RepeatedPositionsError, match="3 volumes of 5 slices"):
        dicomio.load_volume(tmp_path)
    volume = dicomio.load_4d(tmp_path, rescale=False)
    assert volume.shape == (3, 5, 12, 14) and volume.order_rule == "AcquisitionTime"
    np.testing.assert_array_equal(volume.array, truth.stored)
    assert_affine_is(volume.affine, stated_affine(MOSAIC))
    assert volume.provenance.files == tuple(truth.files)


def test_mosaic_without_its_count_is_read_whole_with_a_warning(tmp_path) -> None:
    truth = write_mosaic(tmp_path, MOSAIC, private_count=False)
    ds = pydicom.dcmread(truth.files[0])
    del ds[0x0029, 0x1010]
    ds.save_as(truth.files[0], enforce_file_format=True)
    (series,) = dicomio.list_series(tmp_path)
    assert not series.is_mosaic and series.shape == (1, 36, 42)
    assert any("NumberOfImagesInMosaic" in w for w in series.warnings)


@pytest.mark.corpus
def test_real_head_to_foot_mosaic_is_reversed(corpus) -> None:
    """dcm_qa_mosaic stores its slices head to foot: tile 0 is the top slice."""
    folder = corpus("dcm_qa_mosaic/In/ep2d_Int_HF_5")
    first = dicomio.list_series(folder)[0]
    assert first.is_mosaic
    tile_of_slice = [f.tile.number for f in first.frames if f.path == first.frames[0].path]
    assert tile_of_slice == list(range(35, -1, -1))
    volume = dicomio.load_4d(folder)
    assert volume.shape == (6, 36, 64, 64)
    normal = np.cross(volume.metadata["ImageOrientationPatient"][:3],
                      volume.metadata["ImageOrientationPatient"][3:])
    assert float(volume.affine[:3, 0] @ normal) > 0  # ascending along the normal
