"""Discovery by content, skipped files with reasons, grouping into series and stacks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.testing.synthetic import AXIAL, SAGITTAL, SeriesSpec


def test_files_named_by_uid_are_found_and_sorted_by_position(make_series) -> None:
    written = make_series(SeriesSpec(shape=(12, 8, 10)), naming="uid")
    (series,) = dicomio.list_series(written.folder)
    assert list(series.files) == written.files
    assert series.n_slices == 12 and (series.rows, series.columns) == (8, 10)
    assert series.uid == written.series_uid
    assert series.modality == "CT" and series.number == 1
    assert series.description == "dicomio synthetic phantom"
    assert series.transfer_syntaxes == ("1.2.840.10008.1.2.1",)
    assert series.orientation_label == "AXIAL"


def test_name_order_is_ignored(make_series) -> None:
    # IM1, IM10, IM11, IM12, IM2...: name order is wrong past 9
    written = make_series(SeriesSpec(shape=(12, 8, 10)), naming="instance")
    assert sorted(p.name for p in written.files) != [p.name for p in written.files]
    (series,) = dicomio.list_series(written.folder)
    assert list(series.files) == written.files


def test_junk_beside_the_series_is_skipped_with_reasons(make_series) -> None:
    written = make_series(SeriesSpec(shape=(4, 8, 10)))
    folder = written.folder
    (folder / "notes.txt").write_text("scanner notes\n")
    (folder / "random.dcm").write_bytes(np.random.default_rng(0).bytes(3000))
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300))
    (folder / "empty.dcm").write_bytes(b"")
    sr = pydicom.dcmread(written.files[0], stop_before_pixels=True)
    for keyword in ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit",
                    "PixelRepresentation", "SamplesPerPixel", "PhotometricInterpretation"):
        delattr(sr, keyword)
    sr.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    sr.SeriesInstanceUID = pydicom.uid.generate_uid()
    sr.save_as(folder / "report.dcm")
    series, inventory = dicomio.scan(folder)
    assert [s.n_slices for s in series] == [4]
    reasons = {s.path.name: (s.category, s.reason) for s in inventory.skipped}
    assert reasons["notes.txt"][0] == "not_dicom"
    assert reasons["random.dcm"][0] == "not_dicom"
    assert reasons["photo.jpg"][0] == "not_dicom"
    # An empty file named as DICOM beside a series may be a lost slice: never silently skipped.
    assert reasons["empty.dcm"][0] == "unreadable"
    assert "empty file (0 bytes)" in reasons["empty.dcm"][1]
    assert reasons["report.dcm"] == ("no_pixel_data", "no pixel data (Basic Text SR Storage)")


def test_two_series_in_one_folder(make_series, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    a = make_series(SeriesSpec(shape=(5, 8, 10), series_number=3, description="late"),
                    folder=folder, naming="uid")
    b = make_series(SeriesSpec(shape=(7, 8, 10), series_number=2, description="early", seed=1),
                    folder=folder, naming="uid")
    series = dicomio.list_series(folder)
    assert [s.uid for s in series] == [b.series_uid, a.series_uid]  # by SeriesNumber
    assert [s.n_slices for s in series] == [7, 5]


def test_localizer_inside_a_series_is_split_into_stacks(make_series, tmp_path: Path) -> None:
    folder = tmp_path / "with-localizer"
    main = make_series(SeriesSpec(shape=(9, 8, 10), orientation=AXIAL), folder=folder)
    make_series(SeriesSpec(shape=(2, 8, 10), orientation=SAGITTAL, series_uid=main.series_uid),
                folder=folder / "scout")
    series = dicomio.list_series(folder)
    assert [(s.key, s.n_slices, s.orientation_label) for s in series] == [
        (f"{main.series_uid}#0", 9, "AXIAL"), (f"{main.series_uid}#1", 2, "SAGITTAL")]


def test_different_image_sizes_are_split(make_series, tmp_path: Path) -> None:
    folder = tmp_path / "sizes"
    main = make_series(SeriesSpec(shape=(4, 8, 10)), folder=folder)
    make_series(SeriesSpec(shape=(3, 16, 10), series_uid=main.series_uid), folder=folder / "b")
    assert sorted(s.shape for s in dicomio.list_series(folder)) == [(3, 16, 10), (4, 8, 10)]


def test_duplicate_file_is_dropped_with_a_warning(make_series) -> None:
    written = make_series(SeriesSpec(shape=(5, 8, 10)))
    copy = written.folder / "copy-of-slice.dcm"
    shutil.copy(written.files[2], copy)
    (series,) = dicomio.list_series(written.folder)
    assert series.n_slices == 5
    assert len(series.warnings) == 1 and "duplicate" in series.warnings[0]


def test_nested_folders_files_and_lists(make_series, tmp_path: Path) -> None:
    a = make_series(SeriesSpec(shape=(3, 8, 10)), folder=tmp_path / "x" / "y" / "z")
    b = make_series(SeriesSpec(shape=(2, 8, 10)), folder=tmp_path / "w")
    assert len(dicomio.list_series(tmp_path)) == 2
    assert dicomio.list_series(a.files[0])[0].n_slices == 1
    assert dicomio.list_series([a.folder, b.files[0]])[0].n_slices in (3, 1)
    assert sum(s.n_slices for s in dicomio.list_series([a.folder, b.files[0]])) == 4


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(dicomio.NoDicomFilesError) as info:
        dicomio.list_series(tmp_path / "nowhere")
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_reported(make_series) -> None:
    written = make_series(SeriesSpec(shape=(3, 8, 10)))
    written.files[1].chmod(0)
    try:
        _series, inventory = dicomio.scan(written.folder)
        assert [s.category for s in inventory.skipped] == ["unreadable"]
    finally:
        written.files[1].chmod(0o644)


def test_symlink_loop_does_not_hang(make_series, tmp_path: Path) -> None:
    written = make_series(SeriesSpec(shape=(3, 8, 10)), folder=tmp_path / "loop")
    (written.folder / "again").symlink_to(written.folder)
    series, inventory = dicomio.scan(written.folder)
    assert series[0].n_slices == 3
    assert any("symlink loop" in s.reason for s in inventory.skipped)


def test_corpus_dicomdir_tree(corpus) -> None:
    series, inventory = dicomio.scan(corpus("dcm_qa_ct/In/Philips"))
    assert any(s.reason.startswith("DICOMDIR") for s in inventory.skipped)
    assert sorted(s.n_slices for s in series) == [1, 28]


def test_one_uid_under_several_series_numbers_is_several_series(make_series,
                                                                tmp_path: Path) -> None:
    """As dcm2niix does: the same SeriesInstanceUID reused for another acquisition."""
    folder = tmp_path / "reused-uid"
    first = make_series(SeriesSpec(shape=(4, 8, 10), series_number=7), folder=folder / "a")
    make_series(SeriesSpec(shape=(4, 8, 10), series_number=3, series_uid=first.series_uid,
                           seed=2), folder=folder / "b")
    series = dicomio.list_series(folder)
    assert [(s.number, s.key, s.n_slices) for s in series] == [
        (3, f"{first.series_uid}#0", 4), (7, f"{first.series_uid}#1", 4)]


def test_corpus_nine_syntaxes_under_one_uid_are_nine_series(corpus) -> None:
    series = dicomio.list_series(corpus("dcm_qa_ts/In"))
    assert [s.number for s in series] == list(range(1, 10))
    assert all(s.shape == (35, 64, 64) for s in series)
    first = dicomio.load_volume(series[0]).array
    for other in series[1:]:
        np.testing.assert_array_equal(dicomio.load_volume(other).array, first)
