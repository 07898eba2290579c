"""Converting an archive never writes a volume that may miss slices: a series beside an
unreadable file (a damaged or truncated DICOM file) fails naming it; the others are written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dicomio.archive import convert_archive
from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec, WrittenSeries, write_series
from tests.support.schemas import check_schema

runner = CliRunner()

SMALL = SeriesSpec(shape=(6, 8, 10))


def _archive(root: Path) -> tuple[WrittenSeries, WrittenSeries]:
    """Two series in two folders; the last slice of the first is cut to 100 bytes (not even
    the DICM prefix is left), and a text file lies beside it."""
    damaged = write_series(root / "p1" / "damaged", SMALL.with_(series_number=1, seed=1))
    clean = write_series(root / "p2" / "clean", SMALL.with_(series_number=2, seed=2))
    damaged.files[-1].write_bytes(damaged.files[-1].read_bytes()[:100])
    (root / "p1" / "damaged" / "notes.txt").write_text("scanner notes\n")
    return damaged, clean


def _written(output: Path) -> list[str]:
    return sorted(p.relative_to(output).as_posix() for p in output.rglob("*.npz"))


@pytest.mark.parametrize("workers", [1, 2])
def test_the_series_beside_a_truncated_slice_is_not_written(tmp_path: Path, workers) -> None:
    damaged, clean = _archive(tmp_path / "archive")
    output = tmp_path / "out"
    report = convert_archive(tmp_path / "archive", output, format="npz", workers=workers)
    assert report.counts == {"written": 1, "failed": 1}
    assert not report.passed
    by_uid = {c.series.uid: c for c in report.series}
    refused, written = by_uid[damaged.series_uid], by_uid[clean.series_uid]
    assert refused.status == "failed" and refused.output is None
    assert refused.reason is not None and refused.reason.startswith("UnreadableFilesError")
    assert str(damaged.files[-1]) in refused.reason
    assert "damaged or truncated, named like the 5 DICOM images beside it: 100 bytes" in \
        refused.reason
    assert written.status == "written" and written.output is not None
    assert _written(output) == [written.output]
    assert written.output.startswith("p2/clean/2_")
    with np.load(output / written.output) as saved:
        assert saved["array"].shape == (6, 8, 10)
    assert [(s.path, s.category) for s in report.unreadable] == [(damaged.files[-1],
                                                                   "unreadable")]


def test_ignore_unreadable_writes_the_remaining_slices(tmp_path: Path) -> None:
    damaged, _ = _archive(tmp_path / "archive")
    output = tmp_path / "out"
    report = convert_archive(tmp_path / "archive", output, format="npz", workers=1,
                             ignore_unreadable=True)
    assert report.counts == {"written": 2, "failed": 0}
    assert not report.passed  # a file could still not be read
    (refused,) = [c for c in report.series if c.series.uid == damaged.series_uid]
    assert refused.output is not None
    with np.load(output / refused.output) as saved:
        assert saved["array"].shape == (5, 8, 10)


def test_a_damaged_file_in_another_folder_blocks_nothing(tmp_path: Path) -> None:
    """A series of the same folder is refused; one whose files lie elsewhere is written."""
    root = tmp_path / "archive"
    beside = write_series(root / "a", SMALL.with_(series_number=1, seed=1))
    write_series(root / "a", SMALL.with_(series_number=2, seed=2), naming="uid")
    apart = write_series(root / "b", SMALL.with_(series_number=3, seed=3))
    beside.files[0].write_bytes(b"")
    report = convert_archive(root, tmp_path / "out", format="npz", workers=1)
    status = {c.series.number: c.status for c in report.series}
    assert status == {1: "failed", 2: "failed", 3: "written"}
    assert _written(tmp_path / "out") == [next(c.output for c in report.series
                                               if c.series.uid == apart.series_uid)]


def test_cli_archive_convert_reports_the_refused_series(tmp_path: Path) -> None:
    damaged, clean = _archive(tmp_path / "archive")
    result = runner.invoke(app, ["convert", str(tmp_path / "archive"), str(tmp_path / "out"),
                                 "--to", "npz", "--workers", "1", "--json", "--reproducible"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    check_schema("convert", report)
    assert report["counts"] == {"written": 1, "failed": 1}
    rows = {row["uid"]: row for row in report["series"]}
    assert rows[damaged.series_uid]["status"] == "failed"
    assert str(damaged.files[-1]) in rows[damaged.series_uid]["reason"]
    assert rows[clean.series_uid]["status"] == "written"
    assert [s["path"] for s in report["skipped"] if s["category"] == "unreadable"] == [
        str(damaged.files[-1])]


def test_cli_single_series_convert_refuses_naming_the_file(tmp_path: Path) -> None:
    damaged, _ = _archive(tmp_path / "archive")
    target = tmp_path / "one.npz"
    result = runner.invoke(app, ["convert", str(damaged.folder), str(target)])
    assert result.exit_code == 1, result.output
    assert damaged.files[-1].name in result.output
    assert "Traceback" not in result.output
    assert not target.exists()


def test_cli_archive_convert_prints_a_multi_line_reason_as_lines(tmp_path: Path) -> None:
    """The refusal's message lists the unreadable files and the option on lines of their own:
    printed as indented lines, never as a literal ``\\x0a``; a control character from the data
    (an escape in a folder name) is still shown escaped."""
    damaged = write_series(tmp_path / "archive" / "p1" / "dam\x1b[2Jaged", SMALL.with_(seed=1))
    damaged.files[-1].write_bytes(damaged.files[-1].read_bytes()[:100])
    result = runner.invoke(app, ["convert", str(tmp_path / "archive"), str(tmp_path / "out"),
                                 "--to", "npz", "--workers", "1", "--reproducible"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    (start,) = [k for k, line in enumerate(lines) if "UnreadableFilesError" in line]
    assert lines[start].startswith("      UnreadableFilesError: ")
    assert lines[start].endswith("could not be read, so the volume could be incomplete:")
    assert lines[start + 1].startswith("          ") and lines[start + 1].endswith(
        "slice_005.dcm: damaged or truncated, named like the 5 DICOM images beside it: 100 "
        "bytes, too short to hold the DICM prefix")
    assert lines[start + 2] == "        Pass --ignore-unreadable to load the remaining files " \
                               "anyway."
    assert "\\x0a" not in result.stdout and "\x1b" not in result.stdout
    assert "dam\\x1b[2Jaged" in lines[start + 1]
