"""Every command on damaged copies of a real series: a clear answer and the right exit code.

0 success, 1 the data has a problem, 2 usage or I/O error; never a traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app

runner = CliRunner()


@pytest.fixture
def damaged(corpus, tmp_path: Path) -> Path:
    """A copy of a real 4-slice series: one file cut inside its pixel data, one inside its
    header, and a text file beside them."""
    source = corpus("dicom2nifti/data/siemens/anatomical/001")
    folder = tmp_path / "damaged copy"
    shutil.copytree(source, folder)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    data = files[1].read_bytes()
    files[1].write_bytes(data[:-5000])  # pixel data truncated
    files[2].write_bytes(files[2].read_bytes()[:700])  # header truncated
    (folder / "README.txt").write_text("copied from the scanner\n")
    return folder


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    return result.exit_code, output


def test_info_lists_what_is_there_and_why_files_were_skipped(damaged: Path) -> None:
    code, output = run("info", str(damaged), "--format", "json")
    assert code == 0
    report = json.loads(output[output.index("{"):])
    skipped = {Path(s["path"]).name: s for s in report["skipped"]}
    assert skipped["README.txt"]["category"] == "not_dicom"
    assert any("truncated" in s["reason"] for s in report["skipped"] if s["category"] ==
               "unreadable")


def test_load_refuses_with_the_file_named(damaged: Path) -> None:
    code, output = run("load", str(damaged))
    assert code == 1
    assert "UnreadableFilesError" in output and "could not be read" in output
    assert "ignore_unreadable" not in output  # Python's argument: no command takes it


def test_validate_fails_with_readable_findings(damaged: Path) -> None:
    code, output = run("validate", str(damaged), "--format", "json")
    assert code == 1
    report = json.loads(output[output.index("{"):])
    codes = {f["code"] for f in report["findings"]}
    codes |= {f["code"] for s in report["series"] for f in s["findings"]}
    assert "UNREADABLE_FILE" in codes
    assert "DECODE_FAILED" in codes


def test_validate_junit_on_damaged_data_parses(damaged: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ElementTree

    code, output = run("validate", str(damaged), "--format", "junit")
    assert code == 1
    root = ElementTree.fromstring(output[output.index("<"):])
    assert int(root.get("failures", root.find("testsuite").get("failures"))) >= 1  # type: ignore[union-attr]


def test_compare_refuses_as_load_does(damaged: Path) -> None:
    code, output = run("compare", str(damaged), "--backends", "direct,pydicom", "--format",
                       "json")
    assert code == 1
    assert "UnreadableFilesError" in output and "could not be read" in output
    assert "ignore_unreadable" not in output  # Python's argument: no command takes it


def test_convert_fails_cleanly_and_writes_nothing(damaged: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.nii.gz"
    code, _ = run("convert", str(damaged), str(target))
    assert code == 1
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or "tmp" in p.name]


def test_preview_fails_cleanly(damaged: Path, tmp_path: Path) -> None:
    target = tmp_path / "preview.png"
    code, _ = run("preview", str(damaged), "-o", str(target))
    assert code == 1 and not target.exists()


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    for command in (["info"], ["validate"], ["load"], ["compare"]):
        code, _ = run(*command, str(tmp_path / "nowhere"))
        assert code == 2, command
