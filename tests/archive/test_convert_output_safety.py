"""Converting an archive writes inside the output folder only, each series into a file of its
own: UIDs that would share a name get distinct ones, symlinks in the output are never written
through, a killed run's partial files are cleaned up, two runs never share a folder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dicomio.archive import convert_archive
from dicomio.archive.conversion import prepare_output, release_output
from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.corpus import REPOSITORY
from tests.support.dicom_files import rewrite
from tests.support.schemas import check_schema

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and locks")

runner = CliRunner()
SMALL = SeriesSpec(shape=(3, 8, 10))


def test_uids_that_sanitise_alike_never_overwrite_each_other(tmp_path: Path) -> None:
    """``1.2.3.9`` and ``1.2.3.9.`` (trailing dot: not a valid UID) become one name once the
    dot is stripped: the second series silently replaced the first, and both were "written"."""
    archive = tmp_path / "archive"
    first = write_series(archive / "ct", SMALL.with_(series_number=5, seed=1))
    second = write_series(archive / "ct2", SMALL.with_(series_number=5, seed=2))
    rewrite(first.files, SeriesInstanceUID="1.2.3.9", SeriesDescription="same")
    rewrite(second.files, SeriesInstanceUID="1.2.3.9.", SeriesDescription="same")
    for path in second.files:  # one folder: the names, not the folders, must tell them apart
        path.rename(archive / "ct" / f"other_{path.name}")
    output = tmp_path / "out"
    result = runner.invoke(app, ["convert", str(archive), str(output), "--to", "npz",
                                 "--json", "-j", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    check_schema("convert", report)
    outputs = {s["uid"]: s["output"] for s in report["series"]}
    assert outputs["1.2.3.9"] == "ct/5_same_1.2.3.9.npz"
    assert outputs["1.2.3.9."] != outputs["1.2.3.9"]
    assert outputs["1.2.3.9."].startswith("ct/5_same_1.2.3.9_u")
    notes = {s["uid"]: s["note"] for s in report["series"]}
    assert notes["1.2.3.9"] is None and "not a valid UID" in notes["1.2.3.9."]
    assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*.npz")) == \
        sorted(outputs.values())
    for uid, truth in (("1.2.3.9", first), ("1.2.3.9.", second)):
        with np.load(output / outputs[uid]) as saved:
            assert np.array_equal(saved["array"], truth.modality_values())


@pytest.mark.parametrize("workers", [1, 2])
def test_force_never_writes_through_a_symlink_in_the_output(tmp_path: Path,
                                                            workers: int) -> None:
    series = write_series(tmp_path / "archive" / "patient1", SMALL.with_(series_number=1))
    write_series(tmp_path / "archive" / "patient2", SMALL.with_(series_number=2, seed=4))
    output, victim = tmp_path / "out", tmp_path / "victim"
    output.mkdir()
    victim.mkdir()
    (output / "patient1").symlink_to(victim, target_is_directory=True)
    report = convert_archive(tmp_path / "archive", output, format="npz", force=True,
                             workers=workers)
    assert list(victim.iterdir()) == []
    by_uid = {c.series.uid: c for c in report.series}
    refused = by_uid[series.series_uid]
    assert refused.status == "failed" and refused.reason is not None
    assert "symbolic link" in refused.reason and str(output / "patient1") in refused.reason
    assert report.counts == {"written": 1, "failed": 1}
    assert (output / "patient1").is_symlink()


def test_force_replaces_a_symlink_at_a_file_name_never_its_target(tmp_path: Path) -> None:
    write_series(tmp_path / "archive" / "ct", SMALL.with_(series_number=1))
    output = tmp_path / "out"
    first = convert_archive(tmp_path / "archive", output, format="npz")
    name = output / first.series[0].output  # type: ignore[operator]
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    name.unlink()
    name.symlink_to(victim)
    again = convert_archive(tmp_path / "archive", output, format="npz", force=True)
    assert again.passed
    assert victim.read_text() == "keep me"
    assert not name.is_symlink()


# Converts an archive into a folder, stopping (forever) inside the first write.
_KILLED_CONVERSION = """
import sys, time
import dicomio.io.writers as writers

real = writers._write_npz

def slow(volume, handle):
    real(volume, handle)
    handle.flush()
    print("writing", flush=True)
    time.sleep(600)

writers._write_npz = slow
from dicomio.archive import convert_archive
convert_archive(sys.argv[1], sys.argv[2], format="npz", workers=1)
"""


def test_a_killed_run_leaves_partial_files_the_next_run_removes(tmp_path: Path) -> None:
    write_series(tmp_path / "archive" / "ct", SMALL.with_(series_number=1))
    output = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CONVERSION,
                              str(tmp_path / "archive"), str(output)],
                             stdout=subprocess.PIPE, text=True, cwd=REPOSITORY)
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
        with pytest.raises(FileExistsError, match="another dicomio convert"):
            prepare_output(output, force=True)  # the folder is taken while it runs
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    left = [p.name for p in output.rglob("*.part")]
    assert len(left) == 1 and left[0].startswith(".")
    # the partial file alone does not make the folder "not empty"; the next run removes it
    report = convert_archive(tmp_path / "archive", output, format="npz")
    assert report.passed
    assert [p.name for p in output.rglob("*.part")] == []
    assert len(list(output.rglob("*.npz"))) == 1


def test_the_output_folder_is_claimed_for_the_run(tmp_path: Path) -> None:
    output = tmp_path / "out"
    prepare_output(output)
    assert output.is_dir()
    prepare_output(output)  # the same process may prepare it again
    code = ("import sys\nfrom pathlib import Path\n"
            "from dicomio.archive.conversion import prepare_output\n"
            "try:\n    prepare_output(Path(sys.argv[1]), force=True)\n"
            "except FileExistsError as exc:\n    print(exc)\n")
    other = subprocess.run([sys.executable, "-c", code, str(output)], capture_output=True,
                           text=True, timeout=60, cwd=REPOSITORY, check=False)
    assert "being written into by another dicomio convert" in other.stdout, other.stderr
    release_output(output)
    free = subprocess.run([sys.executable, "-c", code, str(output)], capture_output=True,
                          text=True, timeout=60, cwd=REPOSITORY, check=False)
    assert free.returncode == 0 and free.stdout == "", free.stderr


def test_a_file_in_the_output_folder_still_needs_force(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "mine.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        prepare_output(output)
    prepare_output(output, force=True)
    release_output(output)
