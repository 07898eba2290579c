"""What every command shares (:mod:`dicomio.cli.console`): JSON that is never coloured nor
wrapped, and one mapping from dicomio's errors to exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec, write_series

runner = CliRunner()

# Everything that makes rich colour and draw: a forced terminal with 256 colours, and a width
# narrow enough that anything rich wraps would be wrapped.
COLOURED = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLORTERM": "truecolor",
            "COLUMNS": "40", "NO_COLOR": ""}


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_series(tmp_path_factory.mktemp("cli") / "series",
                        SeriesSpec(shape=(3, 8, 6))).folder


def run_coloured(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m dicomio ARGS`` in a fresh process, so that rich's consoles are created with
    colour forced on."""
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env.update({k: v for k, v in COLOURED.items() if v})
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return subprocess.run([sys.executable, "-m", "dicomio", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_colour_is_really_forced(series: Path) -> None:
    """The text output of the same process is coloured: the JSON tests below can fail."""
    result = run_coloured("info", str(series))
    assert result.returncode == 0, result.stderr
    assert "\x1b[" in result.stdout


@pytest.mark.parametrize("command", [
    ["info", "{series}", "--format", "json"],
    ["load", "{series}", "--json"],
    ["backends", "--format", "json"],
    ["compare", "{series}", "--backends", "direct", "--format", "json"],
    ["validate", "{series}", "--format", "json", "--workers", "1"],
    ["convert", "{series}", "{tmp}/out", "--to", "npz", "--json", "--workers", "1"],
], ids=lambda c: " ".join(a for a in c if "{" not in a))
def test_json_is_never_coloured(series: Path, tmp_path: Path, command: list[str]) -> None:
    result = run_coloured(*(a.format(series=series, tmp=tmp_path) for a in command))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert isinstance(json.loads(result.stdout), dict)


@pytest.mark.parametrize("command", [
    ["load", "{series}"],
    ["compare", "{series}"],
    ["preview", "{series}", "-o", "{tmp}/p.png"],
    ["convert", "{series}", "{tmp}/v.npz"],
    ["convert", "{series}", "{tmp}/folder", "--workers", "1"],
], ids=lambda c: " ".join(a for a in c if "{" not in a))
def test_an_unknown_backend_is_a_usage_error(series: Path, tmp_path: Path,
                                             command: list[str]) -> None:
    option = ["--backends"] if command[0] == "compare" else ["--backend"]
    args = [a.format(series=series, tmp=tmp_path) for a in command] + option + ["nope"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "unknown backend 'nope'" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # checked before anything is written


@pytest.mark.parametrize("command", [
    ["load", "{empty}"],
    ["compare", "{empty}"],
    ["preview", "{empty}", "-o", "{tmp}/p.png"],
    ["convert", "{empty}", "{tmp}/v.npz"],
], ids=lambda c: c[0])
def test_a_folder_without_dicom_is_a_usage_error(tmp_path: Path, command: list[str]) -> None:
    """Every command that needs one series says so alike (``load`` used to exit 1)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not DICOM\n")
    result = runner.invoke(app, [a.format(empty=empty, tmp=tmp_path) for a in command])
    assert result.exit_code == 2, result.output
    assert "NoDicomFilesError" in result.stderr and "notes.txt" in result.stderr
