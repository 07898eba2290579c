"""One report assembler (dicomio.validate.report.assemble_report) for every way of validating."""

from __future__ import annotations

from pathlib import Path

from dicomio.series.choose import scan
from dicomio.testing.synthetic import SeriesSpec
from dicomio.validate.checks import check_files, validate_series, worker_died
from dicomio.validate.report import assemble_report, build_report, validate, validate_stacks

SMALL = SeriesSpec(shape=(3, 8, 10))


def two_series_and_junk(make_series, tmp_path: Path) -> Path:
    """A folder holding two series (MULTIPLE_SERIES) and a file that is not DICOM."""
    folder = tmp_path / "mixed"
    make_series(SMALL.with_(series_number=1), folder=folder, naming="uid")
    make_series(SMALL.with_(series_number=2, seed=1), folder=folder, naming="uid")
    (folder / "notes.txt").write_text("not DICOM")
    return folder


def test_general_findings_come_in_one_order_and_series_are_numbered(make_series,
                                                                    tmp_path: Path) -> None:
    folder = two_series_and_junk(make_series, tmp_path)
    found, inventory = scan(folder)
    reports = validate_stacks(found)[::-1]  # in any order the caller says; numbered as given
    lost = worker_died([folder / "gone.dcm"], "1.2.3", "series 1.2.3")
    report = assemble_report(inventory.roots, reports, check_files(inventory), lost=lost)
    assert [f.code for f in report.findings] == ["SKIPPED_FILE", "MULTIPLE_SERIES",
                                                 "WORKER_DIED"]
    assert [s.index for s in report.series] == [0, 1]
    assert [s.series.number for s in report.series] == [2, 1]
    assert report.paths == (folder,) and not report.passed  # WORKER_DIED is an error


def test_validate_and_build_report_assemble_the_same_report(make_series,
                                                            tmp_path: Path) -> None:
    folder = two_series_and_junk(make_series, tmp_path)
    found, inventory = scan(folder)
    per_series = [(validate_series(series), 0.0) for series in found]
    built = build_report(inventory.roots, inventory, found, per_series)
    reference = validate(folder).to_dict(reproducible=True)
    assert built.to_dict(reproducible=True) == reference
    assert [f["code"] for f in reference["findings"]] == ["SKIPPED_FILE", "MULTIPLE_SERIES"]
