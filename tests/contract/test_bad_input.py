"""The bad-input matrix: each damage gives the exact error class and a message naming the file.

Inputs that can still be read give the right volume, with what was skipped reported.
"""

from __future__ import annotations

import builtins
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec, WrittenSeries
from tests.support.dicom_files import rewrite

SMALL = SeriesSpec(shape=(5, 10, 12))
PIXEL_MODULE = ("PixelData", "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit",
                "PixelRepresentation", "SamplesPerPixel", "PhotometricInterpretation")


def raw_set(path: Path, tag: tuple[int, int], value: bytes) -> None:
    """Overwrite an explicit-VR short-form element's value bytes in place (same length)."""
    data = bytearray(path.read_bytes())
    at = data.index(struct.pack("<HH", *tag))
    length = struct.unpack_from("<H", data, at + 6)[0]
    assert len(value) == length, "raw_set keeps the element length"
    data[at + 8:at + 8 + length] = value
    path.write_bytes(bytes(data))


def frame_slice(path: Path) -> tuple[int, int]:
    """(start, end) of the first encapsulated fragment's bytes."""
    data = path.read_bytes()
    at = data.index(b"\xe0\x7f\x10\x00")
    first = data.index(b"\xfe\xff\x00\xe0", at)  # offset table item
    first += 8 + struct.unpack_from("<L", data, first + 4)[0]
    length = struct.unpack_from("<L", data, first + 4)[0]
    return first + 8, first + 8 + length


@dataclass
class Damage:
    """A way to damage a freshly written series, and the error it must give."""

    id: str
    spec: SeriesSpec
    damage: Callable[[WrittenSeries], Path | None]  # returns the file that must be named
    error: type[dicomio.DicomIOError]
    message: str


def _cut(at: int | Callable[[bytes], int]) -> Callable[[WrittenSeries], Path]:
    def damage(w: WrittenSeries) -> Path:
        data = w.files[2].read_bytes()
        w.files[2].write_bytes(data[: at(data) if callable(at) else at])
        return w.files[2]
    return damage


def _edit_one(**changes: Any) -> Callable[[WrittenSeries], Path]:
    def damage(w: WrittenSeries) -> Path:
        rewrite(w.files[1], **changes)
        return w.files[1]
    return damage


def _edit_all(**changes: Any) -> Callable[[WrittenSeries], Path]:
    def damage(w: WrittenSeries) -> Path:
        rewrite(w.files, **changes)
        return w.files[0]
    return damage


def _zero_bytes(w: WrittenSeries) -> None:
    for path in w.files:
        path.write_bytes(b"")


def _pixel_data_short(w: WrittenSeries) -> Path:
    ds = pydicom.dcmread(w.files[3])
    ds.PixelData = ds.PixelData[:-24]
    ds.save_as(w.files[3])
    return w.files[3]


def _garble_fragment(offset: int, size: int) -> Callable[[WrittenSeries], Path]:
    def damage(w: WrittenSeries) -> Path:
        start, _ = frame_slice(w.files[1])
        data = bytearray(w.files[1].read_bytes())
        data[start + offset:start + offset + size] = b"\xff" * size
        w.files[1].write_bytes(bytes(data))
        return w.files[1]
    return damage


def _truncate_fragment(w: WrittenSeries) -> Path:
    start, end = frame_slice(w.files[1])
    data = bytearray(w.files[1].read_bytes())
    keep = (end - start) // 3
    struct.pack_into("<L", data, start - 4, keep)  # a shorter, consistent fragment
    w.files[1].write_bytes(bytes(data[:start + keep]) + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")
    return w.files[1]


def _rle_segment_table(w: WrittenSeries) -> Path:
    start, _ = frame_slice(w.files[1])
    data = bytearray(w.files[1].read_bytes())
    struct.pack_into("<L", data, start + 8, 0x7FFFFFF0)  # second segment far beyond the frame
    w.files[1].write_bytes(bytes(data))
    return w.files[1]


def _forged_pixel_length(w: WrittenSeries) -> Path:
    data = bytearray(w.files[0].read_bytes())
    at = data.index(b"\xe0\x7f\x10\x00")
    struct.pack_into("<L", data, at + 8, 0xFFFFFFF0)
    w.files[0].write_bytes(bytes(data))
    return w.files[0]


def _forged_size_compressed(w: WrittenSeries) -> Path:
    for path in w.files:
        raw_set(path, (0x0028, 0x0010), struct.pack("<H", 65535))
        raw_set(path, (0x0028, 0x0011), struct.pack("<H", 65535))
    return w.files[0]


def _huge_header_length(w: WrittenSeries) -> Path:
    data = bytearray(w.files[3].read_bytes())
    at = data.index(b"\x08\x00\x3e\x10")  # SeriesDescription
    data[at + 4:at + 8] = b"UT\x00\x00"  # long form...
    data[at + 8:at + 8] = struct.pack("<L", 0x7FFFFFF0)  # ...with a 2 GiB length
    w.files[3].write_bytes(bytes(data))
    return w.files[3]


MATRIX = [
    Damage("zero-byte-files", SMALL, _zero_bytes, dicomio.NoDicomFilesError,
           "empty file (0 bytes)"),
    Damage("truncated-in-header", SMALL, _cut(300), dicomio.UnreadableFilesError,
           "header truncated"),
    Damage("truncated-in-pixels", SMALL, _cut(lambda d: len(d) - 100), dicomio.CorruptDataError,
           "truncated"),
    Damage("pixel-data-shorter-than-declared", SMALL, _pixel_data_short,
           dicomio.CorruptDataError, "need"),
    Damage("missing-position", SMALL, _edit_one(ImagePositionPatient=None),
           dicomio.MissingGeometryError, "ImagePositionPatient is missing"),
    Damage("missing-orientation", SMALL, _edit_all(ImageOrientationPatient=None),
           dicomio.MissingGeometryError, "ImageOrientationPatient is missing"),
    Damage("missing-pixel-spacing", SMALL, _edit_all(PixelSpacing=None),
           dicomio.MissingGeometryError, "PixelSpacing is missing"),
    Damage("nan-position", SMALL, _edit_one(ImagePositionPatient=["nan", "0", "0"]),
           dicomio.MissingGeometryError, "not finite"),
    Damage("inf-orientation", SMALL, _edit_all(ImageOrientationPatient=[1, 0, 0, 0, "inf", 0]),
           dicomio.MissingGeometryError, "not finite"),
    Damage("nan-pixel-spacing", SMALL, _edit_all(PixelSpacing=["nan", "1"]),
           dicomio.MissingGeometryError, "PixelSpacing is not positive and finite"),
    Damage("non-orthogonal-cosines", SMALL,
           _edit_all(ImageOrientationPatient=[1, 0, 0, 0.5, 0.866025, 0]),
           dicomio.MissingGeometryError, "not orthogonal"),
    Damage("bits-stored-above-allocated", SMALL, _edit_one(BitsStored=20),
           dicomio.UnreadableFilesError, "BitsStored 20 does not fit BitsAllocated 16"),
    Damage("high-bit-contradicts-bits-stored", SMALL, _edit_one(BitsStored=8),
           dicomio.UnreadableFilesError, "HighBit 11 contradicts BitsStored 8"),
    Damage("nan-rescale-slope", SMALL, _edit_one(RescaleSlope="nan"),
           dicomio.UnreadableFilesError, "RescaleSlope is not finite"),
    Damage("rescale-overflow", SMALL.with_(rescale_slope=0.5), _edit_one(RescaleSlope="1e308"),
           dicomio.UnreadableFilesError, "overflow a float64"),
    Damage("corrupt-jpeg-lossless-header", SMALL.with_(transfer_syntax=s.JPEG_LOSSLESS_SV1),
           _garble_fragment(2, 40), dicomio.CorruptDataError, "damaged"),
    Damage("truncated-jpeg-lossless", SMALL.with_(transfer_syntax=s.JPEG_LOSSLESS_SV1),
           _truncate_fragment, dicomio.CorruptDataError, "frame 0"),
    Damage("truncated-jpeg-ls", SMALL.with_(transfer_syntax=s.JPEG_LS), _truncate_fragment,
           dicomio.CorruptDataError, "frame 0"),
    Damage("corrupt-jpeg-ls-header", SMALL.with_(transfer_syntax=s.JPEG_LS),
           _garble_fragment(2, 30), dicomio.CorruptDataError, "frame 0"),
    Damage("truncated-jpeg-2000", SMALL.with_(transfer_syntax=s.J2K_LOSSLESS),
           _truncate_fragment, dicomio.CorruptDataError, "frame 0"),
    Damage("corrupt-jpeg-2000-header", SMALL.with_(transfer_syntax=s.J2K_LOSSLESS),
           _garble_fragment(0, 60), dicomio.CorruptDataError, "frame 0"),
    Damage("corrupt-rle-segment-table", SMALL.with_(transfer_syntax=s.RLE), _rle_segment_table,
           dicomio.CorruptDataError, "RLE"),
    Damage("truncated-rle", SMALL.with_(transfer_syntax=s.RLE), _truncate_fragment,
           dicomio.CorruptDataError, "frame 0"),
    Damage("forged-huge-pixel-length", SMALL, _forged_pixel_length, dicomio.CorruptDataError,
           "truncated"),
    Damage("forged-huge-rows-columns-compressed", SMALL.with_(transfer_syntax=s.JPEG_LS),
           _forged_size_compressed, dicomio.CorruptDataError, "GiB"),
    Damage("forged-huge-header-element", SMALL, _huge_header_length,
           dicomio.UnreadableFilesError, "truncated"),
]


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
def test_damage_gives_the_exact_error_naming_the_file(case: Damage, make_series) -> None:
    written = make_series(case.spec)
    named = case.damage(written)
    started = time.perf_counter()
    with pytest.raises(case.error) as info:
        dicomio.load_volume(written.folder)
    assert time.perf_counter() - started < 10, "bad input must fail fast"
    assert type(info.value) is case.error
    assert case.message in str(info.value)
    if named is not None:
        assert named.name in str(info.value)


@pytest.mark.parametrize("case", [c for c in MATRIX if c.error is dicomio.CorruptDataError],
                         ids=lambda c: c.id)
def test_pydicom_backend_also_refuses_damaged_pixels(case: Damage, make_series) -> None:
    written = make_series(case.spec)
    named = case.damage(written)
    with pytest.raises(dicomio.DicomIOError) as info:
        dicomio.load_volume(written.folder, backend="pydicom")
    assert named is None or named.name in str(info.value)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(dicomio.NoDicomFilesError, match="no DICOM image found"):
        dicomio.load_volume(tmp_path)


def test_pixel_data_longer_than_declared_is_read_and_reported(make_series) -> None:
    written = make_series(SMALL)
    ds = pydicom.dcmread(written.files[1])
    ds.PixelData = ds.PixelData + bytes(64)
    ds.save_as(written.files[1])
    volume = dicomio.load_volume(written.folder)
    np.testing.assert_array_equal(volume.array, written.modality_values())
    assert any("64 more than its 1 frame(s)" in w and written.files[1].name in w
               for w in volume.provenance.warnings)


def test_rows_differing_inside_a_series_are_separate_stacks(make_series, tmp_path: Path) -> None:
    folder = tmp_path / "mixed-size"
    a = make_series(SMALL, folder=folder)
    make_series(SMALL.with_(shape=(3, 14, 12), series_uid=a.series_uid), folder=folder / "b")
    with pytest.raises(dicomio.MultipleSeriesError) as info:
        dicomio.load_volume(folder)
    assert "5x10x12" in str(info.value) and "3x14x12" in str(info.value)
    assert dicomio.load_volume(folder, series=0).shape == (5, 10, 12)


def test_non_image_objects_beside_images_are_skipped_with_reasons(make_series) -> None:
    written = make_series(SMALL)
    for name, sop_class in [("sr.dcm", "1.2.840.10008.5.1.4.1.1.88.22"),
                            ("rtstruct.dcm", "1.2.840.10008.5.1.4.1.1.481.3"),
                            ("pr.dcm", "1.2.840.10008.5.1.4.1.1.11.1")]:
        ds = pydicom.dcmread(written.files[0])
        for keyword in PIXEL_MODULE:
            delattr(ds, keyword)
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.SeriesInstanceUID = pydicom.uid.generate_uid()
        ds.save_as(written.folder / name)
    (written.folder / "notes.dcm").write_text("not dicom at all")
    volume = dicomio.load_volume(written.folder)
    np.testing.assert_array_equal(volume.array, written.modality_values())
    _, inventory = dicomio.scan(written.folder)
    reasons = {item.path.name: item.reason for item in inventory.skipped}
    assert reasons["sr.dcm"] == "no pixel data (Enhanced SR Storage)"
    assert reasons["rtstruct.dcm"] == "no pixel data (RT Structure Set Storage)"
    assert reasons["pr.dcm"] == "no pixel data (Grayscale Softcopy Presentation State Storage)"
    assert reasons["notes.dcm"].startswith("not DICOM")


def test_unreadable_file_is_reported_not_dropped(make_series, monkeypatch) -> None:
    """Permission denied (simulated: the tests may run as root, who can read anything)."""
    written = make_series(SMALL)
    locked = written.files[2]
    real_open = builtins.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(file) == locked:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    with pytest.raises(dicomio.UnreadableFilesError) as info:
        dicomio.load_volume(written.folder)
    assert locked.name in str(info.value) and "Permission denied" in str(info.value)
    volume = dicomio.load_volume(written.folder, ignore_unreadable=True, irregular="accept")
    assert volume.shape[0] == 4
    assert any(locked.name in w for w in volume.provenance.warnings)


def test_spaces_and_non_ascii_names(make_series, tmp_path: Path) -> None:
    written = make_series(SMALL, folder=tmp_path / "my scans" / "été 2026 – CT")
    for index, path in enumerate(written.files):
        path.rename(path.with_name(f"slice {index} ünïcödé.dcm"))
    volume = dicomio.load_volume(tmp_path / "my scans")
    np.testing.assert_array_equal(volume.array, written.modality_values())
    assert all("ünïcödé" in p.name for p in volume.provenance.files)


@pytest.mark.slow
def test_ten_thousand_files_scale_linearly(tmp_path: Path) -> None:
    """list_series on 10 000 files: no quadratic step (time per file stays flat)."""
    template = s.write_series(tmp_path / "template", SeriesSpec(shape=(1, 4, 4)))
    ds = pydicom.dcmread(template.files[0])
    folders = {2000: tmp_path / "small", 10_000: tmp_path / "large"}
    for count, folder in folders.items():
        folder.mkdir()
        for index in range(count):
            ds.SOPInstanceUID = f"1.2.3.{count}.{index}"
            ds.InstanceNumber = index + 1
            ds.ImagePositionPatient = [0, 0, index * 0.5]
            ds.save_as(folder / f"{index}.dcm")
    timings = {}
    for count, folder in folders.items():
        started = time.perf_counter()
        (series,) = dicomio.list_series(folder)
        timings[count] = time.perf_counter() - started
        assert series.n_slices == count
    per_file = {count: seconds / count for count, seconds in timings.items()}
    assert per_file[10_000] < 2.5 * per_file[2000], timings


def test_image_cut_between_two_elements_is_unreadable_not_a_non_image(make_series) -> None:
    """A file ending exactly before its pixel data parses cleanly: its SOP class and pixel
    module still say it is an image, so it is a lost slice, not an SR to ignore."""
    written = make_series(SMALL)
    data = written.files[4].read_bytes()
    written.files[4].write_bytes(data[:data.index(b"\xe0\x7f\x10\x00")])
    with pytest.raises(dicomio.UnreadableFilesError) as info:
        dicomio.load_volume(written.folder)
    assert "without pixel data: the file is truncated" in str(info.value)
    assert written.files[4].name in str(info.value)
