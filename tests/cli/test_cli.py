"""The command line of the core: --version, --help, sample, load."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"dicomio {dicomio.__version__}"


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "sample" in result.stdout and "load" in result.stdout


def test_sample_then_load(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", str(tmp_path / "s"), "--slices", "5", "--size", "16"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "s").iterdir())) == 5
    again = runner.invoke(app, ["sample", str(tmp_path / "s"), "--slices", "5", "--size", "16"])
    assert again.exit_code == 0 and len(list((tmp_path / "s").iterdir())) == 5
    result = runner.invoke(app, ["load", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["shape"] == [5, 16, 12]
    assert summary["dtype"] == "int16"
    assert summary["spacing"] == [1.25, 0.7, 0.9]
    assert summary["backend"] == "direct"


def test_load_error_exit_code_and_message(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(5, 8, 8)), skip=[2])
    result = runner.invoke(app, ["load", str(truth.folder)])
    assert result.exit_code == 1
    assert "GeometryError" in result.stderr and "MISSING_SLICE" in result.stderr
    result = runner.invoke(app, ["load", str(truth.folder), "--accept-irregular"])
    assert result.exit_code == 0 and "MISSING_SLICE" in result.stdout


def test_unknown_backend_is_a_usage_error(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(3, 8, 8)))
    result = runner.invoke(app, ["load", str(truth.folder), "--backend", "nope"])
    assert result.exit_code == 2
