"""A folder with one unreadable DICOM file: every command that reads one series refuses it alike.

``compare`` used to choose the series with a copy of the selection that skipped the check for
unreadable files: it exited 0 ("agree") where ``load`` and ``preview`` failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec, write_series

runner = CliRunner()

# The documented exit code of a series that cannot be read as a volume (docs/cli.md).
DATA_PROBLEM = 1


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A 4-slice series and a copy of its first slice cut after 300 bytes: past the DICM
    preamble, so it is DICOM, but it ends inside its header."""
    written = write_series(tmp_path / "series", SeriesSpec(shape=(4, 16, 12)))
    (written.folder / "truncated.dcm").write_bytes(written.files[0].read_bytes()[:300])
    return written.folder


def test_the_truncated_copy_is_dicom_but_unreadable(folder: Path) -> None:
    from dicomio.series.choose import scan

    found, inventory = scan(folder)
    assert len(found) == 1 and found[0].n_slices == 4
    assert [(s.path.name, s.category) for s in inventory.skipped] == [
        ("truncated.dcm", "unreadable")]


@pytest.mark.parametrize("command", [
    ["load"],
    ["compare", "--backends", "direct"],
    ["compare", "--backends", "direct", "--format", "json"],
    ["preview", "-o", "{tmp}/preview.png"],
    ["convert", "{tmp}/volume.npz"],
], ids=lambda c: " ".join(c))
def test_every_command_reading_one_series_refuses_and_names_the_file(
    folder: Path, tmp_path: Path, command: list[str]
) -> None:
    args = [command[0], str(folder)] + [a.format(tmp=tmp_path) for a in command[1:]]
    result = runner.invoke(app, args)
    assert result.exit_code == DATA_PROBLEM, result.output
    assert "UnreadableFilesError" in result.stderr
    assert str(folder / "truncated.dcm") in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "preview.png").exists() and not (tmp_path / "volume.npz").exists()


def test_compare_exits_as_load_does(folder: Path) -> None:
    load = runner.invoke(app, ["load", str(folder)])
    compare = runner.invoke(app, ["compare", str(folder), "--backends", "direct"])
    assert compare.exit_code == load.exit_code != 0


def test_without_the_truncated_file_compare_agrees(folder: Path) -> None:
    (folder / "truncated.dcm").unlink()
    result = runner.invoke(app, ["compare", str(folder), "--backends", "direct"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.stdout
