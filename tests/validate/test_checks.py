"""``dicomio validate``: each finding code on a series made to show it, formats, exit codes."""

from __future__ import annotations

import json
import shutil
from xml.etree import ElementTree as ET

import numpy as np
import pydicom
import pytest
from junitparser import JUnitXml
from typer.testing import CliRunner

from dicomio import list_series, load_volume
from dicomio.cli import app
from dicomio.pixels.values import count_out_of_range
from dicomio.testing import synthetic
from dicomio.testing.synthetic import SeriesSpec
from dicomio.validate.checks import validate_series
from dicomio.validate.config import ValidationConfig
from dicomio.validate.findings import CODES, Finding
from dicomio.validate.report import validate
from tests.support.corpus import REPOSITORY
from tests.support.dicom_files import as_mpeg2, rewrite
from tests.support.schemas import check_schema

runner = CliRunner()
SMALL = SeriesSpec(shape=(5, 8, 10))


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


# --- one code at a time --------------------------------------------------------------------------

def test_a_clean_series_has_no_finding(make_series) -> None:
    truth = make_series(SMALL)
    report = validate(truth.folder)
    assert report.passed and report.all_findings == []
    assert [s.series.n_slices for s in report.series] == [5]


def test_missing_slice_names_the_files_around_the_gap(make_series) -> None:
    truth = make_series(SMALL, skip=[2])
    report = validate(truth.folder)
    (finding,) = report.all_findings
    assert finding.code == "MISSING_SLICE" and finding.severity == "error"
    assert finding.files == (str(truth.files[1]), str(truth.files[2]))
    assert finding.series == truth.series_uid
    assert not report.passed


def test_gantry_tilt_and_thickness_mismatch(make_series) -> None:
    tilted = make_series(SMALL.with_(tilt_degrees=12))
    assert codes(validate(tilted.folder).all_findings) == {"GANTRY_TILT"}
    thick = make_series(SMALL.with_(slice_thickness=5.0))
    report = validate(thick.folder)
    (finding,) = report.all_findings
    assert (finding.code, finding.severity) == ("THICKNESS_SPACING_MISMATCH", "info")
    assert "5 mm" in finding.message and f"{SMALL.slice_spacing:g} mm apart" in finding.message
    assert validate(thick.folder, ValidationConfig(fail_on="warning")).passed
    raised = ValidationConfig(fail_on="warning",
                              severity={"THICKNESS_SPACING_MISMATCH": "warning"})
    assert not validate(thick.folder, raised).passed


def test_a_4d_series_is_information_not_an_error(make_series, tmp_path) -> None:
    make_series(SMALL.with_(series_uid="1.2.3.4"), folder=tmp_path / "x" / "t0")
    make_series(SMALL.with_(series_uid="1.2.3.4", seed=1), folder=tmp_path / "x" / "t1")
    report = validate(tmp_path / "x")
    (finding,) = report.all_findings
    assert (finding.code, finding.severity) == ("FOUR_D", "info")
    assert "2 volumes of 5 slices" in finding.message
    assert report.passed
    (entry,) = report.to_dict()["series"]
    assert (entry["kind"], entry["volumes"]) == ("4d", 2)
    assert entry["spacing"][0] == SMALL.slice_spacing  # not the step between repeats


def test_repeated_positions_that_are_not_volumes(make_series, tmp_path) -> None:
    make_series(SMALL.with_(series_uid="1.2.3.4"), folder=tmp_path / "x" / "t0")
    make_series(SMALL.with_(series_uid="1.2.3.4", shape=(3, 8, 10), seed=1),
                folder=tmp_path / "x" / "t1")  # 5 positions, 3 of them twice
    report = validate(tmp_path / "x")
    (finding,) = report.all_findings
    assert (finding.code, finding.severity) == ("DUPLICATE_POSITION", "error")
    assert "not a 4-D series" in finding.message and not report.passed


def test_copies_of_a_file_are_dropped_once_noted(make_series) -> None:
    first = make_series(SMALL)
    for name in ("copy.dcm", "copy2.dcm"):
        shutil.copy(first.files[0], first.folder / name)
    report = validate(first.folder)
    (finding,) = report.all_findings
    assert (finding.code, finding.severity) == ("DUPLICATE_FILE", "info")
    assert "copy.dcm" in finding.message and "copy2.dcm" in finding.message
    assert report.series[0].series.n_slices == 5


def test_different_images_sharing_a_sop_instance_uid(make_series) -> None:
    truth = make_series(SMALL)
    uid = pydicom.dcmread(truth.files[0]).SOPInstanceUID
    rewrite(truth.files[1:4], lambda ds: setattr(ds, "SOPInstanceUID", uid))
    report = validate(truth.folder)
    (finding,) = report.all_findings
    assert (finding.code, finding.severity) == ("SHARED_SOP_INSTANCE_UID", "error")
    assert finding.n_files == 4 and set(finding.files) == {str(f) for f in truth.files[:4]}
    assert not report.passed
    # Every image is kept: the volume is whole.
    assert load_volume(truth.folder).shape == (5, 8, 10)


def test_each_code_is_reported_once_per_series_with_its_files_counted(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(40, 4, 4)))
    uid = pydicom.dcmread(truth.files[0]).SOPInstanceUID
    rewrite(truth.files[1:30], lambda ds: setattr(ds, "SOPInstanceUID", uid))
    for index, path in enumerate(truth.files):  # 40 copies: one finding, 20 files listed
        shutil.copy(path, truth.folder / f"copy_{index:02d}.dcm")
    findings = validate(truth.folder).all_findings
    assert sorted(f.code for f in findings) == ["DUPLICATE_FILE", "SHARED_SOP_INSTANCE_UID"]
    for finding in findings:
        assert len(finding.files) == 20 and finding.n_files >= 30
        assert finding.to_dict()["n_files"] == finding.n_files


def test_mixed_orientation_and_shape_within_one_series(make_series, tmp_path) -> None:
    make_series(SMALL.with_(series_uid="1.2.3.5"), folder=tmp_path / "mix" / "axial")
    make_series(SMALL.with_(series_uid="1.2.3.5", orientation=synthetic.SAGITTAL,
                            shape=(3, 12, 12)), folder=tmp_path / "mix" / "sagittal")
    report = validate(tmp_path / "mix")
    assert len(report.series) == 2
    for entry in report.series:
        assert {"MIXED_ORIENTATION", "MIXED_SHAPE"} <= codes(entry.findings)
    assert report.passed  # warnings by default


def test_multiple_series_in_one_folder_is_information(make_series, tmp_path) -> None:
    make_series(SMALL, folder=tmp_path / "flat")
    make_series(SMALL.with_(series_number=2), folder=tmp_path / "flat", naming="uid")
    report = validate(tmp_path / "flat")
    (finding,) = report.findings
    assert (finding.code, finding.severity) == ("MULTIPLE_SERIES", "info")
    assert finding.files == (str(tmp_path / "flat"),)
    strict = ValidationConfig(severity={"MULTIPLE_SERIES": "error"})
    assert not validate(tmp_path / "flat", strict).passed


def test_files_that_are_not_images(make_series, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("nothing here")
    report = validate(tmp_path / "empty")
    assert [f.code for f in report.findings] == ["NO_DICOM", "SKIPPED_FILE"]
    assert report.findings[0].severity == "error" and not report.passed
    truth = make_series(SMALL)
    (truth.folder / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x01")
    report = validate(truth.folder)
    (finding,) = report.findings
    assert finding.code == "UNREADABLE_FILE" and finding.files == (
        str(truth.folder / "broken.dcm"),)


def test_missing_geometry(make_series) -> None:
    truth = make_series(SMALL)
    rewrite(truth.files[:1], lambda ds: delattr(ds, "ImagePositionPatient"))
    (finding,) = validate(truth.folder).all_findings
    assert finding.code == "MISSING_GEOMETRY" and "ImagePositionPatient" in finding.message


def test_unsupported_syntax_and_missing_decoder(make_series, monkeypatch) -> None:
    video = make_series(SMALL)

    rewrite(video.files, as_mpeg2)
    (finding,) = validate(video.folder).all_findings
    assert finding.code == "UNSUPPORTED_TRANSFER_SYNTAX" and "MPEG2" in finding.message
    assert len(finding.files) == 5

    rle = make_series(SMALL.with_(transfer_syntax=synthetic.RLE))
    import dicomio.pixels.decoders

    monkeypatch.setattr(dicomio.pixels.decoders, "iter_decoders", lambda syntax, fmt=None: iter(()))
    (finding,) = validate(rle.folder).all_findings
    assert finding.code == "MISSING_DECODER" and "RLE Lossless" in finding.message


def test_decode_failure_is_a_finding_not_an_exception(make_series) -> None:
    truth = make_series(SMALL)
    data = truth.files[3].read_bytes()
    truth.files[3].write_bytes(data[:-40])
    (finding,) = validate(truth.folder).all_findings
    assert finding.code == "DECODE_FAILED"
    assert finding.files == (str(truth.files[3]),) and "truncated" in finding.message
    headers_only = validate(truth.folder, ValidationConfig(pixels=False))
    assert headers_only.all_findings == []


def test_all_zero_pixels(make_series) -> None:
    truth = make_series(SMALL)
    rewrite(truth.files, lambda ds: setattr(ds, "PixelData", bytes(len(ds.PixelData))))
    (finding,) = validate(truth.folder).all_findings
    assert (finding.code, finding.severity) == ("ALL_ZERO_PIXELS", "warning")


@pytest.mark.parametrize("signed", [False, True])
def test_values_beyond_bits_stored(make_series, signed: bool) -> None:
    spec = SMALL.with_(high_bit_garbage=True, signed=signed, rescale_intercept=0)
    truth = make_series(spec)
    (finding,) = validate(truth.folder).all_findings
    assert finding.code == "VALUES_OUT_OF_RANGE" and "BitsStored=12" in finding.message
    assert set(finding.files) <= {str(f) for f in truth.files}
    clean = make_series(spec.with_(high_bit_garbage=False))
    assert validate(clean.folder).all_findings == []


def test_count_out_of_range_reads_bit_patterns() -> None:
    from dicomio.dicom.types import PixelFormat

    unsigned = PixelFormat(1, 4, 16, 12, 11, 0)
    raw = np.array([0, 4095, 4096, 0xF000], dtype=np.uint16)
    assert count_out_of_range(raw, unsigned) == 2
    signed = PixelFormat(1, 4, 16, 12, 11, 1)
    patterns = np.array([0x07FF, 0xF800, 0x0800, 0xFFFF], dtype=np.uint16)  # 2047, -2048 ok
    assert count_out_of_range(patterns, signed) == 1  # 0x0800: sign bit set, not extended
    full = PixelFormat(1, 4, 16, 16, 15, 0)
    assert count_out_of_range(raw, full) == 0


@pytest.mark.parametrize("fakes", [("shift", "abort")], indirect=True)
def test_cross_check_reports_backend_mismatch(make_series, fakes) -> None:
    truth = make_series(SMALL.with_(shape=(3, 8, 8)))
    series_findings = validate_series(list_series(truth.folder)[0],
                                      ValidationConfig(cross_check=True, timeout=60))
    mismatches = [f for f in series_findings if f.code == "BACKEND_MISMATCH"]
    messages = " | ".join(f.message for f in mismatches)
    assert "'fake-shift' disagrees: 1 voxel(s) differ, by up to 7" in messages
    assert "'fake-abort' failed: crashed: killed by SIGABRT" in messages
    assert not any("'direct'" in f.message for f in mismatches)


def test_a_code_can_be_turned_off_or_raised(make_series) -> None:
    thick = make_series(SMALL.with_(slice_thickness=5.0))
    assert validate(thick.folder, ValidationConfig(
        severity={"THICKNESS_SPACING_MISMATCH": "off"})).all_findings == []
    (finding,) = validate(thick.folder, ValidationConfig(
        severity={"THICKNESS_SPACING_MISMATCH": "error"})).all_findings
    assert finding.severity == "error"


def test_every_code_is_documented() -> None:
    documented = REPOSITORY.joinpath("docs", "findings.md")
    text = documented.read_text()
    for code in CODES:
        assert f"`{code}`" in text, f"{code} is not documented in docs/findings.md"


# --- the command line ----------------------------------------------------------------------------

def test_cli_exit_codes_and_fail_on(make_series) -> None:
    clean = make_series(SMALL)
    assert runner.invoke(app, ["validate", str(clean.folder)]).exit_code == 0
    gap = make_series(SMALL, skip=[1])
    result = runner.invoke(app, ["validate", str(gap.folder)])
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "MISSING_SLICE" in result.stdout
    assert "failed: 0 of 1 series passed" in result.stdout
    zeros = make_series(SMALL)  # ALL_ZERO_PIXELS: a warning
    rewrite(zeros.files, lambda ds: setattr(ds, "PixelData", bytes(len(ds.PixelData))))
    assert runner.invoke(app, ["validate", str(zeros.folder)]).exit_code == 0
    assert runner.invoke(app, ["validate", str(zeros.folder), "--fail-on", "warning"]
                         ).exit_code == 1
    assert runner.invoke(app, ["validate", str(zeros.folder), "--fail-on", "never"]
                         ).exit_code == 2
    assert runner.invoke(app, ["validate", str(clean.folder / "absent")]).exit_code == 2


def test_cli_json_follows_its_schema(make_series, tmp_path) -> None:
    make_series(SMALL, folder=tmp_path / "d" / "ok")
    make_series(SMALL.with_(series_number=4), folder=tmp_path / "d" / "gap", skip=[2])
    (tmp_path / "d" / "notes.txt").write_text("x")
    result = runner.invoke(app, ["validate", str(tmp_path / "d"), "-f", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    check_schema("validate", report)
    assert report["passed"] is False and report["fail_on"] == "error"
    assert report["counts"] == {"error": 1, "warning": 0, "info": 1}
    ok, gap = report["series"]
    assert ok["passed"] is True and ok["findings"] == []
    assert gap["passed"] is False and gap["findings"][0]["code"] == "MISSING_SLICE"
    assert report["findings"][0]["code"] == "SKIPPED_FILE"


def test_cli_junit_parses_with_one_testcase_per_series(make_series, tmp_path) -> None:
    make_series(SMALL.with_(description="fine & dandy <3"), folder=tmp_path / "d" / "ok")
    make_series(SMALL.with_(series_number=4, tilt_degrees=15), folder=tmp_path / "d" / "tilt")
    result = runner.invoke(app, ["validate", str(tmp_path / "d"), "-f", "junit",
                                 "--junit-xml", str(tmp_path / "also.xml")])
    assert result.exit_code == 1
    assert (tmp_path / "also.xml").read_text() .startswith("<?xml")
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name").split(" ", 1)[1] for c in cases[1:]] == ["fine & dandy <3",
                                                                   "dicomio synthetic phantom"]
    assert cases[0].get("name") == "files and folders"
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    failure = cases[2].find("failure")
    assert failure is not None and failure.get("type") == "GANTRY_TILT"
    assert cases[1].find("failure") is None
    parsed = JUnitXml.fromfile(str(tmp_path / "also.xml"))
    suites = list(parsed)
    assert len(suites) == 1 and suites[0].tests == 3 and suites[0].failures == 1
    results = {case.name.split(" ", 1)[1]: [r.type for r in case.result] for case in suites[0]}
    assert results["dicomio synthetic phantom"] == ["GANTRY_TILT"]
    assert results["fine & dandy <3"] == []


def test_cli_text_quiet_shows_only_failures(make_series, tmp_path) -> None:
    make_series(SMALL, folder=tmp_path / "d" / "ok")
    make_series(SMALL.with_(series_number=4), folder=tmp_path / "d" / "gap", skip=[2])
    result = runner.invoke(app, ["validate", str(tmp_path / "d"), "-q"])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith(("ok", "FAIL"))]
    assert len(lines) == 1 and lines[0].startswith("FAIL")
    assert "config:" not in result.stdout


def test_progress_only_when_asked_or_on_a_terminal(make_series) -> None:
    folder = str(make_series(SMALL).folder)
    silent = runner.invoke(app, ["validate", folder])
    assert silent.stderr == ""  # CliRunner's stderr is not a terminal
    shown = runner.invoke(app, ["validate", folder, "--progress"])
    assert shown.exit_code == 0 and "validating" in shown.stderr
    assert "\x1b[" not in shown.stdout  # the report itself stays plain
    quiet = runner.invoke(app, ["validate", folder, "--progress", "--quiet"])
    assert quiet.stderr == ""


def test_cli_summary_says_why_a_run_of_sound_series_fails(make_series) -> None:
    """An unreadable file beside a sound series: the series passes, the run fails, and the
    summary line says that the file is why (not just "1 of 1 series passed")."""
    written = make_series(SMALL)
    (written.folder / "slice_999.dcm").write_bytes(b"")
    result = runner.invoke(app, ["validate", str(written.folder), "--workers", "1",
                                 "--reproducible"])
    assert result.exit_code == 1, result.output
    assert "failed: 1 of 1 series passed; 1 file unreadable; 1 error, " in result.stdout
    (written.folder / "slice_998.dcm").write_bytes(b"DICM")
    result = runner.invoke(app, ["validate", str(written.folder), "--workers", "1",
                                 "--reproducible", "--fail-on", "warning"])
    assert "failed: 1 of 1 series passed; 2 files unreadable; 1 error, " in result.stdout
