"""The public functions refuse argument values they do not take, before reading anything: a typo
never silently behaves like another value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio.errors import InvalidArgumentError, UnknownBackendError
from dicomio.pixels.decoders import DECODER_NAMES
from dicomio.testing.synthetic import SeriesSpec, write_series

LOADERS = {"load_volume": dicomio.load_volume, "load_4d": dicomio.load_4d}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("arguments") / "series"
    write_series(target, SeriesSpec(shape=(3, 8, 8)))
    return target


BAD_LOAD_ARGUMENTS = [
    ("irregular", "Resample"), ("irregular", "yes"), ("irregular", None),
    ("workers", 0), ("workers", -2), ("workers", 1.5), ("workers", True), ("workers", "4"),
    ("decoder", "nonsense"), ("decoder", "IMAGECODECS"), ("decoder", 3),
    ("rescale", "no"), ("rescale", 0), ("ignore_unreadable", "yes"),
    ("follow_symlinks", 1), ("series", 1.0), ("series", True), ("series", [0]),
    ("tolerances", {"duplicate": 0.1}),
]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize(("name", "value"), BAD_LOAD_ARGUMENTS,
                         ids=[f"{n}={v!r}" for n, v in BAD_LOAD_ARGUMENTS])
def test_a_loader_refuses_a_value_it_does_not_take(folder: Path, loader: str, name: str,
                                                   value: object) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        LOADERS[loader](folder, **{name: value})
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, dicomio.DicomIOError)
    message = str(raised.value)
    assert message.startswith(f"{name} must be") and repr(value) in message, message


@pytest.mark.parametrize("loader", LOADERS)
def test_the_refusal_comes_before_any_file_is_read(tmp_path: Path, loader: str) -> None:
    # The path does not exist: reading it would raise NoDicomFilesError.
    with pytest.raises(InvalidArgumentError, match="irregular must be one of 'raise', "
                                                   "'accept', 'resample', not 'Resample'"):
        LOADERS[loader](tmp_path / "nothing here", irregular="Resample")
    with pytest.raises(UnknownBackendError, match="choose one of auto, direct"):
        LOADERS[loader](tmp_path / "nothing here", backend="nope")


@pytest.mark.parametrize(("name", "value"), [
    ("irregular", "accept"), ("workers", 1), ("workers", np.int64(2)), ("workers", None),
    ("decoder", "imagecodecs"), ("decoder", "pydicom/pylibjpeg"), ("rescale", np.bool_(False)),
    ("series", 0), ("series", np.int32(0)), ("series", "0"),
])
def test_the_values_it_takes_load(folder: Path, name: str, value: object) -> None:
    assert dicomio.load_volume(folder, **{name: value}).shape == (3, 8, 8)


def test_every_decoder_name_is_taken(folder: Path) -> None:
    # Native data needs no decoder: any decoder's name, installed or not, is accepted.
    for name in DECODER_NAMES:
        assert dicomio.load_volume(folder, decoder=name).shape == (3, 8, 8)


@pytest.mark.parametrize("function", [dicomio.list_series, dicomio.scan, dicomio.discover])
@pytest.mark.parametrize(("name", "value"), [("workers", 0), ("workers", "2"),
                                             ("follow_symlinks", "no")])
def test_listing_refuses_them_too(folder: Path, function, name: str, value: object) -> None:
    with pytest.raises(InvalidArgumentError, match=f"^{name} must be"):
        function(folder, **{name: value})


def test_scan_refuses_tolerances_of_another_type(folder: Path) -> None:
    for function in (dicomio.list_series, dicomio.scan):
        with pytest.raises(InvalidArgumentError, match="tolerances must be a Geometry"):
            function(folder, tolerances=0.1)


def test_discover_refuses_a_recursive_that_is_not_a_bool(folder: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="recursive must be True or False"):
        dicomio.discover(folder, recursive="false")
