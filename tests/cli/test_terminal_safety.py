"""Text from the data never reaches the terminal raw: escape sequences in a file name or a
SeriesDescription are shown as visible escapes, rich markup in a UID is printed, never parsed;
JSON keeps the exact text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.cli.console import printable, shown
from dicomio.testing.synthetic import SeriesSpec
from tests.support.dicom_files import rewrite

runner = CliRunner()

ESCAPE = "\x1b[31m"  # "everything after this is red", for a terminal
DESCRIPTION = f"head{ESCAPE}[/x][bold]\x9b2J\r\u202eevil"
UID = "1.2.3[/x].4"


@pytest.fixture
def hostile(make_series, tmp_path: Path) -> Path:
    """A series whose description holds escape sequences and markup, whose UID holds markup,
    and a slice and a junk file named with both (a name cannot hold a "/": ``[bold]``)."""
    folder = tmp_path / "data"
    written = make_series(SeriesSpec(shape=(3, 8, 10)), folder=folder)
    rewrite(written.files, SeriesDescription=DESCRIPTION, SeriesInstanceUID=UID)
    written.files[0].rename(folder / f"slice{ESCAPE}[bold]0.dcm")
    (folder / f"notes{ESCAPE}[bold].txt").write_text("not an image\n")
    return folder


def _no_raw_control(text: str) -> None:
    for forbidden in ("\x1b", "\x9b", "\r", "\u202e"):
        assert forbidden not in text


def test_printable_and_shown() -> None:
    assert printable("a\x1b[31mb\x07c\x9bd\u202ee\nf\tg") == \
        "a\\x1b[31mb\\x07c\\x9bd\\u202ee\\x0af\\x09g"
    assert printable("plain é ü 中") == "plain é ü 中"
    assert printable("junk\udcfe.txt") == "junk\\udcfe.txt"  # an undecodable byte of a name
    assert shown("[/x]\x1b") == "\\[/x]\\x1b"


def test_info_prints_them_visibly(hostile: Path) -> None:
    result = runner.invoke(app, ["info", str(hostile)])
    assert result.exit_code == 0, result.output
    _no_raw_control(result.output)
    assert "\\x1b[31m" in result.stdout and UID in result.stdout
    assert "notes\\x1b[31m[bold].txt" in result.stdout


def test_info_json_keeps_the_exact_text(hostile: Path) -> None:
    result = runner.invoke(app, ["info", str(hostile), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout  # escaped by JSON itself
    report = json.loads(result.stdout)
    [series] = report["series"]
    assert series["description"] == DESCRIPTION and series["uid"] == UID
    assert any(Path(s["path"]).name == f"notes{ESCAPE}[bold].txt" for s in report["skipped"])


def test_validate_prints_them_visibly(hostile: Path) -> None:
    result = runner.invoke(app, ["validate", str(hostile)])
    assert result.exit_code in (0, 1), result.output
    _no_raw_control(result.output)
    assert "Traceback" not in result.output and UID in result.stdout


def test_load_prints_a_markup_uid_and_escapes(hostile: Path) -> None:
    """``[/x]`` closes a tag that was never opened: printed as markup, it raised MarkupError."""
    result = runner.invoke(app, ["load", str(hostile)])
    assert result.exit_code == 0, result.output
    _no_raw_control(result.output)
    assert f"series: {UID}" in result.stdout


def test_an_error_naming_a_hostile_file_is_printed_visibly(tmp_path: Path) -> None:
    folder = tmp_path / f"scan{ESCAPE}[bold]"
    folder.mkdir()
    (folder / f"junk{ESCAPE}.txt").write_text("nothing\n")
    result = runner.invoke(app, ["load", str(folder)])
    assert result.exit_code == 2, result.output
    _no_raw_control(result.output)
    assert "scan\\x1b[31m[bold]" in result.stderr
