"""``dicomio info``: the inventory, in text and JSON, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing import synthetic
from dicomio.testing.synthetic import SeriesSpec
from tests.support.schemas import check_schema

runner = CliRunner()


@pytest.fixture
def study(make_series, tmp_path: Path) -> Path:
    """Two series (axial CT, sagittal MR) and three files that are not images."""
    folder = tmp_path / "study"
    make_series(SeriesSpec(shape=(4, 10, 12), series_number=3, description="head"),
                folder=folder / "ct")
    make_series(SeriesSpec(shape=(3, 8, 8), orientation=synthetic.SAGITTAL, modality="MR",
                           series_number=7, description="sag t1", pixel_spacing=(0.5, 0.6),
                           slice_spacing=1.5), folder=folder / "mr")
    (folder / "notes.txt").write_text("not an image")
    (folder / "truncated.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00")
    return folder


def test_info_json_lists_series_and_skipped_files(study: Path) -> None:
    result = runner.invoke(app, ["info", str(study), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    check_schema("info", report)
    assert [s["number"] for s in report["series"]] == [3, 7]
    ct, mr = report["series"]
    assert (ct["rows"], ct["columns"], ct["slices"]) == (10, 12, 4)
    assert ct["orientation"] == "AXIAL" and mr["orientation"] == "SAGITTAL"
    assert mr["spacing"] == [1.5, 0.5, 0.6]
    assert mr["modality"] == "MR" and mr["description"] == "sag t1"
    assert ct["transfer_syntaxes"] == [{"uid": "1.2.840.10008.1.2.1",
                                        "name": "Explicit VR Little Endian"}]
    skipped = {Path(s["path"]).name: s for s in report["skipped"]}
    assert set(skipped) == {"notes.txt", "truncated.dcm"}
    assert skipped["notes.txt"]["category"] == "not_dicom"
    assert skipped["truncated.dcm"]["category"] == "unreadable"
    assert all(s["reason"] for s in report["skipped"])


def test_info_text_has_one_row_per_series_then_the_skipped(study: Path) -> None:
    result = runner.invoke(app, ["info", str(study)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "SeriesInstanceUID" in line)
    rows = [line for line in lines[head:] if "Explicit VR Little Endian" in line]
    assert len(rows) == 2
    assert "head" in rows[0] and "4×10×12" in rows[0] and "AXIAL" in rows[0]
    assert "sag t1" in rows[1] and "SAGITTAL" in rows[1] and "1.5 × 0.5 × 0.6" in rows[1]
    assert "skipped 2 file(s)" in result.stdout
    assert "notes.txt: not DICOM" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal


def test_info_shows_geometry_issues(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(6, 8, 8)), skip=[3])
    result = runner.invoke(app, ["info", str(truth.folder)])
    assert result.exit_code == 0
    assert "MISSING_SLICE" in result.stdout


def test_info_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    nothing = runner.invoke(app, ["info", str(tmp_path)])
    assert nothing.exit_code == 1
    assert "no DICOM series found" in nothing.stdout and "a.txt" in nothing.stdout
    as_json = runner.invoke(app, ["info", str(tmp_path), "-f", "json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["series"] == []
    missing = runner.invoke(app, ["info", str(tmp_path / "absent")])
    assert missing.exit_code == 2
    bad_format = runner.invoke(app, ["info", str(tmp_path), "--format", "xml"])
    assert bad_format.exit_code == 2


def test_schema_rejects_a_wrong_document(study: Path) -> None:
    report = json.loads(runner.invoke(app, ["info", str(study), "-f", "json"]).stdout)
    report["series"][0]["orientation"] = "UPSIDE DOWN"
    with pytest.raises(jsonschema.ValidationError):
        check_schema("info", report)


def test_info_shows_a_4d_series_as_volumes_of_its_slices(make_series, tmp_path: Path) -> None:
    spec = SeriesSpec(shape=(5, 8, 8), series_uid="1.2.3.44", slice_thickness=2.5)
    for t in range(3):
        make_series(spec.with_(seed=t), folder=tmp_path / "fmri" / f"t{t}")
    result = runner.invoke(app, ["info", str(tmp_path / "fmri"), "-q"])
    assert result.exit_code == 0
    assert "5×8×8, 3 volumes" in result.stdout
    assert "DUPLICATE_POSITION" not in result.stdout  # the repeats are its volumes
    report = json.loads(runner.invoke(app, ["info", str(tmp_path / "fmri"), "-f", "json"]
                                      ).stdout)
    check_schema("info", report)
    (entry,) = report["series"]
    assert (entry["kind"], entry["volumes"], entry["slices"]) == ("4d", 3, 15)
    assert entry["shape"] == [3, 5, 8, 8]  # as load_4d returns it, not all 15 images as one
    assert entry["spacing"][0] == spec.slice_spacing
