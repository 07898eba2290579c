"""``dicomio compare`` of a 4-D series volume by volume, and its ``--irregular`` (issue 16):
which volumes of each backend differ from the reference's, and by how much; a backend refusing
irregular geometry says the option that reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.compare.side_by_side import compare_series
from dicomio.testing.multiframe import write_4d
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.schemas import check_schema

runner = CliRunner()


def _four_d(folder: Path) -> Path:
    write_4d(folder, SeriesSpec(shape=(4, 10, 12)), volumes=3)
    return folder


@pytest.mark.parametrize("fakes", [("bump",)], indirect=True)
def test_a_4d_series_is_compared_volume_by_volume(tmp_path: Path, fakes) -> None:
    series = dicomio.list_series(_four_d(tmp_path / "fmri"))[0]
    report = compare_series(series, ["pydicom", "direct", "fake-bump"])
    pydicom, direct, shifted = report.results
    assert pydicom.volumes == direct.volumes == shifted.volumes == 3
    assert [v.differing_voxels for v in direct.volume_differences] == [0, 0, 0]
    assert direct.disagreement is None
    # fake-bump adds 7 to the first voxel it reads: volume 0's only
    assert [(v.volume, v.max_abs_diff, v.differing_voxels)
            for v in shifted.volume_differences] == [(0, 7, 1), (1, 0, 0), (2, 0, 0)]
    assert [v.volume for v in shifted.differing_volumes] == [0]
    assert shifted.max_abs_diff == 7 and shifted.differing_voxels == 1
    assert "1 voxel(s) differ in volume(s) 0 of 3, by up to 7" in shifted.disagreement
    assert shifted.affine_diff_mm == 0.0
    document = report.to_dict()
    check_schema("compare", document)
    rows = {row["backend"]: row for row in document["results"]}
    assert rows["fake-bump"]["volumes"] == {"count": 3, "compared": [
        {"volume": 0, "max_abs_diff": 7.0, "differing_voxels": 1},
        {"volume": 1, "max_abs_diff": 0.0, "differing_voxels": 0},
        {"volume": 2, "max_abs_diff": 0.0, "differing_voxels": 0}]}


@pytest.mark.parametrize("fakes", [("bump",)], indirect=True)
def test_the_cli_lists_the_volumes_that_differ(tmp_path: Path, fakes) -> None:
    folder = _four_d(tmp_path / "fmri")
    result = runner.invoke(app, ["compare", str(folder), "--backends",
                                 "pydicom,direct,fake-bump", "--no-progress"])
    assert result.exit_code == 1, result.output
    text = " ".join(result.stdout.split())
    assert "fake-bump: 1 of 3 volumes differ: 0 (max |Δ| 7, 1 voxels)" in text
    assert "direct: all 3 volumes equal" in text
    result = runner.invoke(app, ["compare", str(folder), "--backends", "pydicom,fake-bump",
                                 "--format", "json"])
    document = json.loads(result.stdout)
    check_schema("compare", document)
    assert document["results"][0]["volumes"]["count"] == 3


def test_a_single_volume_has_no_volume_rows(make_series) -> None:
    folder = make_series(SeriesSpec(shape=(4, 10, 12))).folder
    result = runner.invoke(app, ["compare", str(folder), "--backends", "pydicom,direct",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert all(row["volumes"] is None for row in json.loads(result.stdout)["results"])


def test_compare_takes_irregular(tmp_path: Path) -> None:
    gap = write_series(tmp_path / "gap", SeriesSpec(shape=(6, 10, 12)))
    gap.files[2].unlink()
    accepted = runner.invoke(app, ["compare", str(tmp_path / "gap"), "--backends",
                                   "pydicom,direct", "--no-progress"])
    assert accepted.exit_code == 0, accepted.output  # read as it lies by default
    refused = runner.invoke(app, ["compare", str(tmp_path / "gap"), "--backends",
                                  "pydicom,direct", "--irregular", "raise", "--format", "json"])
    assert refused.exit_code == 1, refused.output
    reasons = [row["reason"] for row in json.loads(refused.stdout)["results"]]
    assert all(r and "--irregular accept" in r and "irregular=" not in r for r in reasons)
    resampled = runner.invoke(app, ["compare", str(tmp_path / "gap"), "--backends",
                                    "pydicom,direct", "--irregular", "resample", "--format",
                                    "json"])
    assert resampled.exit_code == 0, resampled.output
    shapes = {tuple(row["shape"]) for row in json.loads(resampled.stdout)["results"]}
    assert len(shapes) == 1 and next(iter(shapes))[0] > 5  # the gap filled in
