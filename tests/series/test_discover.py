"""The header scan: read-ahead when uncached, same results; every step (near) linear; a
damaged file of a series is unreadable, never passed over as "not DICOM"."""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.dicom.header import read_header
from dicomio.parallel import decode_workers, usable_cores
from dicomio.series import discover as discover_module
from dicomio.series import readahead
from dicomio.series.discover import discover
from dicomio.series.group import group
from dicomio.series.readahead import WaitProbe, read_ahead
from dicomio.testing.synthetic import SAGITTAL, SeriesSpec


def _messy_folder(make_series, tmp_path: Path) -> Path:
    """Two series (one nested), junk, a broken symlink, a symlink loop, a FIFO."""
    root = tmp_path / "messy"
    make_series(SeriesSpec(shape=(9, 8, 10)), folder=root, naming="uid")
    make_series(SeriesSpec(shape=(4, 8, 10), orientation=SAGITTAL, seed=3),
                folder=root / "sub" / "deeper", naming="instance")
    (root / "notes.txt").write_text("not an image\n")
    (root / "sub" / "zero.bin").write_bytes(b"")
    (root / "dangling").symlink_to(root / "nothing-here")
    (root / "sub" / "loop").symlink_to(root)
    os.mkfifo(root / "pipe")
    return root


def _force_read_ahead(monkeypatch) -> list[Path]:
    """Make every scan read ahead after 2 files; return the paths the helper advised."""
    advised: list[Path] = []

    @contextmanager
    def recording(paths, nbytes):
        advised.extend(paths)
        with read_ahead(paths, nbytes):
            yield

    monkeypatch.setattr(discover_module, "PROBE_FILES", 2)
    monkeypatch.setattr(readahead, "_CACHED_WAIT", -1.0)  # any pace looks uncached
    monkeypatch.setattr(discover_module, "read_ahead", recording)
    return advised


def test_read_ahead_gives_the_same_inventory_in_the_same_order(make_series, tmp_path,
                                                                monkeypatch) -> None:
    root = _messy_folder(make_series, tmp_path)
    plain = discover(root, workers=1)
    advised = _force_read_ahead(monkeypatch)
    ahead = discover(root)
    assert advised and all(isinstance(p, Path) for p in advised)
    assert [h.path for h in ahead.headers] == [h.path for h in plain.headers]
    assert ahead.headers == plain.headers
    assert ahead.skipped == plain.skipped
    assert {s.category for s in plain.skipped} == {"not_dicom", "unreadable", "other"}
    assert [(s.key, s.files) for s in group(ahead.headers)] == \
        [(s.key, s.files) for s in group(plain.headers)]


def test_one_worker_never_starts_a_helper(make_series, tmp_path, monkeypatch) -> None:
    root = _messy_folder(make_series, tmp_path)
    advised = _force_read_ahead(monkeypatch)
    discover(root, workers=1)
    assert advised == []


def test_the_helper_advises_the_kernel_and_stops(tmp_path, monkeypatch) -> None:
    paths = [tmp_path / f"f{i}" for i in range(5)]
    for path in paths:
        path.write_bytes(bytes(100))
    calls = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, length, advice:
                        calls.append((offset, length, advice)))
    with read_ahead([*paths, tmp_path / "missing"], 4096):
        deadline = time.monotonic() + 10
        while len(calls) < 5 and time.monotonic() < deadline:
            time.sleep(0.001)
    assert calls == [(0, 4096, os.POSIX_FADV_WILLNEED)] * 5  # the missing file is skipped
    calls.clear()
    with read_ahead(paths * 20_000, 4096):
        pass  # the scan is over: the helper stops early
    assert len(calls) < 100_000
    assert not any(t.name == "dicomio-readahead" for t in threading.enumerate())


def test_waiting_is_told_from_working() -> None:
    with WaitProbe() as idle:
        time.sleep(0.05)
    assert idle.uncached(32)
    with WaitProbe() as busy:
        sum(range(200_000))
    assert not busy.uncached(1000)  # CPU-bound: (almost) no wait
    assert not idle.uncached(0)


def test_read_ahead_scan_of_the_corpus_matches_a_plain_one(corpus, monkeypatch) -> None:
    root = corpus("dicom2nifti")
    plain = dicomio.scan(root, workers=1)
    _force_read_ahead(monkeypatch)
    ahead = dicomio.scan(root)
    assert [(s.key, s.files) for s in ahead[0]] == [(s.key, s.files) for s in plain[0]]
    assert ahead[1].skipped == plain[1].skipped


def test_decode_workers_follow_the_usable_cores() -> None:
    cores = usable_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    assert decode_workers() == min(cores, 8)


def _best_time(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def test_grouping_and_sorting_scale_linearly(make_series) -> None:
    """8x the slices must cost far less than 64x (quadratic): a loose bound against noise."""
    template = read_header(make_series(SeriesSpec(shape=(1, 4, 4))).files[0])

    def headers(n: int) -> list:
        rng = np.random.default_rng(n)
        return [replace(template, sop_instance_uid=f"1.2.3.{i}", instance_number=i,
                        position=(0.0, 0.0, float(z)))
                for i, z in enumerate(rng.permutation(n))]

    small, large = headers(1000), headers(8000)
    (stack,) = group(large)
    assert stack.n_slices == 8000 and stack.geometry is not None and stack.geometry.regular
    ratio = _best_time(lambda: group(large)) / _best_time(lambda: group(small))
    assert ratio < 24, f"8x the slices took {ratio:.1f}x the time"


@pytest.mark.slow
def test_loading_scales_linearly_with_the_files(make_series) -> None:
    """From files to volume, 2000 slices cost about 5x 400 slices (quadratic would be 25x)."""
    small = make_series(SeriesSpec(shape=(400, 16, 16)), naming="uid")
    large = make_series(SeriesSpec(shape=(2000, 16, 16)), naming="uid")
    for written in (small, large):
        volume = dicomio.load_volume(written.folder)
        np.testing.assert_array_equal(volume.array, written.modality_values())
    ratio = (_best_time(lambda: dicomio.load_volume(large.folder))
             / _best_time(lambda: dicomio.load_volume(small.folder)))
    assert ratio < 12, f"5x the files took {ratio:.1f}x the time"


# --- damaged files of a series -------------------------------------------------------------------

SMALL = SeriesSpec(shape=(6, 8, 10))


def _truncated(size: int, n: int) -> str:
    """The reason expected for the last of ``n`` slices cut to ``size`` bytes."""
    detail = ("empty file (0 bytes)" if size == 0
              else f"{size} bytes, too short to hold the DICM prefix")
    return f"damaged or truncated, named like the {n - 1} DICOM images beside it: {detail}"


@pytest.mark.parametrize("naming", ["instance", "uid", "position"])
@pytest.mark.parametrize("size", [0, 1, 100, 131])
def test_a_truncated_last_slice_is_unreadable(make_series, naming, size) -> None:
    written = make_series(SMALL, naming=naming)
    last = written.files[-1]
    last.write_bytes(last.read_bytes()[:size])
    (written.folder / "notes.txt").write_text("scanner notes\n")
    inventory = discover(written.folder)
    assert len(inventory.headers) == 5
    reasons = {s.path.name: (s.category, s.reason) for s in inventory.skipped}
    assert reasons == {last.name: ("unreadable", _truncated(size, 6)),
                       "notes.txt": ("not_dicom", "not DICOM: no DICM preamble and does not "
                                                  "start like a DICOM data set")}


def test_the_naming_pattern_ignores_digit_runs_and_case(tmp_path, make_series) -> None:
    """IM_0007 beside IM_0001..IM_0006, UID names beside UID names; the neighbours of other
    patterns, and of other folders, prove nothing."""
    written = make_series(SMALL, naming="instance", folder=tmp_path / "a")
    for number, path in enumerate(sorted(written.files, key=lambda p: int(p.name[2:]))):
        path.rename(path.with_name(f"IM_{number + 1:04d}"))
    (tmp_path / "a" / "im_0007").write_bytes(bytes(40))
    uid_named = make_series(SMALL, naming="uid", folder=tmp_path / "b")
    (tmp_path / "b" / "1.3.12.2.1107.5.2.32.35162.2012031212.dcm").write_bytes(b"")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "IM_0008").write_bytes(b"")  # no image beside it: not evidence
    for junk in ("README", "IM_0001.json", "IM_0001.nii", "IM_0009.gz", "LICENSE",
                 "notes-2024.txt"):
        (tmp_path / "a" / junk).write_text("{}")
    inventory = discover(tmp_path)
    categories = {s.path.relative_to(tmp_path).as_posix(): s.category for s in inventory.skipped}
    assert categories == {
        "a/im_0007": "unreadable",
        "b/1.3.12.2.1107.5.2.32.35162.2012031212.dcm": "unreadable",
        "c/IM_0008": "not_dicom",
        **{f"a/{junk}": "not_dicom" for junk in ("README", "IM_0001.json", "IM_0001.nii",
                                                  "IM_0009.gz", "LICENSE", "notes-2024.txt")}}
    assert len(inventory.headers) == 2 * len(uid_named.files)


@pytest.mark.parametrize("name", ["scout.dcm", "SCOUT.IMA", "x.dicom", "x.dc3", "x.Dic"])
def test_a_dicom_file_ending_on_a_cut_preamble_is_evidence_enough(tmp_path, name) -> None:
    """Named as DICOM and empty, or blank where the 128-byte preamble of a DICOM file is."""
    suffix = name[name.rindex("."):]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / name).write_bytes(b"\0" * 64)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / name).write_bytes(b"")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / name).write_bytes(b"\0" * 128 + b"JUNK" + bytes(range(256)))
    for folder in "abc":
        (tmp_path / folder / "notes.txt").write_bytes(b"\0" * 64)
        (tmp_path / folder / "image.png").write_bytes(b"")
    skipped = {s.path.relative_to(tmp_path).as_posix(): (s.category, s.reason)
               for s in discover(tmp_path).skipped}
    blank = f"damaged or truncated, named as DICOM ({suffix}), its first bytes a blank preamble"
    assert skipped == {
        f"a/{name}": ("unreadable", f"{blank}: 64 bytes, too short to hold the DICM prefix"),
        f"b/{name}": ("unreadable", f"damaged or truncated, named as DICOM ({suffix}): empty "
                                    f"file (0 bytes)"),
        f"c/{name}": ("unreadable", f"{blank}: {128 + 4 + 256} bytes, no DICM preamble and "
                                    f"does not start like a DICOM data set"),
        **{f"{folder}/{junk}": ("not_dicom", reason) for folder in "abc"
           for junk, reason in [("notes.txt", "not DICOM: no DICM preamble and does not start "
                                              "like a DICOM data set"),
                                ("image.png", "not DICOM: empty file (0 bytes)")]}}


def test_junk_that_merely_ends_in_dcm_is_not_a_lost_slice(make_series) -> None:
    """Text or noise named ``.dcm``, not named like the images: no preamble, no evidence."""
    written = make_series(SMALL)
    (written.folder / "notes.dcm").write_text("not dicom at all")
    (written.folder / "noise.dcm").write_bytes(np.random.default_rng(1).bytes(5000))
    categories = {s.path.name: s.category for s in discover(written.folder).skipped}
    assert categories == {"notes.dcm": "not_dicom", "noise.dcm": "not_dicom"}
    assert dicomio.load_volume(written.folder).shape == (6, 8, 10)


def test_a_long_damaged_file_says_what_its_content_is(make_series) -> None:
    written = make_series(SMALL)
    last = written.files[-1]
    last.write_bytes(b"\xff" * 500)  # overwritten: the length is kept, the prefix lost
    (skipped,) = discover(written.folder).skipped
    assert skipped.category == "unreadable"
    assert skipped.reason == ("damaged or truncated, named like the 5 DICOM images beside it: "
                              "500 bytes, no DICM preamble and does not start like a DICOM "
                              "data set")


def test_a_non_image_the_header_reader_cannot_walk_is_not_a_lost_slice(make_series) -> None:
    """A big-endian data set without file meta (a retired encoding): pydicom reads it as a
    structured report, so it is a DICOM object without pixel data, not a damaged image."""
    written = make_series(SMALL)
    report = pydicom.Dataset()
    report.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR Storage
    report.SOPInstanceUID = pydicom.uid.generate_uid()
    report.Modality = "SR"
    path = written.folder / "slice_900.dcm"
    report.save_as(path, implicit_vr=False, little_endian=False, enforce_file_format=False)
    assert path.read_bytes()[:2] == b"\x00\x08" and b"DICM" not in path.read_bytes()
    (skipped,) = discover(written.folder).skipped
    assert (skipped.category, skipped.reason) == (
        "no_pixel_data", "no pixel data (Basic Text SR Storage; an encoding without file meta "
                         "information read by pydicom)")


def test_the_archive_units_see_the_same_damaged_files(make_series, tmp_path) -> None:
    """The archive indexes the files directly in a folder apart from its subfolders."""
    top = make_series(SMALL, folder=tmp_path / "archive", naming="instance")
    nested = make_series(SMALL.with_(seed=2), folder=tmp_path / "archive" / "sub")
    for written in (top, nested):
        written.files[-1].write_bytes(b"")
    whole = discover(tmp_path / "archive").unreadable
    per_folder = (discover(tmp_path / "archive", recursive=False).unreadable
                  + discover(tmp_path / "archive" / "sub").unreadable)
    assert [s.path for s in whole] == [s.path for s in per_folder] == [top.files[-1],
                                                                       nested.files[-1]]


def test_load_volume_refuses_a_series_with_a_truncated_slice(make_series) -> None:
    written = make_series(SMALL)
    written.files[-1].write_bytes(written.files[-1].read_bytes()[:100])
    with pytest.raises(dicomio.UnreadableFilesError, match=written.files[-1].name) as info:
        dicomio.load_volume(written.folder)
    assert [s.path for s in info.value.skipped] == [written.files[-1]]
    volume = dicomio.load_volume(written.folder, ignore_unreadable=True)
    assert volume.shape == (5, 8, 10)
    assert any(written.files[-1].name in w for w in volume.provenance.warnings)


def test_validate_fails_on_a_truncated_slice(make_series) -> None:
    written = make_series(SMALL)
    (written.folder / "notes.txt").write_text("scanner notes\n")
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(written.folder)]).exit_code == 0
    written.files[-1].write_bytes(b"")
    result = runner.invoke(app, ["validate", str(written.folder), "-f", "json"])
    assert result.exit_code == 1, result.output
    findings = {f["code"]: f for f in json.loads(result.stdout)["findings"]}
    assert set(findings) == {"UNREADABLE_FILE", "SKIPPED_FILE"}
    assert findings["UNREADABLE_FILE"]["severity"] == "error"
    assert findings["UNREADABLE_FILE"]["files"] == [str(written.files[-1])]
    assert _truncated(0, 6) in findings["UNREADABLE_FILE"]["message"]
    assert findings["SKIPPED_FILE"]["severity"] == "info"
