"""Golden tests of ``validate`` on real data: each broken series gives its code, clean ones
pass (DICOMIO_CORPUS, default ../shared/corpus; skipped with the reason where absent)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dicomio.cli import app

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
