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
import targets  # noqa: E402


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
    # A lossy series: right within the encoder's error, not beyond it.
    assert check(wrong, truth, tolerance=1) == "within 1 of the truth (largest difference 1)"
    assert peers.is_right(check(wrong, truth, tolerance=1))
    wrong[0, 0, 0] += 5
    assert not peers.is_right(check(wrong, truth, tolerance=1))


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


def _fresh(role: str, ours: tuple[float, float], theirs: tuple[float, float],
           peak: int | None = None) -> dict:
    """A series where dicomio auto and SimpleITK took (fresh, warm) seconds."""
    return {"role": role, "label": role, "array_bytes": 100 * report.MIB, "tolerance": 0,
            "timings": [
                {"contender": "dicomio auto", "fresh_median": ours[0], "median": ours[1],
                 "peak_rss": peak, "check": "identical"},
                {"contender": "SimpleITK", "fresh_median": theirs[0], "median": theirs[1],
                 "peak_rss": None, "check": "identical"}]}


def test_issue15_targets_use_fresh_and_warm_ratios_of_one_run() -> None:
    rle = _fresh("rle", (0.2, 0.1), (1.0, 1.0))
    rle["second_decoder"] = {"decoder": "pydicom + gdcm", "difference": 1, "tolerance": 0,
                             "failed": []}
    results = {"loads": {"a": _fresh("explicit", (0.2, 0.1), (1.0, 1.0), 199 * report.MIB),
                         "b": _fresh("jpegll", (0.31, 0.2), (1.0, 1.0), 201 * report.MIB),
                         "r": rle},
               "not_measured": {"h": {"role": "htj2k", "why": "no encoder"}},
               "scan": {"methods": [
                   {"method": "dicomio list_series", "files": 10, "median": 0.3},
                   {"method": "pydicom dcmread(stop_before_pixels=True)", "files": 10,
                    "median": 1.0}]},
               "commands": [{"command": "dicomio info (40 files)", "median": 0.26},
                            {"command": 'python -c "import numpy"', "median": 0.1}]}
    found = {t["target"]: t for t in targets.issue15(results)}
    assert found["explicit, fresh: dicomio auto / SimpleITK"]["passed"] is True  # 0.2
    assert found["explicit, warm: dicomio auto / SimpleITK"]["passed"] is True  # 0.1
    assert found["jpegll, fresh: dicomio auto / SimpleITK"]["passed"] is False  # 0.31 > 0.3
    assert found["j2k, fresh: dicomio auto / SimpleITK"]["passed"] is None  # not run
    first = found["uncompressed: dicomio auto first call (fresh) / warm call"]
    assert first["value"] == pytest.approx(2.0) and first["passed"] is False
    # Lossless and one voxel off the second decoder: not met.
    assert found["rle: dicomio auto right, checked by a second decoder"]["passed"] is False
    assert "no encoder" in found["htj2k: dicomio auto right, checked by a second decoder"][
        "shown"]
    scan = found["list_series / pydicom dcmread(stop_before_pixels=True), 10 files"]
    assert scan["passed"] is True  # 0.3
    info = found['dicomio info (40 files), whole command / python -c "import numpy"']
    assert info["passed"] is False  # 2.6
    memory = found["dicomio auto: peak RSS above the array, worst series (b)"]
    assert memory["value"] == pytest.approx(101) and memory["passed"] is False


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
    written = {d.name for d in generate.datasets(quick=True) if d.name.startswith("ct40-")
               and d.missing is None}
    assert set(results["loads"]) == written
    assert {"ct40-explicit-quick", "ct40-jpegll-quick", "ct40-j2k-quick",
            "ct40-rle-quick"} <= written
    for load in results["loads"].values():
        checks = {t["contender"]: t["check"] for t in load["timings"]}
        assert peers.is_right(checks["dicomio auto"])
        # SimpleITK's values must be right; its dtype is its own (int32 for HTJ2K).
        assert checks.get("SimpleITK", "identical").startswith(("identical", "within "))
        assert all(len(t["times"]) == 1 for t in load["timings"] if t["times"])
        auto = next(t for t in load["timings"] if t["contender"] == "dicomio auto")
        assert auto["peak_rss"] > load["array_bytes"]
        assert len(auto["fresh_times"]) == 1 and peers.is_right(auto["fresh_check"])
