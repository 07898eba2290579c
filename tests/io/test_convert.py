"""Converters to and from SimpleITK, VTK and nibabel: every voxel and the geometry survive, and
each toolkit's own indexing places every voxel where the Volume's affine does."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio.extras import pip_install
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec
from tests.support.cases import OBLIQUE

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
TOOLKIT_MODULES = {"sitk": "SimpleITK", "vtk": "vtkmodules", "nibabel": "nibabel"}

SPECS = {
    "oblique-int16": SeriesSpec(shape=(5, 9, 13), orientation=OBLIQUE, pixel_spacing=(0.4, 1.7)),
    "sagittal-float32": SeriesSpec(shape=(4, 7, 11), orientation=s.SAGITTAL,
                                   rescale_slope=0.5, rescale_intercept=-3.25),
    "uint8": SeriesSpec(shape=(3, 6, 8), bits_allocated=8, bits_stored=8, rescale_intercept=0),
    "uint32": SeriesSpec(shape=(3, 6, 8), bits_allocated=32, bits_stored=32,
                         rescale_intercept=0),
    "rgb": SeriesSpec(shape=(3, 6, 8), orientation=s.CORONAL, samples_per_pixel=3),
    "gantry-tilt": SeriesSpec(shape=(5, 8, 10), tilt_degrees=15.0),  # a sheared affine
}


@pytest.fixture(scope="module")
def volumes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dicomio.Volume]:
    return {name: dicomio.load_volume(s.write_series(tmp_path_factory.mktemp(name), spec).folder,
                                      irregular="accept")
            for name, spec in SPECS.items()}


def toolkit(name: str) -> None:
    pytest.importorskip(TOOLKIT_MODULES[name])


def corner_indices(volume: dicomio.Volume) -> np.ndarray:
    """(k, j, i) of the eight corners and one inner voxel."""
    n = np.asarray(volume.shape[:3]) - 1
    corners = [(a, b, c) for a in (0, n[0]) for b in (0, n[1]) for c in (0, n[2])]
    return np.array([*corners, (n[0] // 2, n[1] // 2, n[2] // 2)])


@pytest.mark.parametrize("target", ["sitk", "vtk", "nibabel"])
@pytest.mark.parametrize("name", list(SPECS))
def test_round_trip_keeps_every_voxel_and_the_geometry(volumes, name: str, target: str) -> None:
    toolkit(target)
    volume = volumes[name]
    image = getattr(volume, f"to_{target}")()
    back = getattr(dicomio.Volume, f"from_{target}")(image)
    assert back.dtype == volume.dtype
    np.testing.assert_array_equal(back.array, volume.array)
    # NIfTI stores its affines in float32.
    atol = 1e-4 if target == "nibabel" else 1e-9
    np.testing.assert_allclose(back.affine, volume.affine, atol=atol, rtol=0)


@pytest.mark.parametrize("name", list(SPECS))
def test_sitk_image_places_each_voxel_where_the_affine_does(volumes, name: str) -> None:
    toolkit("sitk")
    volume = volumes[name]
    image = volume.to_sitk()
    assert image.GetSize() == volume.shape[:3][::-1]
    for k, j, i in corner_indices(volume):
        point = image.TransformIndexToPhysicalPoint((int(i), int(j), int(k)))
        np.testing.assert_allclose(point, volume.index_to_lps((k, j, i)), atol=1e-9)
        np.testing.assert_array_equal(image[int(i), int(j), int(k)], volume.array[k, j, i])


@pytest.mark.parametrize("name", list(SPECS))
def test_vtk_image_places_each_voxel_where_the_affine_does(volumes, name: str) -> None:
    toolkit("vtk")
    volume = volumes[name]
    image = volume.to_vtk()
    samples = volume.array.shape[3] if volume.array.ndim == 4 else 1
    for k, j, i in corner_indices(volume):
        point = [0.0, 0.0, 0.0]
        image.TransformIndexToPhysicalPoint(int(i), int(j), int(k), point)
        np.testing.assert_allclose(point, volume.index_to_lps((k, j, i)), atol=1e-9)
        values = [image.GetScalarComponentAsDouble(int(i), int(j), int(k), c)
                  for c in range(samples)]
        np.testing.assert_array_equal(np.asarray(values).reshape(volume.array[k, j, i].shape),
                                      volume.array[k, j, i])


@pytest.mark.parametrize("name", list(SPECS))
def test_nifti_places_each_voxel_where_the_affine_does(volumes, name: str) -> None:
    toolkit("nibabel")
    from nibabel.affines import apply_affine

    volume = volumes[name]
    image = volume.to_nibabel()
    data = np.asanyarray(image.dataobj)
    assert data.shape == volume.shape[:3][::-1]
    assert image.header["sform_code"] == 1 and image.header.get_xyzt_units()[0] == "mm"
    for k, j, i in corner_indices(volume):
        ras = apply_affine(image.affine, (i, j, k))
        np.testing.assert_allclose(ras, (LPS_TO_RAS[:3, :3] @ volume.index_to_lps((k, j, i))),
                                   atol=1e-4)
        value = data[i, j, k]
        if data.dtype.names:  # RGB24
            value = np.array([value[c] for c in data.dtype.names])
        np.testing.assert_array_equal(value, volume.array[k, j, i])


@pytest.mark.parametrize("name", ["oblique-int16", "sagittal-float32", "rgb"])
def test_itk_reads_the_written_nifti_as_the_volume(volumes, name: str, tmp_path: Path) -> None:
    """An independent reading of our NIfTI (ITK's, LPS) gives the same voxels and geometry."""
    toolkit("nibabel")
    toolkit("sitk")
    import nibabel as nib
    import SimpleITK as sitk

    volume = volumes[name]
    nib.save(volume.to_nibabel(), tmp_path / "volume.nii.gz")
    read = dicomio.Volume.from_sitk(sitk.ReadImage(str(tmp_path / "volume.nii.gz")))
    np.testing.assert_array_equal(read.array, volume.array)
    np.testing.assert_allclose(read.affine, volume.affine, atol=1e-4, rtol=0)


def test_from_vtk_honours_the_extent(volumes) -> None:
    toolkit("vtk")
    volume = volumes["oblique-int16"]
    image = volume.to_vtk()
    image.SetExtent(2, 2 + volume.shape[2] - 1, -1, volume.shape[1] - 2, 5,
                    5 + volume.shape[0] - 1)
    back = dicomio.Volume.from_vtk(image)
    np.testing.assert_array_equal(back.array, volume.array)
    # Index (0, 0, 0) of the array is VTK point (2, -1, 5).
    expected = np.asarray(image.GetOrigin()) + volume.affine[:3, :3] @ [5, -1, 2]
    np.testing.assert_allclose(back.origin, expected, atol=1e-9)


def test_colour_nifti_needs_8_bit_rgb() -> None:
    toolkit("nibabel")
    rgba = dicomio.Volume(np.zeros((2, 3, 4, 4), dtype=np.uint8), np.eye(4))
    with pytest.raises(ValueError, match="8-bit RGB"):
        rgba.to_nibabel()


def test_converters_refuse_images_that_are_not_3_d() -> None:
    toolkit("sitk")
    toolkit("nibabel")
    import nibabel as nib
    import SimpleITK as sitk

    with pytest.raises(ValueError, match="3-D SimpleITK image"):
        dicomio.Volume.from_sitk(sitk.Image(4, 5, sitk.sitkInt16))
    with pytest.raises(ValueError, match="3-D NIfTI"):
        dicomio.Volume.from_nibabel(nib.Nifti1Image(np.zeros((2, 3, 4, 5)), np.eye(4)))


@pytest.mark.parametrize(("method", "module", "extra"), [("to_sitk", "SimpleITK", "sitk"),
                                                          ("to_vtk", "vtkmodules", "vtk"),
                                                          ("to_nibabel", "nibabel", "nifti")])
def test_a_missing_toolkit_names_the_extra(method: str, module: str, extra: str,
                                           monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, module, None)  # what an absent package looks like
    volume = dicomio.Volume(np.zeros((2, 3, 4), dtype=np.int16), np.eye(4))
    with pytest.raises(ImportError, match=re.escape(pip_install(extra))):
        getattr(volume, method)()


@pytest.mark.parametrize("name", list(SPECS))
def test_one_nifti_geometry_policy_for_to_nibabel_and_write_volume(volumes, name: str,
                                                                   tmp_path: Path) -> None:
    """The sform always holds the affine; the qform holds the same affine where the axes are
    orthogonal, and is left unset (code 0) for the sheared gantry-tilt stack, which a qform
    (a rotation) cannot express - whether the image comes from to_nibabel or write_volume."""
    toolkit("nibabel")
    import nibabel as nib

    from dicomio.io.writers import write_volume

    volume = volumes[name]
    written = nib.load(write_volume(volume, tmp_path / "volume.nii.gz"))
    for image in (volume.to_nibabel(), written):
        sform, sform_code = image.header.get_sform(coded=True)
        qform, qform_code = image.header.get_qform(coded=True)
        assert int(sform_code) == 1
        if SPECS[name].tilt_degrees:
            assert int(qform_code) == 0 and qform is None
        else:
            assert int(qform_code) == 1
            np.testing.assert_allclose(qform, sform, atol=1e-4)
    np.testing.assert_allclose(written.affine, volume.to_nibabel().affine, atol=1e-5)
