"""One hostile file never takes down a run: every entry point gives a DicomIOError naming the
file, a skipped file with its reason, or a finding in a complete report with the right exit code
(docs/robustness.md, "One file never ends the run").

The hostile files (tests/support/hostile.py) once raised RecursionError, OverflowError,
TypeError, ValueError, AssertionError and NotImplementedError. Other foreign exceptions are
injected where a file or a series is processed, to show that the whole class is translated.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.archive.conversion import convert_archive
from dicomio.archive.validation import validate_archive
from dicomio.cli import app
from dicomio.errors import DicomIOError, InternalError, MultipleSeriesError
from dicomio.testing.synthetic import write_series
from dicomio.validate.checks import validate_series
from dicomio.validate.report import ValidationReport, validate
from tests.support.hostile import SMALL, Hostile, hostile_archive, hostile_kinds

KINDS = hostile_kinds()
# Written by the writer of a hostile kind: pydicom warns about the values set on purpose.
warnings.filterwarnings("ignore", module="pydicom")


def _ids(kind: Hostile) -> str:
    return kind.name


def _names(error: DicomIOError, path: Path) -> bool:
    """``error`` names ``path``: as its file, or in its message."""
    return error.path == path or path in error.paths or str(path) in str(error)


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_load_volume_raises_a_dicomio_error_naming_the_file_or_warns(tmp_path, kind) -> None:
    bad = kind.write(tmp_path / kind.name)
    if kind.raises is Exception:  # a mosaic whose tiles cannot be told: refused, unless
        with pytest.raises(dicomio.MissingGeometryError) as refused:  # accepted as stored
            dicomio.load_volume(bad.parent)
        assert _names(refused.value, bad) and "as their file says" in str(refused.value)
        volume = dicomio.load_volume(bad.parent, irregular="accept")
        assert any(str(bad) in w and "as stored" in w for w in volume.provenance.warnings)
        return
    with pytest.raises(kind.raises) as raised:
        dicomio.load_volume(bad.parent)
    assert _names(raised.value, bad)


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_list_series_skips_the_file_or_notes_it_with_its_reason(tmp_path, kind) -> None:
    bad = kind.write(tmp_path / kind.name)
    found, inventory = dicomio.scan(bad.parent)
    skipped = [s for s in inventory.skipped if s.path == bad]
    noted = [n for s in found for n in s.notes if bad in n.files]
    unplaced = [s for s in found if s.geometry is None and bad.name in (s.geometry_problem or "")]
    layouts = [s for s in found if s.geometry is not None and bad in s.files]
    assert skipped or noted or unplaced or layouts
    for entry in skipped:
        assert entry.category == "unreadable" and entry.reason


def test_sequences_nested_500_deep_make_an_unreadable_file(tmp_path) -> None:
    kind = next(k for k in KINDS if k.name == "nested")
    bad = kind.write(tmp_path / "series")
    found, inventory = dicomio.scan(tmp_path)
    (skipped,) = inventory.skipped
    assert skipped.path == bad and skipped.category == "unreadable"
    assert [s.n_slices for s in found] == [SMALL.shape[0] - 1]
    with pytest.raises(dicomio.UnreadableFilesError) as raised:
        dicomio.load_volume(tmp_path)
    assert raised.value.path == bad  # the first unreadable file, not None


def test_a_position_of_1_5e308_is_invalid_geometry(tmp_path) -> None:
    kind = next(k for k in KINDS if k.name == "huge_position")
    bad = kind.write(tmp_path / "series")
    (series,) = dicomio.list_series(tmp_path)
    assert series.geometry is None
    assert series.geometry_problem.startswith(f"{bad.name}: ImagePositionPatient")
    with pytest.raises(dicomio.MissingGeometryError) as raised:
        dicomio.load_volume(tmp_path)
    assert raised.value.path == bad
    accepted = dicomio.load_volume(tmp_path, irregular="accept")
    assert accepted.shape == SMALL.shape


@pytest.mark.parametrize("failure", [RecursionError("maximum recursion depth exceeded"),
                                     OverflowError("int too large"), TypeError("not a str"),
                                     KeyError("x"), MemoryError()], ids=type)
def test_any_foreign_failure_reading_a_header_skips_the_file(tmp_path, monkeypatch,
                                                            failure) -> None:
    written = write_series(tmp_path / "series", SMALL)
    bad = written.files[2]
    import dicomio.series.discover as discover

    real = discover.read_header

    def read_header(path):  # type: ignore[no-untyped-def]
        if Path(path) == bad:
            raise failure
        return real(path)

    monkeypatch.setattr(discover, "read_header", read_header)
    found, inventory = dicomio.scan(tmp_path)
    (skipped,) = inventory.skipped
    assert skipped.path == bad and skipped.category == "unreadable"
    assert type(failure).__name__ in skipped.reason
    assert [s.n_slices for s in found] == [SMALL.shape[0] - 1]


def test_interrupts_are_never_swallowed(tmp_path, monkeypatch) -> None:
    written = write_series(tmp_path / "series", SMALL)
    import dicomio.series.discover as discover

    def read_header(path):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(discover, "read_header", read_header)
    with pytest.raises(KeyboardInterrupt):
        dicomio.list_series(written.folder)


def test_a_foreign_failure_placing_frames_is_an_internal_error_note(tmp_path,
                                                                   monkeypatch) -> None:
    kind = next(k for k in KINDS if k.name == "mosaic_coinciding_tiles")
    bad = kind.write(tmp_path / "series")
    import dicomio.series.group as group

    def broken(header):  # type: ignore[no-untyped-def]
        raise IndexError("tuple index out of range")

    monkeypatch.setattr(group, "mosaic_frames", broken)
    (series,) = dicomio.list_series(tmp_path)
    (note,) = series.notes
    assert note.code == "INTERNAL_ERROR" and note.files == (bad,)
    assert "IndexError: tuple index out of range" in note.message
    codes = {f.code: f for f in validate_series(series)}
    assert codes["INTERNAL_ERROR"].severity == "error"


def test_a_foreign_failure_grouping_one_series_leaves_the_others(tmp_path,
                                                                 monkeypatch) -> None:
    good = write_series(tmp_path / "good", SMALL.with_(series_number=1))
    bad = write_series(tmp_path / "bad", SMALL.with_(series_number=2))
    import dicomio.series.group as group

    real = group._drop_duplicates

    def drop(frames):  # type: ignore[no-untyped-def]
        if frames[0].header.series_uid == bad.series_uid:
            raise ZeroDivisionError("float division by zero")
        return real(frames)

    monkeypatch.setattr(group, "_drop_duplicates", drop)
    first, second = dicomio.list_series(tmp_path)
    assert first.uid == good.series_uid and first.geometry is not None
    assert second.uid == bad.series_uid and second.geometry is None
    assert [n.code for n in second.notes] == ["INTERNAL_ERROR"]
    assert "ZeroDivisionError: float division by zero" in second.geometry_problem
    with pytest.raises(dicomio.MissingGeometryError, match="ZeroDivisionError"):
        dicomio.load_volume(second)


def test_validate_series_never_raises(tmp_path, monkeypatch) -> None:
    written = write_series(tmp_path / "series", SMALL)
    (series,) = dicomio.list_series(tmp_path)
    import dicomio.validate.checks as checks

    def lay_out(series, tolerances):  # type: ignore[no-untyped-def]
        raise AssertionError("a layout nobody foresaw")

    monkeypatch.setattr(checks, "lay_out", lay_out)
    (finding,) = validate_series(series)
    assert (finding.code, finding.severity, finding.series) == ("INTERNAL_ERROR", "error",
                                                               series.key)
    assert "AssertionError: a layout nobody foresaw" in finding.message
    assert finding.files == tuple(str(f) for f in written.files)


def test_validate_reports_a_series_whose_layout_fails(tmp_path, monkeypatch) -> None:
    """What a series is (its layout) is needed by its checks and by its description in the
    report: failing in both, it is still one complete report entry."""
    good = write_series(tmp_path / "good", SMALL.with_(series_number=1))
    bad = write_series(tmp_path / "bad", SMALL.with_(series_number=2))
    import dicomio.series.layout as layout
    import dicomio.series.summary as summary
    import dicomio.validate.checks as checks

    real = layout.lay_out

    def lay_out(series, *args):  # type: ignore[no-untyped-def]
        if series.uid == bad.series_uid and series.geometry is not None:
            raise AssertionError("the stored order always tells images apart")
        return real(series, *args)

    monkeypatch.setattr(checks, "lay_out", lay_out)
    monkeypatch.setattr(summary, "lay_out", lay_out)
    report = validate(tmp_path)
    first, second = report.series
    assert first.series.uid == good.series_uid and first.findings == []
    assert second.series.uid == bad.series_uid
    assert [f.code for f in second.findings] == ["INTERNAL_ERROR"]
    assert "AssertionError" in second.series.fields["geometry_problem"]
    json.dumps(report.to_dict(), allow_nan=False)


def test_load_volume_translates_a_foreign_failure_naming_the_input(tmp_path,
                                                                   monkeypatch) -> None:
    written = write_series(tmp_path / "series", SMALL)
    import dicomio.load as load

    def read_series(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(load, "read_series", read_series)
    with pytest.raises(InternalError) as raised:
        dicomio.load_volume(written.folder)
    error = raised.value
    assert error.path == written.folder
    assert (error.original_type, error.original_message) == (
        "ValueError", "operands could not be broadcast together")
    assert isinstance(error.__cause__, ValueError)


def test_a_list_of_paths_loads_and_its_errors_name_them(tmp_path) -> None:
    first = write_series(tmp_path / "a", SMALL.with_(series_number=1))
    second = write_series(tmp_path / "b", SMALL.with_(series_number=2))
    assert dicomio.load_volume(first.files).shape == SMALL.shape
    assert dicomio.load_4d([str(f) for f in first.files]).shape == (1, *SMALL.shape)
    for load in (dicomio.load_volume, dicomio.load_4d):
        with pytest.raises(MultipleSeriesError) as raised:
            load([first.folder, second.folder])
        assert raised.value.paths == (first.folder, second.folder)
        assert str(raised.value).startswith(f"{first.folder}, {second.folder}: found 2 series")


# --- a hostile archive: good series beside one file of each kind ------------------------------

@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, list[Path], dict[str, Path]]:
    root = tmp_path_factory.mktemp("hostile") / "archive"
    good, hostile = hostile_archive(root)
    return root, good, hostile


def _check_report(report: ValidationReport, good: list[Path], hostile: dict[str, Path]) -> None:
    """Every good series passed; every hostile file is in a finding; the report is JSON."""
    by_folder = {s.series.folder: s for s in report.series}
    for folder in good:
        assert by_folder[folder].findings == [], folder
    named = {path for f in report.all_findings for path in f.files}
    for kind, bad in hostile.items():
        if kind == "mosaic_coinciding_tiles":  # a 4-D series of one slice: FOUR_D (info)
            assert any(f.code == "FOUR_D" for f in by_folder[bad.parent].findings)
            continue
        assert str(bad) in named, kind
    assert not report.passed
    json.dumps(report.to_dict(), allow_nan=False)


def test_validate_reports_every_series_of_a_hostile_archive(archive) -> None:
    root, good, hostile = archive
    _check_report(validate(root), good, hostile)


def test_archive_validation_in_two_workers_reports_every_series(archive) -> None:
    root, good, hostile = archive
    serial = validate(root)
    report = validate_archive(root, workers=2)
    _check_report(report, good, hostile)
    assert report.to_dict(reproducible=True) == serial.to_dict(reproducible=True)


def test_archive_conversion_writes_every_good_series(archive, tmp_path) -> None:
    root, good, hostile = archive
    report = convert_archive(root, tmp_path / "out", workers=2)
    written = {c.series.folder for c in report.series if c.status == "written"}
    assert set(good) <= written
    failed = {c.series.folder: c.reason for c in report.series if c.status == "failed"}
    assert hostile["nested"].parent in failed
    assert not report.passed


def test_cli_validate_json_is_complete_with_exit_1(archive) -> None:
    root, good, _ = archive
    result = CliRunner().invoke(app, ["validate", str(root), "-f", "json", "--workers", "2",
                                      "--no-progress"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert len(document["series"]) == len(validate(root).series)
    passed = {s["folder"] for s in document["series"] if s["passed"]}
    assert {str(folder) for folder in good} <= passed
    assert document["passed"] is False


def test_cli_info_lists_the_archive_and_the_skipped_file(archive) -> None:
    root, _, hostile = archive
    result = CliRunner().invoke(app, ["info", str(root), "-f", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    skipped = {entry["path"]: entry["category"] for entry in document["skipped"]}
    assert skipped[str(hostile["nested"])] == "unreadable"


def test_cli_compare_on_a_hostile_folder_is_an_error_not_a_traceback(archive) -> None:
    hostile = archive[2]
    result = CliRunner().invoke(app, ["compare", str(hostile["nested"].parent)])
    assert result.exit_code == 1
    assert not isinstance(result.exception, Exception) or isinstance(result.exception,
                                                                     SystemExit)
    assert "UnreadableFilesError" in result.stderr and str(hostile["nested"]) in result.stderr


@pytest.mark.parametrize("command, target", [
    (["info"], "dicomio.series.choose.scan"),
    (["compare"], "dicomio.series.choose.select_series"),
    (["validate"], "dicomio.cli.archive.run_validation"),
])
def test_a_crash_in_a_command_exits_3_without_a_traceback(tmp_path, monkeypatch, command,
                                                          target) -> None:
    written = write_series(tmp_path / "series", SMALL)
    module, name = target.rsplit(".", 1)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(f"{module}.{name}", crash)
    result = CliRunner().invoke(app, [*command, str(written.folder)])
    assert result.exit_code == 3
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "internal error: TypeError: unsupported operand type(s)" in result.stderr


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["rtdose_rle.dcm", "mosaic"])
def test_a_position_of_seven_values_is_invalid_geometry_not_a_crash(corpus, tmp_path,
                                                                    name: str) -> None:
    """ImagePositionPatient must hold three numbers: seven of them once broke the placing of
    RT Dose frames and mosaic tiles (a broadcast ValueError, an INTERNAL_ERROR)."""
    import pydicom

    source = (corpus("pylibjpeg_data/ds/RLELossless/rtdose_rle.dcm") if name != "mosaic"
              else corpus("dcm_qa_ts/In/1.dcm"))
    ds = pydicom.dcmread(source)
    ds.ImagePositionPatient = [1, 2, 3, 4, 5, 6, 7]
    ds.save_as(tmp_path / "bad.dcm")
    report = validate(tmp_path)
    codes = {f.code for f in report.all_findings}
    assert "INTERNAL_ERROR" not in codes and "MISSING_GEOMETRY" in codes
    with pytest.raises(dicomio.MissingGeometryError, match="ImagePositionPatient"):
        dicomio.load_volume(tmp_path)
