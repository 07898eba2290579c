"""What backends read (stored images, each once) and how slices are assembled from them."""

from __future__ import annotations

import numpy as np
import pytest

import dicomio
from dicomio.dicom.frame import seconds
from dicomio.geometry.fourd import split_volumes
from dicomio.pixels.assembly import read_plan
from dicomio.testing.multiframe import write_4d, write_mosaic
from dicomio.testing.synthetic import SeriesSpec


def test_a_plain_series_is_read_as_it_is(make_series) -> None:
    (series,) = dicomio.list_series(make_series(SeriesSpec(shape=(3, 4, 5))).folder)
    plan = read_plan(series)
    assert plan.identity and plan.stored is series
    stored = np.arange(60).reshape(3, 4, 5)
    assert plan.assemble(stored) is stored  # no copy


def test_volumes_are_read_in_volume_then_slice_order(tmp_path) -> None:
    write_4d(tmp_path, SeriesSpec(shape=(3, 4, 5)), volumes=2)
    (series,) = dicomio.list_series(tmp_path)
    layout = split_volumes(series)
    frames = [f for volume in layout.volumes for f in volume]
    plan = read_plan(series, frames)
    assert plan.stored.frames == tuple(frames) and plan.stored.geometry is None
    assert "(volume, slice) order" in (plan.stored.geometry_problem or "")
    assert plan.identity  # the backend reads them in exactly that order


def test_mosaic_files_are_read_once_and_cut(tmp_path) -> None:
    truth = write_mosaic(tmp_path, descending=True)
    (series,) = dicomio.list_series(tmp_path)
    plan = read_plan(series)
    assert len(plan.stored.frames) == 1 and not plan.stored.is_mosaic and not plan.identity
    assert plan.stored.shape == (1, 36, 42)  # the whole mosaic: 3 x 3 tiles of 12 x 14
    assert plan.sources == (0,) * 5
    assert plan.stored.frames[0].position == plan.stored.frames[0].header.position  # corner
    assert [t.number for t in plan.tiles] == [4, 3, 2, 1, 0]  # stored head to foot
    whole = dicomio.load_volume(plan.stored, irregular="accept", rescale=False).array
    np.testing.assert_array_equal(plan.assemble(whole), truth.stored[0])


@pytest.mark.parametrize(("value", "expected"), [
    ("120000", 43200.0), ("083634.295", 30994.295), ("0836", 30960.0), ("", None),
    ("nonsense", None), ("20181022083634.295000", 1540197394.295),
    ("20140122111003.96+0100", 1390389003.96)])
def test_times_are_seconds(value: str, expected: float | None) -> None:
    assert seconds(value) == (pytest.approx(expected, abs=1e-6) if expected is not None
                              else None)
