"""Discovery stays inside the given folders: symlinks out of them are skipped unless asked,
loops and links into the system's pseudo-files never followed, special files never opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.series.discover import discover
from dicomio.testing.synthetic import SeriesSpec
from tests.support.corpus import REPOSITORY

runner = CliRunner()

SMALL = SeriesSpec(shape=(3, 8, 10))


def _run_isolated(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that is killed after ``timeout`` seconds: a scan
    that hangs (a FIFO opened for reading blocks forever) fails the test instead of it."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=REPOSITORY, check=False)


@pytest.fixture
def root_and_outside(make_series, tmp_path: Path) -> tuple[Path, Path]:
    """A scanned folder with one series of 3 slices, and beside it (not under it) another
    study of 4 slices that a symlink inside the scanned folder points to."""
    root, outside = tmp_path / "scanned", tmp_path / "other-study"
    make_series(SMALL, folder=root / "ct")
    make_series(SMALL.with_(shape=(4, 8, 10), seed=7), folder=outside)
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    (root / "file-out.dcm").symlink_to(next(outside.iterdir()))
    return root, outside


def test_a_symlink_out_of_the_scanned_folder_is_skipped(root_and_outside) -> None:
    root, outside = root_and_outside
    inventory = discover(root)
    assert len(inventory.headers) == 3
    assert all(h.path.is_relative_to(root / "ct") for h in inventory.headers)
    skipped = {s.path.name: s for s in inventory.skipped}
    assert set(skipped) == {"link-out", "file-out.dcm"}
    assert all(s.category == "other" for s in skipped.values())
    assert str(outside.resolve()) in skipped["link-out"].reason
    assert "outside the scanned folder" in skipped["link-out"].reason
    assert [s.n_slices for s in dicomio.list_series(root)] == [3]


def test_follow_symlinks_follows_them(root_and_outside) -> None:
    root, _ = root_and_outside
    inventory = discover(root, follow_symlinks=True)
    # 3 slices of the scanned series, 4 through the folder link, 1 through the file link
    assert len(inventory.headers) == 3 + 4 + 1
    assert not inventory.skipped
    assert sorted(s.n_slices for s in dicomio.list_series(root, follow_symlinks=True)) == [3, 4]


def test_a_symlink_inside_the_scanned_folder_is_followed(make_series, tmp_path: Path) -> None:
    root = tmp_path / "scanned"
    make_series(SMALL, folder=root / "data" / "ct")
    (root / "shortcut").symlink_to(root / "data" / "ct", target_is_directory=True)
    inventory = discover(root / "shortcut")  # the given path is itself a link: it is the root
    assert len(inventory.headers) == 3 and not inventory.skipped


def test_load_volume_does_not_load_another_study_through_a_link(root_and_outside) -> None:
    root, _ = root_and_outside
    assert dicomio.load_volume(root).shape == (3, 8, 10)
    with pytest.raises(dicomio.MultipleSeriesError):
        dicomio.load_volume(root, follow_symlinks=True)


def test_the_cli_says_why_and_follows_when_asked(root_and_outside) -> None:
    root, _ = root_and_outside
    result = runner.invoke(app, ["info", str(root), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [s["slices"] for s in report["series"]] == [3]
    assert sorted(Path(s["path"]).name for s in report["skipped"]) == ["file-out.dcm",
                                                                       "link-out"]
    followed = runner.invoke(app, ["info", str(root), "-f", "json", "--follow-symlinks"])
    assert sorted(s["slices"] for s in json.loads(followed.stdout)["series"]) == [3, 4]
    loaded = runner.invoke(app, ["load", str(root), "--json"])
    assert loaded.exit_code == 0 and json.loads(loaded.stdout)["shape"] == [3, 8, 10]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc on this system")
@pytest.mark.parametrize("follow", [False, True])
def test_a_link_to_proc_self_or_to_the_root_is_never_walked(make_series, tmp_path: Path,
                                                            follow: bool) -> None:
    """/proc/self/root is "/": followed, it would walk the whole file system (and /proc's
    files would be opened). Run in a child with a timeout, so a walk that runs away fails."""
    root = tmp_path / "scanned"
    make_series(SMALL, folder=root)
    (root / "self").symlink_to("/proc/self")
    (root / "everything").symlink_to("/")
    (root / "up").symlink_to("..")
    code = (f"import json, dicomio\n"
            f"inv = dicomio.discover({str(root)!r}, follow_symlinks={follow})\n"
            f"print(json.dumps([len(inv.headers), sorted(s.path.name for s in inv.skipped)]))")
    result = _run_isolated(code)
    assert result.returncode == 0, result.stderr
    headers, skipped = json.loads(result.stdout)
    assert headers == 3
    assert skipped == ["everything", "self", "up"]


def test_a_symlink_loop_is_reported_not_followed(make_series, tmp_path: Path) -> None:
    root = tmp_path / "scanned"
    make_series(SMALL, folder=root / "a")
    (root / "a" / "b").mkdir()
    (root / "a" / "b" / "back").symlink_to(root, target_is_directory=True)
    for follow in (False, True):
        inventory = discover(root, follow_symlinks=follow)
        assert len(inventory.headers) == 3
        [loop] = inventory.skipped
        assert loop.path.name == "back" and "symlink loop" in loop.reason


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_given_as_the_path_is_never_opened(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: forever. In a child with a
    timeout, so that the test fails instead of hanging when it is opened."""
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    code = (f"import json, dicomio\n"
            f"inv = dicomio.discover({str(fifo)!r})\n"
            f"print(json.dumps([[s.category, s.reason] for s in inv.skipped]))\n"
            f"try:\n"
            f"    dicomio.load_volume({str(fifo)!r})\n"
            f"except dicomio.NoDicomFilesError as exc:\n"
            f"    print(type(exc).__name__)")
    result = _run_isolated(code, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    [[category, reason]] = json.loads(lines[0])
    assert category == "other" and "not a regular file" in reason
    assert lines[1] == "NoDicomFilesError"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_link_to_a_fifo_given_as_the_path_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "image.dcm").symlink_to(fifo)
    code = (f"import dicomio\n"
            f"inv = dicomio.discover({str(tmp_path / 'image.dcm')!r})\n"
            f"print(len(inv.skipped), len(inv.headers))")
    result = _run_isolated(code, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "0"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_archive_runs_stay_inside_the_archive_unless_asked(root_and_outside, tmp_path: Path,
                                                           workers: str) -> None:
    """validate and convert over an archive plan it folder by folder: a link out of the
    archive is skipped there too, and followed with --follow-symlinks."""
    root, _ = root_and_outside
    report = json.loads(runner.invoke(app, ["validate", str(root), "-f", "json", "--workers",
                                            workers]).stdout)
    assert [s["slices"] for s in report["series"]] == [3]
    assert any("outside the scanned folder" in f["message"] for f in report["findings"])
    followed = json.loads(runner.invoke(app, ["validate", str(root), "-f", "json",
                                              "--workers", workers, "--follow-symlinks"]).stdout)
    assert sorted(s["slices"] for s in followed["series"]) == [3, 4]
    converted = runner.invoke(app, ["convert", str(root), str(tmp_path / f"out{workers}"),
                                    "--json", "--workers", workers])
    written = json.loads(converted.stdout)["series"]
    assert [s["status"] for s in written] == ["written"]
    assert dicomio.validate.validate(root).series[0].series.n_slices == 3
    assert len(dicomio.validate.validate(root, follow_symlinks=True).series) == 2
