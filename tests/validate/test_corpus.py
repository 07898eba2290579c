"""Golden tests of ``validate`` on real data: each broken series gives its code, clean ones
pass (DICOMIO_CORPUS, default ../shared/corpus; skipped with the reason where absent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.backends.registry import get_spec
from dicomio.cli import app
from dicomio.validate.findings import Finding
from dicomio.validate.report import ValidationReport, validate
from tests.support.agreement import REFERENCES, Expect, Reference
from tests.support.corpus import REPOSITORY

pytestmark = pytest.mark.corpus
runner = CliRunner()


def run(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["validate", *args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def series_codes(report: dict) -> set[str]:
    return {f["code"] for s in report["series"] for f in s["findings"]}


@pytest.mark.parametrize(("folder", "expected"), [
    ("dicom2nifti/data/failing/gantrytilting", {"GANTRY_TILT"}),
    ("dicom2nifti/data/failing/sliceincrement/001", {"MISSING_SLICE"}),
    ("dcm_qa_ct/In/GE", {"GANTRY_TILT", "IRREGULAR_SPACING"}),
])
def test_broken_series_fail_with_their_code(corpus, folder: str, expected: set[str]) -> None:
    code, report = run(str(corpus(folder)))
    assert code == 1
    assert series_codes(report) == expected
    assert all(f["severity"] == "error" for s in report["series"] for f in s["findings"])


def test_two_orientations_under_one_uid(corpus) -> None:
    code, report = run(str(corpus("dicom2nifti/data/failing/sliceorientation")))
    assert [s["orientation"] for s in report["series"]] == ["SAGITTAL", "AXIAL"]
    assert all("MIXED_ORIENTATION" in {f["code"] for f in s["findings"]}
               for s in report["series"])
    assert code == 0  # a warning: each stack is a valid volume on its own
    assert run(str(corpus("dicom2nifti/data/failing/sliceorientation")),
               "--fail-on", "warning")[0] == 1


@pytest.mark.parametrize("folder", [
    "dicom2nifti/data/anatomical/001",
    "dicom2nifti/data/generic/compressed_jpegls/001",
    "dicom2nifti/data/generic/rgb/001",
    "dicom2nifti/data/siemens/anatomical/001",
    "dcm_qa_ct/In/Philips",
])
def test_clean_series_pass(corpus, folder: str) -> None:
    code, report = run(str(corpus(folder)), "--cross-check")
    assert code == 0, [f["message"] for s in report["series"] for f in s["findings"]]
    assert report["counts"]["error"] == 0 and report["counts"]["warning"] == 0


# --- acceptance on real data ----------------------------------------------------------------------
# Every series the reference converters convert cleanly (dcm2niix's Ref/ in each dcm_qa*
# dataset, dicom2nifti's ground truths) must give no error; every error left on the real scanner
# data is listed, with the reason it is true, in docs/findings.md ("On the real corpus").

CONVERTED = [r for r in REFERENCES if r.expect is not Expect.TILT_RESAMPLED] + [
    # dcm2niix converts these too; their references are not voxel tables (JSON, bval/bvec only,
    # or volumes it flips: see tests/contract/test_agreement.py).
    Reference("dcm_qa_polar", "dcm_qa_polar/In", "", "GE epi_pepolar, modes 0-3"),
    Reference("dcm_qa_xa30/DWI", "dcm_qa_xa30/In/10_DWI_dir80_PA", "", "enhanced DWI, 21 files"),
    Reference("dcm_qa_ct/Philips", "dcm_qa_ct/In/Philips", "", "Philips CT with a DICOMDIR"),
]

REAL_DATA = ["dcm_qa/In", "dcm_qa_12bit/In", "dcm_qa_ct/In", "dcm_qa_enh/In", "dcm_qa_mosaic/In",
             "dcm_qa_nih/In", "dcm_qa_philips_dwi/In", "dcm_qa_polar/In", "dcm_qa_ts/In",
             "dcm_qa_xa30/In", "dicom2nifti/data"]


def errors_of(report: ValidationReport) -> list[Finding]:
    return [f for f in report.all_findings if f.severity == "error"]


@pytest.mark.parametrize("reference", CONVERTED, ids=lambda r: r.name)
def test_what_the_reference_converter_converts_has_no_error(corpus, reference: Reference
                                                            ) -> None:
    report = validate(corpus(reference.source))
    assert report.series, "no series found"
    assert errors_of(report) == [], [f"{f.code}: {f.message}" for f in errors_of(report)]
    assert report.passed


def documented_true_findings() -> set[tuple[str, str]]:
    """The (folder, code) rows of the table in docs/findings.md, "On the real corpus"."""
    text = (REPOSITORY / "docs" / "findings.md").read_text(encoding="utf-8")
    section = text.split("## On the real corpus", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| `([A-Z_]+)` \|", section, flags=re.MULTILINE)
    assert rows, "the table is missing"
    return set(rows)


def test_every_error_on_real_data_is_a_documented_true_finding(corpus) -> None:
    root = corpus(".")
    found: set[tuple[str, str]] = set()
    for folder in REAL_DATA:
        report = validate(corpus(folder))
        for entry in report.series:
            found |= {(entry.series.folder.relative_to(root).as_posix(), f.code)
                      for f in entry.findings if f.severity == "error"}
        for finding in report.findings:
            if finding.severity == "error":
                where = Path(finding.files[0])
                where = where if where.is_dir() else where.parent
                found.add((where.relative_to(root).as_posix(), finding.code))
    assert found == documented_true_findings()


def test_cross_check_of_a_real_4d_series_compares_volumes_and_names_the_library(corpus
                                                                                ) -> None:
    """Two volumes of JPEG 2000 mosaics: every backend reads them with load_4d, they agree,
    and the report says they all ran OpenJPEG."""
    code, report = run(str(corpus("dcm_qa/In/Orientation/axmb/AxInt36mb")), "--cross-check")
    assert code == 0
    (series,) = report["series"]
    found = {f["code"]: f for f in series["findings"]}
    assert "BACKEND_MISMATCH" not in found and found["FOUR_D"]["severity"] == "info"
    checked = found["CROSS_CHECKED"]["message"]
    assert "1 distinct codec library compared (OpenJPEG)" in checked
    if get_spec("dcm2niix").installed():  # it groups series itself: named, not compared
        assert "dcm2niix (" not in checked.split("; not compared:")[0]
        assert "not compared: dcm2niix" in checked
