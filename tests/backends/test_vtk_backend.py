"""The VTK backend: its conventions undone, its limits declared (each one shown to be real),
its geometry reported as VTK states it, and its zeros never returned as an image.

Values against the truth on every generated case are the conformance suite's job.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import get_spec, register
from dicomio.dicom.types import stored_range
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec
from tests.support.dicom_files import rewrite
from tests.support.toolkits import assert_declared_and_refused, only_series

pytest.importorskip("vtkmodules")
from dicomio.backends import vtk_backend

VTK = get_spec("vtk")


def vtk_read(path: Path, *, names: list[Path] | None = None):  # type: ignore[no-untyped-def]
    """What vtkDICOMImageReader returns, used directly."""
    from vtkmodules.vtkCommonCore import vtkStringArray
    from vtkmodules.vtkIOImage import vtkDICOMImageReader

    reader = vtkDICOMImageReader()
    if names is None:
        reader.SetFileName(str(path))
    else:
        array = vtkStringArray()
        for name in names:
            array.InsertNextValue(str(name))
        reader.SetFileNames(array)
    reader.Update()
    return reader


def test_vtk_ignores_set_file_names(make_series) -> None:
    """Why dicomio reads file by file: given a file list, vtkDICOMImageReader reports "no file
    name" and returns a 1 x 1 x n image instead of the files."""
    from vtkmodules.vtkCommonMisc import vtkErrorCode

    truth = make_series(SeriesSpec(shape=(3, 8, 10)))
    reader = vtk_read(truth.files[0], names=truth.files)
    assert reader.GetErrorCode() == vtkErrorCode.NoFileNameError
    assert reader.GetOutput().GetDimensions() == (1, 1, 3)


def test_reported_geometry_is_what_vtk_states(make_series) -> None:
    """Origin (0, 0, 0) at the last row, no directions, SliceThickness as the slice step."""
    spec = SeriesSpec(shape=(4, 9, 13), orientation=(0.866025, 0.5, 0, -0.353553, 0.612372,
                                                     0.707107),
                      pixel_spacing=(0.4, 1.7), slice_spacing=2.0, slice_thickness=5.0)
    truth = make_series(spec)
    volume = dicomio.load_volume(truth.folder, backend="vtk")
    reported = volume.provenance.reported_geometry
    assert reported.origin == pytest.approx((0.0, 0.4 * (9 - 1), 0.0))
    assert reported.spacing == pytest.approx((5.0, 0.4, 1.7))
    np.testing.assert_allclose(np.asarray(reported.direction),
                               [[0, 0, 1], [0, -1, 0], [1, 0, 0]], atol=1e-12)
    # Its affine still maps (k, j, i) to the point VTK gives pixel (i, rows - 1 - j, k).
    k, j, i = 2, 3, 5
    vtk_point = np.array([i * 1.7, (9 - 1 - j) * 0.4, k * 5.0])
    np.testing.assert_allclose(reported.affine() @ [k, j, i, 1], [*vtk_point, 1], atol=1e-6)
    assert np.abs(reported.affine() - truth.affine).max() > 10  # how wrong VTK is here


def test_all_zero_output_is_caught(make_series, monkeypatch, restore_registry) -> None:
    """VTK's own failure on compressed data: it only logs an error and returns zeros. With
    that error ignored and VTK allowed to try, load_volume's zero guard still refuses."""
    truth = make_series(SeriesSpec(shape=(3, 8, 10), transfer_syntax=s.JPEG_LS))
    reader = vtk_read(truth.files[0])
    assert reader.GetErrorCode() != 0
    from vtkmodules.util.numpy_support import vtk_to_numpy

    assert not vtk_to_numpy(reader.GetOutput().GetPointData().GetScalars()).any()

    willing = dataclasses.replace(VTK, syntaxes=lambda: frozenset({s.JPEG_LS}))
    register(willing)
    with pytest.raises(dicomio.BackendReadError, match="FileFormatError"):
        dicomio.load_volume(truth.folder, backend="vtk")
    monkeypatch.setattr(vtk_backend, "raise_on_error", lambda code, path: None)
    with pytest.raises(dicomio.CorruptDataError, match="returned only zeros"):
        dicomio.load_volume(truth.folder, backend="vtk")


# --- what VTK cannot read is declared, and really fails ---------------------------------------

@pytest.mark.parametrize(("syntax", "reason"), [
    (s.EXPLICIT_BE, "Explicit VR Big Endian"),
    (s.DEFLATED, "Deflated"),
    (s.RLE, "RLE"),
    (s.JPEG_LOSSLESS, "JPEG Lossless"),
    (s.J2K_LOSSLESS, "JPEG 2000"),
])
def test_syntaxes_vtk_cannot_read(syntax: str, reason: str, make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10), transfer_syntax=syntax))
    assert_declared_and_refused("vtk", truth.folder, f"cannot decode {reason}")


def test_32_bit_data_is_declared(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10), bits_allocated=32, bits_stored=32,
                                   rescale_intercept=0))
    assert_declared_and_refused("vtk", truth.folder, "BitsAllocated 32")


def test_ybr_colour_is_declared(make_series) -> None:
    from pydicom.pixels import convert_color_space

    truth = make_series(SeriesSpec(shape=(2, 8, 10), samples_per_pixel=3))
    for path in truth.files:
        dataset = pydicom.dcmread(path)
        dataset.PixelData = convert_color_space(dataset.pixel_array, "RGB", "YBR_FULL").tobytes()
        dataset.PhotometricInterpretation = "YBR_FULL"
        dataset.save_as(path)
    assert_declared_and_refused("vtk", truth.folder, "YBR_FULL colour")


@pytest.mark.parametrize(("slope", "intercept", "bits_stored", "reason"), [
    (1e-6, 1000.5, 12, "float32"),   # float rescale whose float32 result merges stored values
    (2.0, 0.0, 16, "modulo"),        # even integer slope: the top stored bit is lost
])
def test_rescale_vtk_cannot_undo_is_declared(slope: float, intercept: float, bits_stored: int,
                                             reason: str, make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10), bits_stored=bits_stored,
                                   rescale_slope=slope, rescale_intercept=intercept))
    assert_declared_and_refused("vtk", truth.folder, reason)


def test_rescale_vtk_can_undo_is_accepted(make_series) -> None:
    """The same attributes on data that leaves room (12 of 16 bits) are read exactly."""
    truth = make_series(SeriesSpec(shape=(2, 8, 10), rescale_slope=3.0, rescale_intercept=-7))
    assert VTK.cannot_read(only_series(truth.folder)) is None
    volume = dicomio.load_volume(truth.folder, backend="vtk", rescale=False)
    np.testing.assert_array_equal(volume.array, truth.stored)


def test_multi_frame_files_are_declared(corpus) -> None:
    path = corpus("pydicom_data/data/emri_small.dcm")
    assert "multi-frame" in (VTK.cannot_read(only_series(path)) or "")
    assert vtk_read(path).GetOutput().GetDimensions()[2] == 1  # of 10 frames


def test_wrapped_integer_rescale_is_undone(make_series) -> None:
    """16-bit stored values with intercept -1024 overflow VTK's short: they are unwrapped."""
    truth = make_series(SeriesSpec(shape=(2, 8, 10), bits_stored=16, rescale_intercept=-1024))
    low, high = stored_range(only_series(truth.folder).pixel)
    assert truth.stored.max() > 32767 + 1024 - 1 and high == 65535 and low == 0
    raw = vtk_read(truth.files[0]).GetOutput()
    assert raw.GetScalarTypeAsString() == "short"
    volume = dicomio.load_volume(truth.folder, backend="vtk")
    np.testing.assert_array_equal(volume.array, truth.modality_values())


def test_restyled_monochrome1_is_read_as_stored(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10)))
    rewrite(truth.files, PhotometricInterpretation="MONOCHROME1")
    volume = dicomio.load_volume(truth.folder, backend="vtk", rescale=False)
    np.testing.assert_array_equal(volume.array, truth.stored)
