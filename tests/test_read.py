"""The read stage (dicomio.read.read_series): what load_volume and validate both read, and the
stored values counted beyond BitsStored from the one decode."""

from __future__ import annotations

import numpy as np
import pytest

import dicomio
from dicomio.backends.base import ReadOptions
from dicomio.backends.registry import get_spec
from dicomio.read import merged_per_file, read_series
from dicomio.testing.synthetic import DEFLATED, EXPLICIT_BE, EXPLICIT_LE, SeriesSpec
from tests.support.stored_bits import file_patterns, uses_high_bits

SMALL = SeriesSpec(shape=(4, 8, 10))
STORED = ReadOptions(rescale=False)


def test_read_series_reads_what_load_volume_loads(make_series) -> None:
    truth = make_series(SMALL, naming="uid")
    (series,) = dicomio.list_series(truth.folder)
    read = read_series(series, options=STORED)
    np.testing.assert_array_equal(read.array, truth.stored)
    assert (read.backend, read.decoders, read.skipped) == ("direct", ("native",), ())
    assert read.all_zero is None and read.out_of_range == {} and read.warnings == []
    volume = dicomio.load_volume(truth.folder, rescale=False)
    np.testing.assert_array_equal(volume.array, read.array)
    assert volume.provenance == read.provenance(series, series.frames, [])


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("syntax", [EXPLICIT_LE, EXPLICIT_BE, DEFLATED])
def test_counting_out_of_range_values_changes_no_value(make_series, signed: bool,
                                                       syntax: str) -> None:
    truth = make_series(SMALL.with_(high_bit_garbage=True, signed=signed, rescale_intercept=0,
                                    transfer_syntax=syntax))
    (series,) = dicomio.list_series(truth.folder)
    counted = read_series(series, options=STORED, count_out_of_range=True)
    np.testing.assert_array_equal(counted.array, truth.stored)
    np.testing.assert_array_equal(counted.array, read_series(series, options=STORED).array)
    byteorder = ">" if syntax == EXPLICIT_BE else "<"
    expected = {path: int(np.count_nonzero(uses_high_bits(file_patterns(path, byteorder), 12,
                                                          signed)))
                for path in truth.files}
    assert counted.out_of_range == {path: n for path, n in expected.items() if n}
    assert sum(expected.values()) > 0


@pytest.mark.parametrize("backend", ["direct", "pydicom"])
@pytest.mark.parametrize("syntax", [EXPLICIT_LE, EXPLICIT_BE, DEFLATED])
def test_backends_keep_high_bits_when_asked(make_series, backend: str, syntax: str) -> None:
    truth = make_series(SMALL.with_(high_bit_garbage=True, rescale_intercept=0,
                                    transfer_syntax=syntax))
    (series,) = dicomio.list_series(truth.folder)
    options = ReadOptions(rescale=False, keep_high_bits=True)
    array = get_spec(backend).reader().read(series, options).array
    byteorder = ">" if syntax == EXPLICIT_BE else "<"
    for k, path in enumerate(truth.files):
        np.testing.assert_array_equal(array[k].ravel(), file_patterns(path, byteorder))


def test_high_bits_are_kept_only_as_stored_values() -> None:
    with pytest.raises(ValueError, match="rescale=False"):
        ReadOptions(keep_high_bits=True)


def test_counting_needs_stored_values(make_series) -> None:
    (series,) = dicomio.list_series(make_series(SMALL).folder)
    with pytest.raises(ValueError, match="rescale=False"):
        read_series(series, count_out_of_range=True)


def test_the_same_warning_about_many_files_is_said_once() -> None:
    """Twenty files whose pixel data is too long: one warning counting them and naming the first
    three, where the first was; other warnings as they were, each once."""
    files = [f"/data/IM_{k:04d}" for k in range(20)]
    warnings = ["before", *[f"{f}: pixel data is 512 bytes, 32 more" for f in files], "before",
                f"{files[0]}: only this file", "/elsewhere: not one of the files"]
    assert merged_per_file(warnings, set(files)) == (
        "before",
        "pixel data is 512 bytes, 32 more (20 files: /data/IM_0000, /data/IM_0001, "
        "/data/IM_0002, ...)",
        "/data/IM_0000: only this file",
        "/elsewhere: not one of the files")


def test_a_load_says_a_warning_about_every_file_once(tmp_path) -> None:
    """Rows one less than the stored data in each of the 8 files of a series."""
    from tests.support.defects import DEFECTS

    defect = next(d for d in DEFECTS if d.name == "rows_decreased")
    defect.plant(tmp_path)
    warnings = dicomio.load_volume(tmp_path).provenance.warnings
    (said,) = [w for w in warnings if "more than its 1 frame(s)" in w]
    assert "(8 files: " in said and said.endswith(", ...)")

