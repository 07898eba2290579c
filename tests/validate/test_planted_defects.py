"""``dicomio validate`` on generated data with planted defects: each defect gives its finding
code, on the series it was planted in, at its default severity, without false errors beside it;
a clean generated archive passes; the archive run with worker processes finds the same.

The truth is the planting (tests/support/defects.py), never what dicomio computes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dicomio.backends.registry import register
from dicomio.cli import app
from dicomio.testing import synthetic
from dicomio.testing.multiframe import write_4d, write_enhanced
from dicomio.testing.synthetic import SeriesSpec, write_series
from dicomio.validate.report import validate
from tests.support import fake_backends
from tests.support.defects import DEFECTS, SMALL, Defect, Site, hide_decoders
from tests.support.dicom_files import rewrite

runner = CliRunner()


def run(paths: list[Path], *options: str) -> tuple[int, dict[str, Any]]:
    """``dicomio validate PATHS -f json OPTIONS``: exit code and report."""
    result = runner.invoke(app, ["validate", *map(str, paths), "-f", "json", *options])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def every_finding(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [*report["findings"], *(f for s in report["series"] for f in s["findings"])]


def named(finding: dict[str, Any]) -> set[Path]:
    return {Path(f).resolve() for f in finding["files"]}


def planted_findings(report: dict[str, Any], code: str, site: Site) -> list[dict[str, Any]]:
    """The findings of ``code`` where the site says they belong (asserting they are there)."""
    if site.series is None:
        return [f for f in every_finding(report) if f["code"] == code]
    stacks = [s for s in report["series"] if s["uid"] == site.series]
    assert stacks, f"the planted series {site.series} is not in the report"
    carrying = [[f for f in s["findings"] if f["code"] == code] for s in stacks]
    if site.every_stack:
        assert all(carrying), f"{code} missing on a stack: {[s['key'] for s in stacks]}"
    return [f for found in carrying for f in found]


def check_planted(defect: Defect, site: Site, status: int, report: dict[str, Any],
                  neighbour: str | None) -> None:
    findings = planted_findings(report, defect.code, site)
    codes = sorted({f["code"] for f in every_finding(report)})
    assert findings, f"{defect.code} not reported where planted; found {codes}"
    assert {f["severity"] for f in findings} == {defect.severity}
    files = set().union(*map(named, findings))
    assert {p.resolve() for p in site.files} <= files
    assert not site.one_of or files & {p.resolve() for p in site.one_of}
    for series in report["series"]:  # merged: one finding per code and series
        repeated = [c for c, n in Counter(f["code"] for f in series["findings"]).items() if n > 1]
        assert not repeated, f"{series['key']} repeats {repeated}"
    errors = {f["code"] for f in every_finding(report) if f["severity"] == "error"}
    assert errors <= {defect.code}, f"false errors beside {defect.code}: {errors}"
    assert status == (1 if defect.severity == "error" else 0)
    if neighbour is not None:
        (clean,) = [s for s in report["series"] if s["uid"] == neighbour]
        assert [f["code"] for f in clean["findings"]
                if f["severity"] != "info" or f["code"] == defect.code] == []


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_planted_defect_gives_its_code(defect: Defect, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       request: pytest.FixtureRequest) -> None:
    site = defect.plant(tmp_path / "planted")
    paths = [tmp_path / "planted"]
    neighbour = None
    if defect.neighbour:
        neighbour = write_series(tmp_path / "clean", SMALL.with_(series_number=77)).series_uid
        paths.append(tmp_path / "clean")
    if defect.hidden_syntax:
        hide_decoders(monkeypatch, defect.hidden_syntax)
    if defect.fake_backends:
        request.getfixturevalue("restore_registry")
        for name in defect.fake_backends:
            register(fake_backends.spec(name))
    options = ["--workers", "1"]  # in this process: the hidden decoders and fakes hold
    status, report = run(paths, *options, *(["--cross-check"] if defect.cross_check else []))
    check_planted(defect, site, status, report, neighbour)


def test_every_code_of_the_list_is_planted() -> None:
    planted = {d.code for d in DEFECTS}
    assert planted == {
        "NO_DICOM", "UNREADABLE_FILE", "SKIPPED_FILE", "MULTIPLE_SERIES", "MIXED_ORIENTATION",
        "MIXED_SHAPE", "DUPLICATE_FILE", "SHARED_SOP_INSTANCE_UID", "FRAMES_AS_STORED", "FOUR_D",
        "DUPLICATE_POSITION", "FOUR_D_INCONSISTENT_ORDER", "MIXED_IMAGE_TYPE", "MISSING_SLICE",
        "IRREGULAR_SPACING", "GANTRY_TILT", "THICKNESS_SPACING_MISMATCH", "SINGLE_SLICE",
        "MISSING_GEOMETRY", "NOMINAL_GEOMETRY", "UNSUPPORTED_TRANSFER_SYNTAX", "MISSING_DECODER",
        "DECODE_FAILED", "PIXEL_DATA_TOO_LONG", "ALL_ZERO_PIXELS", "VALUES_OUT_OF_RANGE",
        "BACKEND_MISMATCH", "CROSS_CHECKED"}


# --- the plantings themselves (checked with pydicom and byte counts, not with dicomio) ---------

def test_unreadable_files_keep_a_series_name_and_the_sizes_planted(tmp_path: Path) -> None:
    kept = {}
    for defect in DEFECTS:
        if defect.code == "UNREADABLE_FILE":
            (victim,) = defect.plant(tmp_path / defect.name).files
            assert victim.name == "slice_007.dcm"
            kept[defect.name] = victim.read_bytes()
    assert [len(kept[f"unreadable_{n}"]) for n in ("empty", "64_bytes", "131_bytes")] == [
        0, 64, 131]
    assert kept["unreadable_file_meta"][128:132] == b"DICM"
    header = kept["unreadable_header"]
    assert b"\xe0\x7f\x10\x00" not in header  # cut before the pixel data,
    assert header[-10:-4] == b"\x20\x00\x32\x00DS"  # 2 bytes into ImagePositionPatient



def test_too_long_pixel_data_exceeds_one_padding_byte(tmp_path: Path) -> None:
    import pydicom

    for name, frames, columns, excess in [("rows_decreased", 1, 16, 32),
                                          ("rows_decreased_multiframe", 4, 16, 4 * 32),
                                          ("odd_image_three_bytes_over", 1, 15, 3)]:
        (defect,) = [d for d in DEFECTS if d.name == name]
        for path in defect.plant(tmp_path / name).files:
            ds = pydicom.dcmread(path)
            declared = ds.Rows * ds.Columns * frames * ds.BitsAllocated // 8
            assert (ds.Rows, ds.Columns, len(ds.PixelData) - declared) == (15, columns, excess)


# --- a clean archive -----------------------------------------------------------------------------

def write_clean_archive(root: Path) -> dict[str, str]:
    """One series of each kind in its own folder; returns folder name → SeriesInstanceUID."""
    uids = {"ct": write_series(root / "ct", SMALL).series_uid,
            "four_d": write_4d(root / "four_d", SMALL.with_(shape=(5, 16, 16), series_number=2),
                               volumes=3, key="temporal").series_uid}
    capture = write_series(root / "capture", SMALL.with_(shape=(1, 16, 16), modality="OT",
                                                        rescale_intercept=0, series_number=3))
    rewrite(capture.files, ImagePositionPatient=None, ImageOrientationPatient=None,
            PixelSpacing=None, SliceThickness=None, FrameOfReferenceUID=None)
    uids["capture"] = capture.series_uid
    uids["enhanced"] = write_enhanced(root / "enhanced", SeriesSpec(
        shape=(6, 16, 16), modality="MR", rescale_intercept=0.0, series_number=4)).series_uid
    for number, syntax in enumerate([synthetic.RLE, synthetic.JPEG_LS, synthetic.J2K_LOSSLESS]):
        folder = f"compressed_{number}"
        uids[folder] = write_series(root / folder, SMALL.with_(
            transfer_syntax=syntax, series_number=5 + number)).series_uid
    # 15×15 8-bit: 225 bytes of pixel data, padded to 226 on writing (one byte is allowed).
    uids["odd"] = write_series(root / "odd", SMALL.with_(
        shape=(8, 15, 15), bits_allocated=8, bits_stored=8, rescale_intercept=0,
        series_number=8)).series_uid
    return uids


def test_clean_archive_passes(tmp_path: Path) -> None:
    import pydicom

    uids = write_clean_archive(tmp_path / "archive")
    odd = pydicom.dcmread(sorted((tmp_path / "archive" / "odd").iterdir())[0])
    assert len(odd.PixelData) == 15 * 15 + 1
    status, report = run([tmp_path / "archive"], "--workers", "1")
    problems = [(f["code"], f["message"]) for f in every_finding(report)
                if f["severity"] != "info"]
    assert problems == []
    assert report["counts"]["error"] == 0 and report["counts"]["warning"] == 0
    assert status == 0
    assert {s["uid"] for s in report["series"]} == set(uids.values())
    assert len(report["series"]) == len(uids)


# --- the archive path ----------------------------------------------------------------------------

def series_codes(report: dict[str, Any]) -> set[tuple[str | None, str]]:
    """(series key, code) of every finding; None for those about files and folders."""
    return ({(s["key"], f["code"]) for s in report["series"] for f in s["findings"]}
            | {(f["series"], f["code"]) for f in report["findings"]})


def test_worker_processes_find_what_this_process_finds(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    sites = [(d, d.plant(root / d.name)) for d in DEFECTS if d.portable]
    in_process = validate([root]).to_dict(reproducible=True)
    status, workers = run([root], "--workers", "2", "--reproducible")
    assert series_codes(workers) == series_codes(in_process)
    assert len(workers["series"]) == len(in_process["series"])
    assert status == 1 and not in_process["passed"]
    for defect, site in sites:  # a folder without images under a root is no NO_DICOM
        if defect.code != "NO_DICOM":
            assert planted_findings(workers, defect.code, site), defect.name
