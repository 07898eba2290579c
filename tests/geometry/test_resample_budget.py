"""irregular="resample" costs at most MAX_GROWTH times the voxels read: positions that drift
further are refused before anything is allocated.

The expected grid sizes come from the arithmetic of the written positions: a slice drifting by
``d`` mm in-plane at ``s`` mm per pixel moves ``d / s`` rows.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio.geometry.resample import MAX_GROWTH, regularize
from dicomio.testing.synthetic import SeriesSpec

TINY = SeriesSpec(shape=(3, 4, 4), pixel_spacing=(0.01, 0.01), slice_spacing=1.0,
                  rescale_intercept=0.0)


def test_three_tiny_files_cannot_ask_for_gigabytes(make_series) -> None:
    """Slices of 4 × 4 pixels, each 250,000 mm further in-plane than the last, at 0.01 mm per
    pixel: a grid of 3 × 50,000,004 × 4 float64 values (4.8 GB) without the limit."""
    drift = 2.5e5
    positions = np.array([[0.0, k * drift, float(k)] for k in range(3)])
    truth = make_series(TINY, positions=positions)
    assert all(path.stat().st_size < 2000 for path in truth.files)
    rows = 4 + round(2 * drift / 0.01)
    tracemalloc.start()
    try:
        with pytest.raises(dicomio.GeometryError, match=f"3x{rows}x4 voxels") as caught:
            dicomio.load_volume(truth.folder, irregular="resample")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"at most {MAX_GROWTH} times" in str(caught.value)
    assert peak < 50 << 20


def test_the_limit_is_the_number_of_voxels_read_times_max_growth() -> None:
    """4 × 4 slices shifted by whole rows: 3 slices of 4 + 2 × shift rows."""
    orientation, spacing = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (1.0, 1.0)
    array = np.ones((3, 4, 4), dtype=np.int16)
    fits = (MAX_GROWTH * 4 - 4) // 2  # rows made: 4 + 2 × fits <= MAX_GROWTH × 4
    result = regularize(array, np.array([[0.0, k * fits, k] for k in range(3)]), orientation,
                        spacing)
    assert result.array.shape == (3, 4 + 2 * fits, 4)
    over = fits + 1
    with pytest.raises(dicomio.GeometryError, match="times the 3x4x4 read") as caught:
        regularize(array, np.array([[0.0, k * over, k] for k in range(3)]), orientation,
                   spacing, path=Path("first.dcm"))
    assert caught.value.path == Path("first.dcm")


def test_positions_too_far_apart_to_compute_with_are_refused() -> None:
    array = np.ones((2, 4, 4), dtype=np.int16)
    positions = np.array([[0.0, -1.5e308, 0.0], [0.0, 1.5e308, 1.0]])
    with pytest.raises(dicomio.GeometryError, match="too far apart") as caught:
        regularize(array, positions, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (1.0, 1.0),
                   path=Path("a.dcm"))
    assert caught.value.path == Path("a.dcm")
