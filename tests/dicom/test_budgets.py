"""What one file may cost: every limit of dicomio.dicom.budgets refuses the hostile file it is
for, with an error naming the file, in bounded time and memory, and lets real files through.

The hostile files are written byte by byte (tests/support/hostile_files.py); expected offsets,
counts and sizes come from the arithmetic of their construction, and values from pydicom.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest

import dicomio
from dicomio.dicom import budgets, header
from dicomio.dicom.header import read_header
from dicomio.errors import CorruptDataError, DicomIOError, InvalidDicomError
from dicomio.series.discover import discover
from tests.support.hostile_files import (
    element,
    file_meta,
    image_data_set,
    nested_sequences,
    sequence,
    write_deflated,
    write_explicit,
    zero_run_deflate,
)

_MiB = 1 << 20
# The elements image_data_set() writes before its pixel data, and the pixel data element.
_IMAGE_ELEMENTS = 16 + 1


def _cpu() -> float:
    return time.process_time()


# --- nesting ------------------------------------------------------------------------------------

def test_sequences_nested_500_deep_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = write_explicit(tmp_path / "deep.dcm", image_data_set(in_group_8=nested_sequences(500)))
    assert path.stat().st_size < 30_000
    with pytest.raises(InvalidDicomError, match="nested more than 32 deep") as caught:
        read_header(path)
    assert caught.value.path == path and str(path) in str(caught.value)


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    depth = budgets.MAX_NESTING_DEPTH
    fits = write_explicit(tmp_path / "fits.dcm", image_data_set(in_group_8=nested_sequences(depth)))
    assert read_header(fits).series_uid == pydicom.dcmread(fits).SeriesInstanceUID == "1.2.3.5"
    over = write_explicit(tmp_path / "over.dcm",
                          image_data_set(in_group_8=nested_sequences(depth + 1)))
    with pytest.raises(InvalidDicomError, match="MAX_NESTING_DEPTH"):
        read_header(over)


def test_deep_nesting_is_a_skipped_file_in_discovery(tmp_path: Path) -> None:
    write_explicit(tmp_path / "deep.dcm", image_data_set(in_group_8=nested_sequences(500)))
    inventory = dicomio.discover(tmp_path)
    assert inventory.headers == []
    (skipped,) = inventory.skipped
    assert skipped.category == "unreadable" and "nested" in skipped.reason


# --- elements and items -------------------------------------------------------------------------

def _empty_items(count: int, tag: bytes = b"\x08\x00\x15\x11") -> bytes:
    """A sequence of undefined length holding ``count`` empty items of length 0 (tag: the
    sequence's, little endian; Referenced Series Sequence by default)."""
    item = b"\xfe\xff\x00\xe0" + bytes(4)
    return tag + b"SQ\0\0\xff\xff\xff\xff" + item * count + b"\xfe\xff\xdd\xe0" + bytes(4)


PER_FRAME_GROUPS = b"\x00\x52\x30\x92"  # (5200,9230), after NumberOfFrames


def test_millions_of_empty_items_are_refused_in_bounded_time(tmp_path: Path) -> None:
    count = budgets.MAX_HEADER_ELEMENTS + 1
    path = write_explicit(tmp_path / "items.dcm", image_data_set(in_group_8=_empty_items(count)))
    assert path.stat().st_size > 8 * count
    start = _cpu()
    with pytest.raises(InvalidDicomError, match="MAX_HEADER_ELEMENTS") as caught:
        read_header(path)
    assert caught.value.path == path
    assert _cpu() - start < 15  # 16 million items took 30 s without the limit


def test_the_element_limit_counts_elements_items_and_delimiters(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sequence element, its 1000 items and its delimiter, the image's elements."""
    path = write_explicit(tmp_path / "items.dcm", image_data_set(in_group_8=_empty_items(1000)))
    walked = _IMAGE_ELEMENTS + 1 + 1000 + 1
    monkeypatch.setattr(header, "max_elements", lambda frames: walked)
    assert read_header(path).pixel_data_length == 16
    monkeypatch.setattr(header, "max_elements", lambda frames: walked - 1)
    with pytest.raises(InvalidDicomError, match="more than"):
        read_header(path)


def test_many_top_level_elements_are_counted_too(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty private elements, each jumped over in the top-level walk."""
    padding = b"".join(element(0x00090000 | 0x1000 + i, "LO", b"") for i in range(50))
    path = write_explicit(tmp_path / "flat.dcm", image_data_set(before_pixels=padding))
    monkeypatch.setattr(header, "max_elements", lambda frames: _IMAGE_ELEMENTS + 49)
    with pytest.raises(InvalidDicomError, match="more than 66 elements"):
        read_header(path)


@pytest.mark.parametrize("deflated", [False, True], ids=["explicit", "deflated"])
def test_the_walk_stops_at_the_limit_of_the_frames_declared(tmp_path: Path,
                                                            deflated: bool) -> None:
    """Four million empty functional-group items beside two frames (a bomb: 32 MB, or 40 KB
    deflated) are refused once the walk passes max_elements(2), not after walking them all
    (1.5 s, for each file of a series and each command that reads it)."""
    data = image_data_set(frames=2, before_pixels=_empty_items(4_000_000, PER_FRAME_GROUPS))
    path = (write_deflated if deflated else write_explicit)(tmp_path / "bomb.dcm", data)
    start = _cpu()
    with pytest.raises(InvalidDicomError, match=r"more than 100000 elements") as caught:
        read_header(path)
    assert _cpu() - start < 0.5 and caught.value.path == path


def test_frames_declared_before_their_groups_raise_the_limit(tmp_path: Path) -> None:
    """300 frames allow 300,000 elements: 150,000 items of their groups are read."""
    data = image_data_set(frames=300, before_pixels=_empty_items(150_000, PER_FRAME_GROUPS))
    found = read_header(write_explicit(tmp_path / "many.dcm", data))
    assert found.pixel is not None and found.pixel.number_of_frames == 300


# --- bytes held ---------------------------------------------------------------------------------

def test_an_element_of_known_length_is_jumped_over_not_read(tmp_path: Path) -> None:
    """A private 3 GiB value before the pixel data (a sparse file): the pixel data is found at
    the offset the arithmetic gives, without reading the gigabytes."""
    before = image_data_set(with_pixels=False)
    cut = before.index(b"\xe0\x7f\x10\x00")  # the pixel data element
    big = 3 << 30
    prefix = file_meta("1.2.840.10008.1.2.1") + before[:cut] + element(0x00091010, "OB", b"", big)
    path = tmp_path / "sparse.dcm"
    with open(path, "wb") as handle:
        handle.write(prefix)
        handle.seek(len(prefix) + big)
        handle.write(before[cut:] + bytes(16))
    start = _cpu()
    found = read_header(path)
    assert _cpu() - start < 1
    assert found.pixel_data_offset == len(prefix) + big + 12
    assert found.pixel_data_length == 16 and found.series_uid == "1.2.3.5"


def test_the_file_ending_inside_a_jumped_element_is_truncated(tmp_path: Path) -> None:
    data = image_data_set(before_pixels=element(0x00091010, "OB", b"", 1 << 30))
    path = write_explicit(tmp_path / "cut.dcm", data)
    with pytest.raises(InvalidDicomError, match="truncated"):
        read_header(path)


def test_values_across_the_first_read_are_read_whole(tmp_path: Path) -> None:
    """A sequence of 100 KiB of undefined length, and a wanted value that starts 4 bytes
    before the end of the first 16 KiB read: the same values and pixel offset as pydicom."""
    blob = element(0x00091010, "OB", bytes(header.HEADER_BYTES - 150))
    big = sequence(0x00081140, [element(0x00081150, "UI", "1.2") + element(
        0x00091011, "OB", bytes(100 << 10))])
    for name, data in [("straddle", blob + element(0x0008103E, "LO", "across the boundary")),
                       ("sequence", big + element(0x0008103E, "LO", "after the sequence"))]:
        path = write_explicit(tmp_path / f"{name}.dcm",
                              image_data_set(in_group_8=data))
        found = read_header(path)
        ds = pydicom.dcmread(path)
        assert found.series_description == ds.SeriesDescription
        with open(path, "rb") as handle:
            handle.seek(found.pixel_data_offset)
            assert handle.read(found.pixel_data_length) == ds.PixelData


def test_a_sequence_longer_than_the_limit_is_refused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(header, "MAX_HEADER_BYTES", _MiB)
    inside = sequence(0x00081140, [element(0x00091011, "OB", bytes(2 * _MiB))])
    path = write_explicit(tmp_path / "long.dcm", image_data_set(in_group_8=inside))
    with pytest.raises(InvalidDicomError, match="MAX_HEADER_BYTES") as caught:
        read_header(path)
    assert caught.value.path == path
    small = sequence(0x00081140, [element(0x00091011, "OB", bytes(_MiB // 2))])
    assert read_header(write_explicit(tmp_path / "ok.dcm",
                                      image_data_set(in_group_8=small))).pixel is not None


# --- frames -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("frames", "side", "limit"), [
    (1_000_000, 1, "MAX_FRAMES"),  # 1 MB: 18 s of work without the limit
    (budgets.MAX_FRAMES + 1, 8, "MAX_FRAMES"),
    (budgets.SMALL_FRAME_COUNT + 1, 1, "MIN_FRAME_BYTES"),
])
def test_frame_counts_beyond_the_budget_are_refused(tmp_path: Path, frames: int, side: int,
                                                    limit: str) -> None:
    path = write_explicit(tmp_path / "frames.dcm",
                          image_data_set(rows=side, columns=side, frames=frames))
    start = _cpu()
    assert dicomio.list_series(path) == []
    (skipped,) = discover(path).skipped
    assert skipped.category == "unreadable" and limit in skipped.reason
    with pytest.raises(DicomIOError) as caught:
        dicomio.load_volume(path)
    assert path.name in str(caught.value)
    assert _cpu() - start < 5


def test_frame_counts_within_the_budget_are_read(tmp_path: Path) -> None:
    small = budgets.SMALL_FRAME_COUNT
    tiny = write_explicit(tmp_path / "tiny.dcm", image_data_set(rows=1, columns=1, frames=small))
    (info,) = dicomio.list_series(tiny)
    assert info.shape == (small, 1, 1)
    frames = 2 * small  # 64-byte frames: more than MIN_FRAME_BYTES each
    path = write_explicit(tmp_path / "many.dcm", image_data_set(rows=8, columns=8, frames=frames))
    (info,) = dicomio.list_series(path)
    assert info.shape == (frames, 8, 8)


# --- deflated data sets -------------------------------------------------------------------------

def _peak_of_reading(path: Path) -> dict:
    """Read the header of ``path`` in a fresh process: the error, and the peak memory.

    The peak is the process' own VmHWM: ``ru_maxrss`` survives ``exec`` on Linux, so a child of
    a large test worker would report the worker's peak."""
    code = (
        "import json, sys\n"
        "from dicomio.dicom.header import read_header\n"
        "try:\n"
        "    read_header(sys.argv[1]); error = None\n"
        "except Exception as exc:\n"
        "    error = [type(exc).__name__, str(exc)]\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1].split()\n"
        "peak = int(status[0]) * 1024\n"
        "print(json.dumps({'error': error, 'peak': peak}))\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, check=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    return json.loads(done.stdout)


def test_a_deflate_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """Six megabytes that inflate to 6 GiB of zeros after a 4 × 4 image's pixel data."""
    path = write_deflated(tmp_path / "bomb.dcm", image_data_set(), zeros=6 << 30)
    assert path.stat().st_size < 8 * _MiB
    result = _peak_of_reading(path)
    assert result["error"][0] == "CorruptDataError"
    assert str(path) in result["error"][1] and "decompression bomb" in result["error"][1]
    assert result["peak"] < 300 * _MiB


def test_a_deflate_bomb_before_the_pixel_data_is_refused_in_bounded_memory(
        tmp_path: Path) -> None:
    """An item of 4 GiB of zeros in a sequence of undefined length (a sequence is held
    whole): inflation stops at MAX_HEADER_BYTES."""
    item = b"\xfe\xff\x00\xe0" + b"\xf0\xff\xff\xff"
    opening = b"\x08\x00\x40\x11SQ\0\0\xff\xff\xff\xff" + item
    data = image_data_set(in_group_8=b"")
    cut = data.index(b"\x20\x00\x0e\x00")  # before SeriesInstanceUID: in group 0008's place
    path = tmp_path / "bomb.dcm"
    path.write_bytes(file_meta("1.2.840.10008.1.2.1.99")
                     + zero_run_deflate(data[:cut] + opening, 4 << 30))
    result = _peak_of_reading(path)
    assert result["error"][0] == "InvalidDicomError"
    assert "MAX_HEADER_BYTES" in result["error"][1] and str(path) in result["error"][1]
    assert result["peak"] < 300 * _MiB


@pytest.mark.parametrize("frames", [2 ** 31, 50_000], ids=["beyond MAX_FRAMES", "cannot fit"])
def test_a_deflate_bomb_of_frames_the_file_cannot_be_is_not_inflated(tmp_path: Path,
                                                                      frames: int) -> None:
    """2 GiB of zeros as the pixel data of a 512 x 512 image declaring 2**31 frames, or 50,000
    (13 GB): the file is unusable whatever the stream holds, and listing it does not inflate
    the gigabytes first (8 s of CPU, found by the seed-3 fuzz campaign)."""
    size = 2 << 30
    data = image_data_set(rows=512, columns=512, frames=frames, pixel_length=size,
                          with_pixels=False)
    path = write_deflated(tmp_path / "frames.dcm", data, zeros=size)
    start = _cpu()
    found = read_header(path)
    assert _cpu() - start < 0.5
    assert found.pixel is not None and found.pixel.number_of_frames == frames
    (skipped,) = discover(path).skipped
    assert "NumberOfFrames" in skipped.reason


def test_a_deflate_bomb_without_a_pixel_format_is_not_inflated(tmp_path: Path) -> None:
    """2 GiB of zeros as the pixel data of a file without Rows: it is no image whatever the
    stream holds, and reading its header does not inflate the gigabytes first (9 s of CPU per
    read, a hang of list_series found by the seed-4 fuzz campaign)."""
    size = 2 << 30
    data = image_data_set(rows=512, columns=512, pixel_length=size, with_pixels=False)
    rows = element(0x00280010, "US", struct.pack("<H", 512))
    assert data.count(rows) == 1
    path = write_deflated(tmp_path / "no-rows.dcm", data.replace(rows, b""), zeros=size)
    start = _cpu()
    found = read_header(path)
    assert _cpu() - start < 0.5
    assert found.pixel is None and found.pixel_data_length == size
    (skipped,) = discover(path).skipped
    assert "Rows" in skipped.reason


def test_deflated_pixel_data_declared_far_longer_than_its_frames_is_refused(
        tmp_path: Path) -> None:
    data = image_data_set(pixel_length=0xFFFFFFF0, with_pixels=False)
    path = write_deflated(tmp_path / "long.dcm", data, zeros=1 << 24)
    with pytest.raises(CorruptDataError, match="need 16") as caught:
        read_header(path)
    assert caught.value.path == path


def test_truncated_deflated_pixel_data_is_refused(tmp_path: Path) -> None:
    data = image_data_set(rows=64, columns=64, with_pixels=False)
    path = write_deflated(tmp_path / "short.dcm", data + bytes(1000))
    with pytest.raises(CorruptDataError, match="holds 1000 of its 4096 bytes"):
        read_header(path)


def test_deflated_files_within_the_ceiling_read_as_pydicom_reads_them(tmp_path: Path) -> None:
    """Three frames, then trailing padding (FFFC,FFFC) of 1000 bytes: within DEFLATE_SLACK."""
    padding = b"\xfc\xff\xfc\xffOB\0\0" + (1000).to_bytes(4, "little") + bytes(1000)
    path = write_deflated(tmp_path / "ok.dcm", image_data_set(frames=3) + padding)
    found = read_header(path)
    ds = pydicom.dcmread(path)
    assert found.pixel is not None and found.pixel.number_of_frames == ds.NumberOfFrames == 3
    assert found.pixel_data_length == len(ds.PixelData) == 48
    (info,) = dicomio.list_series(path)
    assert info.shape == (3, 4, 4)


def test_elements_out_of_proportion_to_the_frames_are_refused(tmp_path: Path) -> None:
    """150,000 empty items beside one 4 x 4 frame: under the absolute limit, but no image
    needs them, and parsing them as functional groups would cost seconds and gigabytes."""
    count = 150_000
    assert count < budgets.MAX_HEADER_ELEMENTS
    path = write_explicit(tmp_path / "items.dcm", image_data_set(in_group_8=_empty_items(count)))
    with pytest.raises(InvalidDicomError, match="max_elements") as caught:
        read_header(path)
    assert caught.value.path == path
    assert budgets.max_elements(1) == 100_000 and budgets.max_elements(500) == 500_000
    fewer = write_explicit(tmp_path / "fewer.dcm", image_data_set(in_group_8=_empty_items(9000)))
    assert read_header(fewer).pixel_data_length == 16
