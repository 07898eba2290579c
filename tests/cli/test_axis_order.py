"""Every size a command prints for people is slices × rows × columns, the array's order: never
rows × columns × slices beside it (compare printed both on one screen)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing.multiframe import write_4d
from dicomio.testing.synthetic import SeriesSpec, write_series

runner = CliRunner()

#: Slices, rows and columns all different, so that any other order shows.
SHAPE = (5, 16, 12)
OTHER = (4, 10, 8)
SIZE = re.compile(r"\b\d+×\d+×\d+(?:×\d+)?\b")


def size(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("axis order")
    write_series(root / "one", SeriesSpec(shape=SHAPE))
    write_series(root / "two" / "a", SeriesSpec(shape=SHAPE, series_number=1))
    write_series(root / "two" / "b", SeriesSpec(shape=OTHER, series_number=2))
    write_4d(root / "4d", SeriesSpec(shape=SHAPE, modality="MR"), volumes=3)
    return {"one": root / "one", "two": root / "two", "4d": root / "4d", "root": root}


def sizes(arguments: list[str], code: int = 0) -> list[str]:
    result = runner.invoke(app, arguments)
    assert result.exit_code == code, result.output
    return SIZE.findall(result.stdout + result.stderr)


def test_every_command_prints_slices_rows_columns(folders: dict[str, Path]) -> None:
    one, out = str(folders["one"]), folders["root"]
    outputs = {
        "info": sizes(["info", one]),
        "compare": sizes(["compare", one, "--backends", "direct,pydicom"]),
        "validate": sizes(["validate", one, "--workers", "1"]),
        "load": sizes(["load", one]),
        "convert": sizes(["convert", one, str(out / "one.npz")]),
        "convert into a folder": sizes(["convert", one, str(out / "folder"), "--workers",
                                        "1"]),
    }
    for command, found in outputs.items():
        assert found, f"{command} printed no size"
        assert set(found) == {size(SHAPE)}, f"{command} printed {found}"


def test_the_list_of_series_of_a_usage_error_too(folders: dict[str, Path]) -> None:
    found = sizes(["load", str(folders["two"])], code=2)
    assert sorted(found) == sorted([size(SHAPE), size(OTHER)])
    assert sizes(["info", str(folders["two"])], code=0) == [size(SHAPE), size(OTHER)]


def test_a_4d_series_is_one_volume_and_how_many(folders: dict[str, Path]) -> None:
    result = runner.invoke(app, ["info", str(folders["4d"])])
    assert result.exit_code == 0, result.output
    assert f"{size(SHAPE)}, 3 volumes" in result.stdout


def test_the_info_header_names_the_order(folders: dict[str, Path]) -> None:
    result = runner.invoke(app, ["info", str(folders["one"])])
    assert "slices×rows×cols" in result.stdout and "(slice, row, col)" in result.stdout
