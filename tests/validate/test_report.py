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


def test_files_of_one_folder_make_one_finding_per_code(make_series, tmp_path: Path) -> None:
    """25 of 30 slices emptied and 30 notes beside them, 2 notes in another folder: one
    UNREADABLE_FILE and one SKIPPED_FILE per folder, each counting its files and listing the
    first ones, never one line per file (issue 12: no report of thousands of lines)."""
    truth = make_series(SeriesSpec(shape=(30, 4, 4)), folder=tmp_path / "a")
    damaged = truth.files[5:]
    for path in damaged:
        path.write_bytes(b"")
    notes = [tmp_path / "a" / f"notes_{k:02d}.txt" for k in range(30)]
    for path in [*notes, tmp_path / "b" / "x.txt", tmp_path / "b" / "y.txt"]:
        path.parent.mkdir(exist_ok=True)
        path.write_text("not DICOM")
    report = validate(tmp_path)
    by_code: dict[tuple[str, Path], list] = {}
    for finding in report.findings:
        by_code.setdefault((finding.code, Path(finding.files[0]).parent), []).append(finding)
    assert sorted((code, folder.name, len(found)) for (code, folder), found in by_code.items()
                  ) == [("SKIPPED_FILE", "a", 1), ("SKIPPED_FILE", "b", 1),
                        ("UNREADABLE_FILE", "a", 1)]
    (unreadable,) = by_code["UNREADABLE_FILE", tmp_path / "a"]
    assert unreadable.severity == "error" and unreadable.n_files == len(damaged) == 25
    assert len(unreadable.files) == 20 and set(unreadable.files) <= {str(p) for p in damaged}
    assert unreadable.message.endswith("and 22 more like these")
    assert unreadable.message.count("empty file (0 bytes)") == 3
    (skipped,) = by_code["SKIPPED_FILE", tmp_path / "a"]
    assert skipped.n_files == 30 and set(skipped.files) <= {str(p) for p in notes}
    (other,) = by_code["SKIPPED_FILE", tmp_path / "b"]
    assert other.n_files == 2 and sorted(Path(f).name for f in other.files) == ["x.txt", "y.txt"]
    assert not report.passed and report.counts == {"error": 1, "warning": 0, "info": 2}
