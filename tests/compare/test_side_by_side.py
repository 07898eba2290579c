"""``dicomio compare`` and :mod:`dicomio.compare.side_by_side`: every backend in its own process."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.backends.registry import backend_specs, register
from dicomio.cli import app
from dicomio.compare.report import affine_displacement, voxel_difference
from dicomio.compare.side_by_side import compare_series
from dicomio.extras import pip_install
from dicomio.testing.synthetic import SeriesSpec
from tests.support import fake_backends
from tests.support.cases import OBLIQUE
from tests.support.schemas import check_schema

runner = CliRunner()


@pytest.fixture
def folder(make_series):
    return make_series(SeriesSpec(shape=(4, 12, 10), orientation=OBLIQUE)).folder


def test_voxel_difference_counts_and_measures() -> None:
    a = np.zeros((3, 4, 5), dtype=np.int16)
    b = a.astype(np.uint16)
    assert voxel_difference(a, b) == (0.0, 0)
    b[1, 2, 3] = 9
    b[2, 0, 0] = 1
    assert voxel_difference(a, b) == (9.0, 2)
    x = np.array([[[np.nan, 1.0, 2.0]]])
    assert voxel_difference(x, x.copy()) == (0.0, 0)  # NaN equals NaN
    y = x.copy()
    y[0, 0, 1] = np.nan
    assert voxel_difference(x, y) == (np.inf, 1)
    with pytest.raises(ValueError, match="shapes differ"):
        voxel_difference(a, a[:2])


def test_affine_displacement_is_the_farthest_voxel_centre() -> None:
    first = np.diag([2.0, 1.0, 1.0, 1.0])
    second = first.copy()
    second[:3, 3] = (0.0, 3.0, 4.0)
    assert affine_displacement(first, second, (10, 10, 10)) == pytest.approx(5.0)
    rotated = first.copy()
    rotated[0, 0] = 2.1  # the slice step is 0.1 mm longer: slice 9 moves 0.9 mm
    assert affine_displacement(first, rotated, (10, 4, 4)) == pytest.approx(0.9)


def test_backends_agree_on_a_clean_series(folder) -> None:
    series = dicomio.list_series(folder)[0]
    report = compare_series(series, ["direct", "pydicom"])
    assert report.agree and report.reference == "pydicom"
    direct, pydicom = report.results
    assert direct.status == pydicom.status == "ok"
    assert direct.shape == (4, 12, 10) and direct.dtype == "int16"
    assert direct.max_abs_diff == 0 and direct.differing_voxels == 0
    assert direct.affine_diff_mm == 0 and direct.seconds is not None and direct.seconds > 0
    np.testing.assert_allclose(direct.affine, series.geometry.affine)


def test_a_crash_a_hang_and_an_exception_become_rows(folder, fakes) -> None:
    series = dicomio.list_series(folder)[0]
    # The time limit is each worker's, pydicom's included: 8 s leaves room for a worker that
    # starts on a loaded machine (4 s did not, with other tests running beside).
    report = compare_series(series, ["pydicom", "fake-abort", "fake-hang", "fake-fail"],
                            timeout=8)
    rows = {r.backend: r for r in report.results}
    assert rows["pydicom"].status == "ok"
    assert rows["fake-abort"].status == "failed"
    assert "SIGABRT" in rows["fake-abort"].reason
    assert "fake toolkit: about to crash" in rows["fake-abort"].reason  # its last words
    assert rows["fake-hang"].status == "failed"
    assert "timed out after 8 s" in rows["fake-hang"].reason
    assert rows["fake-fail"].status == "failed"
    assert "RuntimeError: fake toolkit refuses" in rows["fake-fail"].reason
    assert not report.agree


def test_differences_and_toolkit_geometry_are_measured(folder, fakes) -> None:
    series = dicomio.list_series(folder)[0]
    report = compare_series(series, ["pydicom", "fake-shift"])
    shifted = report.results[1]
    assert shifted.max_abs_diff == 7 and shifted.differing_voxels == 1
    assert "1 voxel(s) differ, by up to 7 (against pydicom)" in shifted.disagreement
    assert shifted.reported_diff_mm == pytest.approx(2.0)
    assert shifted.reported_agrees is False
    assert not report.agree
    tolerant = compare_series(series, ["pydicom", "fake-shift"], tolerance=7)
    assert tolerant.agree  # the toolkit's own geometry is reported, not failed on...
    strict = compare_series(series, ["pydicom", "fake-shift"], tolerance=7,
                            strict_geometry=True)
    assert not strict.agree  # ...unless asked


def test_reference_falls_back_to_the_first_that_succeeded(folder, fakes) -> None:
    series = dicomio.list_series(folder)[0]
    report = compare_series(series, ["fake-fail", "direct"], reference="fake-fail")
    assert report.reference == "direct"


def test_unavailable_and_unsupported_backends_are_rows_not_failures(folder,
                                                                    restore_registry) -> None:
    from dicomio.backends.base import BackendSpec

    missing = BackendSpec("fake-missing", "no.such.module", ("no_such_toolkit",), "nothing",
                          "missing", "never installed", fake_backends.decodable,
                          fake_backends.able)
    register(missing)
    register(BackendSpec("fake-unable", "tests.support.fake_backends.fail", ("numpy",), "numpy",
                         None, "refuses every series", fake_backends.decodable, _refuse))
    series = dicomio.list_series(folder)[0]
    report = compare_series(series, ["direct", "fake-missing", "fake-unable"])
    rows = {r.backend: r for r in report.results}
    assert rows["fake-missing"].status == "not installed"
    assert rows["fake-missing"].reason == pip_install("missing")
    assert rows["fake-unable"].status == "unsupported"
    assert rows["fake-unable"].reason == "it never can"
    assert report.agree


def _refuse(series: object) -> str:
    return "it never can"


def test_cli_compare_json_and_exit_codes(folder, fakes) -> None:
    ok = runner.invoke(app, ["compare", str(folder), "-b", "direct,pydicom", "-f", "json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    check_schema("compare", report)
    assert report["agree"] is True
    assert [r["backend"] for r in report["results"]] == ["direct", "pydicom"]

    crashed = runner.invoke(app, ["compare", str(folder), "-b", "direct,fake-abort,fake-shift",
                                  "-f", "json", "--timeout", "60"])
    assert crashed.exit_code == 1
    report = json.loads(crashed.stdout)
    check_schema("compare", report)
    rows = {r["backend"]: r for r in report["results"]}
    assert rows["fake-abort"]["status"] == "failed" and rows["fake-abort"]["agrees"] is None
    assert rows["fake-shift"]["agrees"] is False
    assert rows["fake-shift"]["reported_geometry"]["max_displacement_mm"] == pytest.approx(2)


def test_cli_compare_text(folder, fakes) -> None:
    result = runner.invoke(app, ["compare", str(folder), "-b", "direct,pydicom,fake-abort"])
    assert result.exit_code == 1
    text = result.stdout
    assert "pydicom (reference)" in text
    assert "fake-abort: crashed: killed by SIGABRT" in text
    assert "disagree" in text
    agree = runner.invoke(app, ["compare", str(folder), "-b", "direct,pydicom"])
    assert agree.exit_code == 0
    assert "agree: 2 backend(s) read the series and agree with pydicom" in agree.stdout


def test_cli_compare_usage_errors(folder, make_series, tmp_path) -> None:
    assert runner.invoke(app, ["compare", str(folder), "-b", "nope"]).exit_code == 2
    assert runner.invoke(app, ["compare", str(tmp_path / "absent")]).exit_code == 2
    make_series(SeriesSpec(shape=(2, 8, 8)), folder=folder / "second")
    several = runner.invoke(app, ["compare", str(folder), "-b", "direct"])
    assert several.exit_code == 2 and "MultipleSeriesError" in several.stderr
    chosen = runner.invoke(app, ["compare", str(folder), "-b", "direct", "--series", "1"])
    assert chosen.exit_code == 0, chosen.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(app, ["compare", str(empty)]).exit_code == 2


def test_the_readme_set_up_command_ends_in_agreement(tmp_path) -> None:
    """``dicomio sample DIR && dicomio compare DIR`` (the README's first command) exits 0 with
    every registered backend."""
    sample = runner.invoke(app, ["sample", str(tmp_path / "s"), "--slices", "6", "--size", "32"])
    assert sample.exit_code == 0
    result = runner.invoke(app, ["compare", str(tmp_path / "s"), "-f", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0, [(r["backend"], r["reason"], r["disagreement"])
                                   for r in report["results"]]
    assert {r["backend"] for r in report["results"]} == {spec.name for spec in backend_specs()}
