"""The header scan in threads, and scaling: every step stays (near) linear in the files."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio import series as series_module
from dicomio.header import read_header
from dicomio.parallel import decode_workers, scan_workers, usable_cores
from dicomio.series import discover, group
from dicomio.synthetic import SAGITTAL, SeriesSpec


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


def test_threads_give_the_same_inventory_in_the_same_order(make_series, tmp_path, monkeypatch):
    root = _messy_folder(make_series, tmp_path)
    serial = discover(root, workers=1)
    threads_used = set()
    classify = series_module._classify

    def recording(entry):
        threads_used.add(threading.current_thread().name)
        return classify(entry)

    monkeypatch.setattr(series_module, "_SCAN_CHUNK", 2)  # many small tasks
    monkeypatch.setattr(series_module, "_classify", recording)
    threaded = discover(root, workers=6)
    assert any(name.startswith("dicomio-scan") for name in threads_used)
    assert [h.path for h in threaded.headers] == [h.path for h in serial.headers]
    assert threaded.headers == serial.headers
    assert threaded.skipped == serial.skipped
    assert {s.category for s in serial.skipped} == {"not_dicom", "unreadable", "other"}
    assert [(s.key, s.files) for s in group(threaded.headers)] == \
        [(s.key, s.files) for s in group(serial.headers)]


def test_threaded_scan_of_the_corpus_matches_a_serial_one(corpus) -> None:
    root = corpus("dicom2nifti")
    serial = dicomio.scan(root, workers=1)
    threaded = dicomio.scan(root, workers=8)
    assert [(s.key, s.files) for s in threaded[0]] == [(s.key, s.files) for s in serial[0]]
    assert threaded[1].skipped == serial[1].skipped


def test_workers_follow_the_usable_cores() -> None:
    cores = usable_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    assert decode_workers() == min(cores, 8)
    assert scan_workers() == min(2 * cores, 16)


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
