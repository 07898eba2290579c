"""load_volume: series selection, geometry policy, errors that name the file, never zeros."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import get_spec
from dicomio.testing.multiframe import write_4d
from dicomio.testing.synthetic import JPEG_LOSSLESS_SV1, SeriesSpec
from tests.support.contract import assert_slices_match_files

SMALL = SeriesSpec(shape=(6, 10, 12))


def test_load_returns_the_contract(make_series) -> None:
    truth = make_series(SMALL, naming="uid")
    volume = dicomio.load_volume(truth.folder)
    assert volume.shape == (6, 10, 12) and volume.dtype == np.int16
    np.testing.assert_array_equal(volume.array, truth.modality_values())
    np.testing.assert_allclose(volume.affine, truth.affine, atol=1e-6)
    assert volume.spacing == pytest.approx((2.5, 0.7, 0.9))
    assert volume.origin == pytest.approx(tuple(truth.positions[0]))
    np.testing.assert_allclose(volume.direction, np.eye(3)[:, [2, 1, 0]], atol=1e-12)
    provenance = volume.provenance
    assert provenance.backend == "direct" and provenance.decoders == ("native",)
    assert provenance.files == tuple(truth.files)
    assert provenance.transfer_syntaxes == ("1.2.840.10008.1.2.1",)
    assert provenance.series_uid == truth.series_uid
    assert volume.metadata["Modality"] == "CT" and volume.metadata["RescaleIntercept"] == -1024
    assert_slices_match_files(volume)


def test_index_and_lps_are_inverse(make_series) -> None:
    volume = dicomio.load_volume(make_series(SMALL).folder)
    index = np.array([[1, 2, 3], [5, 9, 11]])
    np.testing.assert_allclose(volume.lps_to_index(volume.index_to_lps(index)), index)


def test_rescale_false_gives_stored_values(make_series) -> None:
    truth = make_series(SMALL.with_(high_bit_garbage=True))
    volume = dicomio.load_volume(truth.folder, rescale=False)
    assert volume.dtype == np.uint16
    np.testing.assert_array_equal(volume.array, truth.stored)


def test_several_series_must_be_chosen(make_series, tmp_path: Path) -> None:
    folder = tmp_path / "two"
    a = make_series(SMALL.with_(series_number=1, description="first"), folder=folder,
                    naming="uid")
    b = make_series(SMALL.with_(series_number=2, description="second", seed=3), folder=folder,
                    naming="uid")
    with pytest.raises(dicomio.MultipleSeriesError) as info:
        dicomio.load_volume(folder)
    message = str(info.value)
    assert a.series_uid in message and b.series_uid in message and "'second'" in message
    assert "series=" in message
    assert dicomio.load_volume(folder, series=1).provenance.series_uid == b.series_uid
    assert dicomio.load_volume(folder, series=a.series_uid).provenance.series_uid == a.series_uid
    assert dicomio.load_volume(folder, series="1").provenance.series_uid == b.series_uid
    with pytest.raises(dicomio.SeriesNotFoundError):
        dicomio.load_volume(folder, series="1.2.3.4")
    with pytest.raises(dicomio.SeriesNotFoundError):
        dicomio.load_volume(folder, series=7)
    (_info_a, info_b) = dicomio.list_series(folder)
    assert dicomio.load_volume(info_b).provenance.series_uid == b.series_uid


def test_missing_slice_raises_then_loads_when_accepted(make_series) -> None:
    truth = make_series(SMALL, skip=[3])
    with pytest.raises(dicomio.GeometryError) as info:
        dicomio.load_volume(truth.folder)
    assert "MISSING_SLICE" in str(info.value) and "slices 2 and 3" in str(info.value)
    assert [i.code for i in info.value.issues] == ["MISSING_SLICE"]
    assert str(truth.files[0]) in str(info.value)
    volume = dicomio.load_volume(truth.folder, irregular="accept")
    assert volume.shape[0] == 5
    assert any("MISSING_SLICE" in w for w in volume.provenance.warnings)
    np.testing.assert_allclose(volume.slice_positions, truth.positions)
    assert_slices_match_files(volume)


def test_gantry_tilt_raises_then_loads_sheared(make_series) -> None:
    truth = make_series(SMALL.with_(tilt_degrees=12))
    with pytest.raises(dicomio.GeometryError, match="GANTRY_TILT"):
        dicomio.load_volume(truth.folder)
    volume = dicomio.load_volume(truth.folder, irregular="accept")
    for k in range(volume.shape[0]):
        np.testing.assert_allclose(volume.affine @ [k, 0, 0, 1], [*truth.positions[k], 1],
                                   atol=1e-4)


def test_repeated_positions_are_not_a_volume(make_series, tmp_path: Path) -> None:
    folder = tmp_path / "4d"
    a = make_series(SMALL, folder=folder / "t0")
    make_series(SMALL.with_(series_uid=a.series_uid, seed=5), folder=folder / "t1")
    with pytest.raises(dicomio.RepeatedPositionsError, match="not a single volume"):
        dicomio.load_volume(folder)
    with pytest.raises(dicomio.RepeatedPositionsError):
        dicomio.load_volume(folder, irregular="accept")


def test_missing_position_raises_missing_geometry(make_series) -> None:
    truth = make_series(SMALL)
    ds = pydicom.dcmread(truth.files[2])
    del ds.ImagePositionPatient
    ds.save_as(truth.files[2])
    with pytest.raises(dicomio.MissingGeometryError) as info:
        dicomio.load_volume(truth.folder)
    assert "ImagePositionPatient is missing" in str(info.value)
    assert truth.files[2].name in str(info.value)
    volume = dicomio.load_volume(truth.folder, irregular="accept")
    assert volume.shape[0] == 6 and volume.slice_positions is None
    assert any("InstanceNumber" in w for w in volume.provenance.warnings)


def test_duplicate_file_is_dropped_and_reported(make_series) -> None:
    truth = make_series(SMALL)
    shutil.copy(truth.files[1], truth.folder / "zz-copy.dcm")
    volume = dicomio.load_volume(truth.folder)
    assert volume.shape[0] == 6
    assert any("duplicate" in w for w in volume.provenance.warnings)


def test_junk_never_breaks_a_load(make_series) -> None:
    truth = make_series(SMALL)
    (truth.folder / "README.txt").write_text("hello")
    (truth.folder / "noise.dcm").write_bytes(np.random.default_rng(1).bytes(5000))
    np.testing.assert_array_equal(dicomio.load_volume(truth.folder).array,
                                  truth.modality_values())


def test_unreadable_dicom_is_not_silently_dropped(make_series) -> None:
    truth = make_series(SMALL)
    data = truth.files[-1].read_bytes()
    truth.files[-1].write_bytes(data[:300])  # a DICM file cut inside its header
    with pytest.raises(dicomio.UnreadableFilesError) as info:
        dicomio.load_volume(truth.folder)
    assert truth.files[-1].name in str(info.value)
    volume = dicomio.load_volume(truth.folder, ignore_unreadable=True)
    assert volume.shape[0] == 5
    assert any(truth.files[-1].name in w for w in volume.provenance.warnings)


def test_truncated_pixel_data_names_the_file(make_series) -> None:
    truth = make_series(SMALL)
    data = truth.files[2].read_bytes()
    truth.files[2].write_bytes(data[:-40])
    for backend in ("direct", "pydicom"):
        with pytest.raises(dicomio.CorruptDataError) as info:
            dicomio.load_volume(truth.folder, backend=backend)
        assert truth.files[2].name in str(info.value)


def test_corrupt_compressed_frame_names_the_file(make_series) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    data = bytearray(truth.files[1].read_bytes())
    start = data.index(b"\xff\xda")  # start of scan: garble the entropy-coded data
    data[start + 20:start + 400] = bytes(380)
    data[start + 10:start + 12] = b"\xff\xd9"
    truth.files[1].write_bytes(bytes(data))
    for backend in ("direct", "pydicom"):
        try:
            volume = dicomio.load_volume(truth.folder, backend=backend)
        except dicomio.CorruptDataError as exc:
            assert truth.files[1].name in str(exc)
        else:  # a decoder may return garbage for garbage, but never for the other slices
            np.testing.assert_array_equal(volume.array[2:], truth.modality_values()[2:])


def test_all_zero_result_from_a_failing_backend_is_an_error(make_series, monkeypatch) -> None:
    truth = make_series(SMALL)
    from dicomio.backends import direct

    def zeros(self, series, options):
        from dicomio.backends.base import ReadResult
        return ReadResult(np.zeros(series.shape, np.int16), decoders=("broken",))

    monkeypatch.setattr(direct.Reader, "read", zeros)
    with pytest.raises(dicomio.CorruptDataError, match="returned only zeros"):
        dicomio.load_volume(truth.folder, backend="direct")


def test_genuinely_zero_image_is_returned_with_a_warning(make_series, tmp_path: Path) -> None:
    truth = make_series(SMALL.with_(rescale_intercept=0))
    for path in truth.files:
        ds = pydicom.dcmread(path)
        ds.PixelData = bytes(len(ds.PixelData))
        ds.save_as(path)
    volume = dicomio.load_volume(truth.folder)
    assert not volume.array.any()
    assert any("every voxel is zero" in w for w in volume.provenance.warnings)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(dicomio.NoDicomFilesError, match="no DICOM image found"):
        dicomio.load_volume(tmp_path)


def test_folder_of_junk_lists_what_was_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.dcm").write_text("not dicom")
    with pytest.raises(dicomio.NoDicomFilesError) as info:
        dicomio.load_volume(tmp_path)
    assert "a.dcm" in str(info.value) and info.value.skipped[0].category == "not_dicom"


def test_unknown_backend_is_a_value_error(make_series) -> None:
    with pytest.raises(ValueError, match="unknown backend 'itk'"):
        dicomio.load_volume(make_series(SMALL).folder, backend="itk")


def test_unsupported_transfer_syntax(make_series) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=JPEG_LOSSLESS_SV1))
    for path in truth.files:
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.102"  # MPEG-4 AVC/H.264
        ds.save_as(path)
    with pytest.raises(dicomio.UnsupportedTransferSyntaxError, match="MPEG-4") as info:
        dicomio.load_volume(truth.folder)
    assert truth.files[0].name in str(info.value)


def test_workers_do_not_change_the_result(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(20, 16, 16)))
    one = dicomio.load_volume(truth.folder, workers=1)
    four = dicomio.load_volume(truth.folder, workers=4)
    np.testing.assert_array_equal(one.array, four.array)


# --- the toolkit's own geometry, in the provenance --------------------------------------------

def installed(backend: str) -> None:
    """Skip, saying why, when ``backend`` is not installed."""
    spec = get_spec(backend)
    if not spec.installed():
        pytest.skip(f"{backend} is not installed: {spec.install_hint()}")


# SMALL without its fourth slice: axial slices at z = 40, 42.5, 45, 50, 52.5 from (-80, -60),
# rows 0.7 mm apart, columns 0.9 mm; VTK puts its origin at the bottom-left pixel, (0, 9 × 0.7,
# 0), with no position of its own.
TOOLKIT_ORIGIN = {"pydicom": (-80.0, -60.0, 40.0), "sitk": (-80.0, -60.0, 40.0),
                  "vtk": (0.0, 9 * 0.7, 0.0), "dcm2niix": (-80.0, -60.0, 40.0)}


@pytest.mark.parametrize("backend", list(TOOLKIT_ORIGIN))
def test_provenance_keeps_the_toolkits_geometry_until_resampling(make_series,
                                                                  backend: str) -> None:
    installed(backend)
    truth = make_series(SMALL, skip=[3])
    accepted = dicomio.load_volume(truth.folder, backend=backend, irregular="accept")
    reported = accepted.provenance.reported_geometry
    assert reported is not None and reported.source
    assert reported.origin == pytest.approx(TOOLKIT_ORIGIN[backend], abs=1e-4)
    assert reported.spacing[1:] == pytest.approx((0.7, 0.9), abs=1e-5)
    # Resampled onto 2.5 mm from z = 40 to 52.5: six slices the toolkit never saw.
    resampled = dicomio.load_volume(truth.folder, backend=backend, irregular="resample")
    assert resampled.shape[0] == 6
    assert any(w.startswith("resampled:") for w in resampled.provenance.warnings)
    assert resampled.provenance.reported_geometry is None


def test_dicomios_own_reader_reports_no_toolkit_geometry(make_series) -> None:
    volume = dicomio.load_volume(make_series(SMALL).folder, backend="direct")
    assert volume.provenance.reported_geometry is None


@pytest.mark.parametrize("backend", ["pydicom", "sitk", "dcm2niix"])
def test_a_4d_volume_keeps_only_a_geometry_of_its_own_slices(tmp_path: Path,
                                                              backend: str) -> None:
    """Three volumes of four axial slices at z = 40 + 2.5 k: dcm2niix places the four slices
    itself; pydicom and SimpleITK are handed the twelve images as one stack, whose grid (a step
    of 7.5 / 11 mm) is not the volumes'. A series of one volume keeps its toolkit's geometry."""
    installed(backend)
    write_4d(tmp_path / "4d", SeriesSpec(shape=(4, 9, 11)), volumes=3, key="temporal")
    volume = dicomio.load_4d(tmp_path / "4d", backend=backend)
    assert volume.shape[:2] == (3, 4)
    reported = volume.provenance.reported_geometry
    if backend == "dcm2niix":
        assert reported is not None
        np.testing.assert_allclose(reported.positions,
                                   [(-80.0, -60.0, 40.0 + 2.5 * k) for k in range(4)], atol=1e-4)
    else:
        assert reported is None
    write_4d(tmp_path / "3d", SeriesSpec(shape=(4, 9, 11)), volumes=1, key="temporal")
    single = dicomio.load_4d(tmp_path / "3d", backend=backend)
    assert single.provenance.reported_geometry is not None
