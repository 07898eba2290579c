"""The header scan: read-ahead when uncached, same results; every step (near) linear."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import dicomio
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
