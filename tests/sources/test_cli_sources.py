"""Every command takes a zip and a DICOMDIR where it takes a folder, and says what it read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.sources import archive_of, file_set_of, files_under

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli sources")
    write_series(root / "study" / "ct", SeriesSpec(shape=(4, 12, 10)))
    return {"zip": archive_of(root / "study", "zip", root / "study.zip"),
            "dicomdir": file_set_of(files_under(root / "study"), root / "cd")}


def _run(arguments: list[str]) -> str:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("kind", ["zip", "dicomdir"])
def test_every_command_takes_the_source(inputs: dict[str, Path], kind: str,
                                        tmp_path: Path) -> None:
    source = str(inputs[kind])
    info = json.loads(_run(["info", source, "--format", "json"]))
    assert len(info["series"]) == 1
    _run(["load", source])
    _run(["validate", source])
    _run(["preview", source, "-o", str(tmp_path / "preview.png")])
    assert (tmp_path / "preview.png").stat().st_size > 0
    _run(["convert", source, str(tmp_path / "volume.nii.gz")])
    assert (tmp_path / "volume.nii.gz").stat().st_size > 0
    _run(["convert", source, str(tmp_path / "all")])
    assert list((tmp_path / "all").rglob("*.nii.gz"))
    compared = _run(["compare", source, "--backends", "direct,pydicom"])
    assert "agree" in compared
