"""The benchmark harness: its truth check, its targets, and one quick run end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import generate  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402


@pytest.fixture
def truth() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.integers(0, 4096, size=(4, 6, 5)) - 1024).astype(np.int16)


def test_check_names_the_usual_mistakes(truth: np.ndarray) -> None:
    check = peers.check_against_truth
    assert check(truth.copy(), truth) == "identical"
    assert check(truth.astype(np.int32), truth) == "identical values, dtype int32 instead of int16"
    assert check(np.zeros_like(truth), truth) == "all zeros"
    assert check(truth[:, ::-1], truth) == "differs: rows flipped"
    assert check(truth[::-1, ::-1], truth) == "differs: rows flipped and slices reversed"
    stored = (truth.astype(np.int32) + 1024).astype(np.uint16)
    assert check(stored, truth) == "differs: stored values (no rescale)"
    assert check(stored[::-1], truth) == "differs: slices reversed, stored values (no rescale)"
    assert check(truth[:3], truth).startswith("shape (3, 6, 5)")
    wrong = truth.copy()
    wrong[1, 2, 3] += 1
    assert check(wrong, truth) == "differs: 1 voxels"


def _load(role: str, ours: float, theirs: float, peak: int | None = None) -> dict:
    return {"role": role, "label": role, "array_bytes": 100 * report.MIB, "timings": [
        {"contender": "dicomio auto", "median": ours, "peak_rss": peak, "check": "identical"},
        {"contender": "SimpleITK", "median": theirs, "peak_rss": None, "check": "identical"},
        {"contender": "vtkDICOMImageReader", "median": ours / 10, "peak_rss": None,
         "check": "all zeros"}]}


def test_targets_compare_ratios_measured_in_one_run() -> None:
    results = {"loads": {
        "a": _load("explicit", 0.2, 1.0, peak=240 * report.MIB),
        "b": _load("jpegll", 0.5, 1.0, peak=260 * report.MIB),
        "c": _load("long", 0.7, 2.0)},
        "scan": {"methods": [{"method": "dicomio list_series", "files": 10_000, "median": 2.0}]}}
    found = {t["target"]: t for t in report.targets(results)}
    assert found["explicit: dicomio auto / SimpleITK"]["passed"] is True
    assert found["jpegll: dicomio auto / SimpleITK"]["passed"] is False  # 0.5 > 0.4
    assert found["j2k: dicomio auto / SimpleITK"]["passed"] is None  # not run
    assert found["a: peak RSS of dicomio auto above the array"]["passed"] is True  # 140 MiB
    assert found["b: peak RSS of dicomio auto above the array"]["passed"] is False  # 160 MiB
    assert found["c / a time (dicomio auto)"]["value"] == pytest.approx(3.5)
    assert found["c / a time (dicomio auto)"]["passed"] is True
    assert found["list_series on 10000 files"]["passed"] is True  # 5000 files/s
    # A peer returning zeros is not a peer to beat; SimpleITK is the fastest that reads.
    fastest = found["a: dicomio auto / fastest peer returning the pixels (SimpleITK)"]
    assert fastest["passed"] is True


def test_results_block_of_the_readme_is_replaced(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.START}\nold\n{report.END}\nafter\n")
    report.write_readme(readme, "new table\n")
    assert readme.read_text() == f"intro\n{report.START}\nnew table\n{report.END}\nafter\n"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no <!-- results:start -->"):
        report.write_readme(readme, "x")


def test_datasets_are_reused_only_when_valid(tmp_path: Path) -> None:
    dataset = generate.Dataset("tiny", "explicit", "uncompressed",
                               generate.CT.with_(shape=(3, 16, 16)), root=tmp_path)
    assert not generate.is_valid(dataset)
    generate.write(dataset)
    assert generate.is_valid(dataset)
    assert generate.truth(dataset).shape == (3, 16, 16)
    next((dataset.folder / "series").iterdir()).write_bytes(b"changed")
    assert not generate.is_valid(dataset)
    changed = generate.Dataset("tiny", "explicit", "uncompressed",
                               generate.CT.with_(shape=(3, 16, 17)), root=tmp_path)
    assert not generate.is_valid(changed)


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path: Path) -> None:
    import importlib.util

    import run

    output = tmp_path / "results.json"
    peer = ["--only", "SimpleITK"] if importlib.util.find_spec("SimpleITK") else []
    status = run.main(["--quick", "--repeats", "1", "--data", str(tmp_path / "data"),
                       "--results", str(output), "--only", "ct40-*", "--only", "dicomio*",
                       *peer])
    assert status == 0
    results = json.loads(output.read_text())
    assert set(results["loads"]) == {"ct40-explicit-quick", "ct40-jpegll-quick",
                                     "ct40-j2k-quick", "ct40-rle-quick"}
    for load in results["loads"].values():
        checks = {t["contender"]: t["check"] for t in load["timings"]}
        assert checks["dicomio auto"] == "identical"
        assert checks.get("SimpleITK", "identical") == "identical"
        assert all(len(t["times"]) == 1 for t in load["timings"] if t["times"])
        auto = next(t for t in load["timings"] if t["contender"] == "dicomio auto")
        assert auto["peak_rss"] > load["array_bytes"]
