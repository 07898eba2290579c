"""Issue 12's acceptance, where no other test held it: what a new user sees from the command
line on a 4-D series, on a single 2-D image of the corpus, on copies of one image, on a series
whose last slice lost its bytes, and what docs/findings.md says each code's severity is.

The truth is what the test wrote (the writer's ordering key, the files it shifted, copied or
cut), the corpus files read with pydicom, and the text of the docs, never dicomio's own
geometry.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pydicom
import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing.multiframe import OrderKey, write_4d
from dicomio.testing.synthetic import SeriesSpec, write_series
from dicomio.validate.findings import CODES
from tests.support.corpus import REPOSITORY
from tests.support.dicom_files import rewrite

runner = CliRunner()
FOUR_D = SeriesSpec(shape=(5, 12, 12))


def validated(*args: str) -> tuple[int, dict[str, Any]]:
    """``dicomio validate ARGS -f json --workers 1``: exit code and report."""
    result = runner.invoke(app, ["validate", *args, "-f", "json", "--workers", "1"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def findings_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [*report["findings"], *(f for s in report["series"] for f in s["findings"])]


# --- 4-D: its kind, its volumes and the rule that ordered them -----------------------------------

@pytest.mark.parametrize(("key", "rule"), [("instance", "InstanceNumber"),
                                           ("temporal", "TemporalPositionIndex"),
                                           ("time", "AcquisitionTime")])
def test_a_4d_series_names_its_volumes_and_the_attribute_that_ordered_them(
        tmp_path: Path, key: OrderKey, rule: str) -> None:
    """write_4d makes ``key``'s attribute the only one that tells the volumes' order (the
    InstanceNumbers count backwards for the others): that attribute must be named."""
    write_4d(tmp_path / "fmri", FOUR_D, volumes=3, key=key)
    status, report = validated(str(tmp_path / "fmri"))
    (series,) = report["series"]
    assert status == 0 and (series["kind"], series["volumes"]) == ("4d", 3)
    (finding,) = findings_of(report)
    assert (finding["code"], finding["severity"]) == ("FOUR_D", "info")
    assert f"3 volumes of 5 slices, ordered by {rule}" in finding["message"]


def test_volumes_at_other_positions_are_no_4d_series(tmp_path: Path) -> None:
    """The third volume moved 4 mm along the rows (its depths unchanged, so every position
    still holds three images): the volumes are not of the same slices, an error."""
    truth = write_4d(tmp_path / "fmri", FOUR_D, volumes=3, key="temporal")
    moved = truth.files[10:]
    assert len(moved) == 5

    def shift(ds: pydicom.Dataset) -> None:
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        row = [float(v) for v in ds.ImageOrientationPatient[:3]]
        ds.ImagePositionPatient = [x + 4 * row[0], y + 4 * row[1], z + 4 * row[2]]

    rewrite(moved, shift)
    status, report = validated(str(tmp_path / "fmri"))
    errors = {f["code"]: f for f in findings_of(report) if f["severity"] == "error"}
    assert status == 1 and "FOUR_D" not in {f["code"] for f in findings_of(report)}
    # The stack of all 15 images looks sheared, but it is no volume: no GANTRY_TILT beside the
    # error saying why the series is refused.
    assert set(errors) == {"DUPLICATE_POSITION"}
    assert "volume 2 does not have the slice positions of volume 0" in \
        errors["DUPLICATE_POSITION"]["message"]
    loaded = runner.invoke(app, ["load", str(tmp_path / "fmri")])
    assert loaded.exit_code == 1 and "RepeatedPositionsError" in loaded.stderr
    listed = runner.invoke(app, ["info", str(tmp_path / "fmri")])  # the same codes as validate
    assert "DUPLICATE_POSITION" in listed.stdout and "GANTRY_TILT" not in listed.stdout


# --- single 2-D images of the corpus -------------------------------------------------------------

SINGLE_IMAGES = ["pydicom_data/data/US1_UNCR.dcm", "pylibjpeg_data/ds/JPEG2000/RG3_J2KI.dcm",
                 "pydicom_testfiles/test_files/dicomdirtests/77654033/CR1/6154",
                 "pydicom_data/data/SC_rgb_expb_16bit.dcm"]


@pytest.mark.corpus
@pytest.mark.parametrize("name", SINGLE_IMAGES)
def test_a_single_real_image_without_geometry_passes(corpus, tmp_path: Path, name: str) -> None:
    """Ultrasound, computed radiographs, a secondary capture: one image, no position or
    orientation (checked with pydicom), validated alone: no error, exit 0."""
    source = corpus(name)
    header = pydicom.dcmread(source, stop_before_pixels=True)
    assert "ImagePositionPatient" not in header and int(header.get("NumberOfFrames", 1)) == 1
    copy = tmp_path / header.Modality / source.name
    copy.parent.mkdir()
    shutil.copy(source, copy)
    status, report = validated(str(copy.parent))
    assert [(f["code"], f["severity"]) for f in findings_of(report)] == [
        ("NOMINAL_GEOMETRY", "info")]
    assert status == 0 and report["series"][0]["modality"] == header.Modality


# --- copies of an image: once per series ---------------------------------------------------------

def test_fifteen_copies_are_one_finding_that_counts_them(tmp_path: Path) -> None:
    truth = write_series(tmp_path / "ct", SeriesSpec(shape=(20, 8, 8)))
    copies = [truth.folder / f"copy_{path.name}" for path in truth.files[:15]]
    for original, copy in zip(truth.files, copies, strict=False):
        shutil.copy(original, copy)
    status, report = validated(str(truth.folder))
    (finding,) = findings_of(report)
    assert (finding["code"], finding["severity"], status) == ("DUPLICATE_FILE", "info", 0)
    assert finding["message"].count("dropped 1 copy") == 3
    assert finding["message"].endswith("and 12 more like these")
    originals_and_copies = {str(p) for p in [*truth.files[:15], *copies]}
    assert finding["n_files"] == 15 and set(finding["files"]) <= originals_and_copies
    assert report["series"][0]["shape"][0] == 20


# --- a last slice that lost its bytes: a finding, and no volume written --------------------------

@pytest.mark.parametrize("size", [0, 64, 131])
def test_convert_writes_no_volume_without_its_truncated_last_slice(tmp_path: Path,
                                                                   size: int) -> None:
    truth = write_series(tmp_path / "ct", SeriesSpec(shape=(6, 8, 8)))
    last = truth.files[-1]
    last.write_bytes(last.read_bytes()[:size])
    status, report = validated(str(truth.folder))
    (finding,) = [f for f in findings_of(report) if f["severity"] == "error"]
    assert (status, finding["code"], finding["files"]) == (1, "UNREADABLE_FILE", [str(last)])
    target = tmp_path / "out.nii.gz"
    converted = runner.invoke(app, ["convert", str(truth.folder), str(target)])
    assert converted.exit_code == 1 and not target.exists()
    assert last.name in converted.stderr and "--ignore-unreadable" in converted.stderr


# --- the severity model, as documented -----------------------------------------------------------

def test_docs_give_each_code_its_default_severity() -> None:
    """Every row ``| `CODE` | severity |`` of docs/findings.md's tables states the default
    that dicomio applies, and every code has its row."""
    text = (REPOSITORY / "docs" / "findings.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (error|warning|info) \|", text, re.MULTILINE))
    assert rows == {code: severity for code, (severity, _) in CODES.items()}
