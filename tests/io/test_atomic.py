"""Atomic writes: whole files or none, never through a symlink inside the output folder, and
the partial files of a writer killed outright removed by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dicomio.io.atomic import (
    is_partial_file,
    remove_stale_parts,
    write_atomically,
    write_bytes_atomically,
    write_text_atomically,
)
from tests.support.corpus import REPOSITORY

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and locks")

# A writer that creates its partial file, writes a little, then waits to be killed.
_SLOW_WRITER = """
import sys, time
from dicomio.io.atomic import write_atomically

def write(handle):
    handle.write(b"half")
    handle.flush()
    print("writing", flush=True)
    time.sleep(600)

write_atomically(sys.argv[1], write)
"""


def _killed_writer(target: Path) -> None:
    """Start a writer of ``target`` and kill it (SIGKILL: nothing can clean up) mid-write."""
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)],
                             stdout=subprocess.PIPE, text=True, cwd=REPOSITORY)
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)


def _partial_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.part"))


def test_a_killed_writer_leaves_a_partial_file_the_next_write_removes(tmp_path: Path) -> None:
    target = tmp_path / "volume.nii.gz"
    _killed_writer(target)
    [left] = _partial_files(tmp_path)
    assert left.startswith(".volume.nii.gz.dicomio-") and is_partial_file(left)
    assert not target.exists()
    write_text_atomically(target, "whole")
    assert target.read_text() == "whole"
    assert _partial_files(tmp_path) == []


def test_a_live_writer_keeps_its_partial_file(tmp_path: Path) -> None:
    """A partial file whose writer is alive (its lock held) is never taken for a stale one."""
    target = tmp_path / "volume.npz"
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)],
                             stdout=subprocess.PIPE, text=True, cwd=REPOSITORY)
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
        [alive] = _partial_files(tmp_path)
        write_text_atomically(target, "other writer")
        assert remove_stale_parts(tmp_path) == 0
        assert _partial_files(tmp_path) == [alive]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert remove_stale_parts(tmp_path) == 1
    assert _partial_files(tmp_path) == []
    assert target.read_text() == "other writer"


def test_stale_parts_are_removed_in_subfolders_and_others_kept(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    _killed_writer(tmp_path / "a" / "b" / "x.nrrd")
    keep = [tmp_path / "a" / ".x.nrrd.1234.part", tmp_path / "a" / "notes.part",
            tmp_path / "a" / ".hidden"]
    for path in keep:
        path.write_text("not ours")
    assert remove_stale_parts(tmp_path) == 1
    assert _partial_files(tmp_path) == [".x.nrrd.1234.part"]
    assert all(path.exists() for path in keep)


def test_never_through_a_symlinked_folder_inside_within(tmp_path: Path) -> None:
    output, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    output.mkdir()
    elsewhere.mkdir()
    (output / "patient1").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(FileExistsError, match="symbolic link"):
        write_bytes_atomically(output / "patient1" / "ct" / "a.npz", b"data", within=output)
    assert list(elsewhere.iterdir()) == []
    # without ``within`` the caller's own folders are trusted, links included
    write_bytes_atomically(output / "patient1" / "b.npz", b"data")
    assert (elsewhere / "b.npz").read_bytes() == b"data"


def test_a_file_where_a_folder_is_needed_is_refused(tmp_path: Path) -> None:
    (tmp_path / "patient1").write_text("a file")
    with pytest.raises(FileExistsError, match="symbolic link or a file"):
        write_bytes_atomically(tmp_path / "patient1" / "a.npz", b"data", within=tmp_path)


def test_missing_folders_under_within_are_created(tmp_path: Path) -> None:
    written = write_bytes_atomically(tmp_path / "p" / "q" / "a.npz", b"data", within=tmp_path)
    assert written.read_bytes() == b"data"
    with pytest.raises(ValueError):
        write_bytes_atomically(tmp_path.parent / "a.npz", b"data", within=tmp_path)


def test_a_symlink_at_the_target_name_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "a.npz"
    link.symlink_to(victim)
    write_bytes_atomically(link, b"data", within=tmp_path / "out")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_bytes() == b"data"


def test_a_symlink_planted_during_the_write_cannot_redirect_it(tmp_path: Path) -> None:
    """The folder is opened once, without following links: replacing it by a link while the
    content is written changes nothing."""
    output, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (output / "p").mkdir(parents=True)
    elsewhere.mkdir()

    def write(handle) -> None:  # type: ignore[no-untyped-def]
        os.rename(output / "p", output / "p-moved")
        (output / "p").symlink_to(elsewhere, target_is_directory=True)
        handle.write(b"data")

    write_atomically(output / "p" / "a.npz", write, within=output)
    assert list(elsewhere.iterdir()) == []
    assert (output / "p-moved" / "a.npz").read_bytes() == b"data"


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    def write(handle) -> None:  # type: ignore[no-untyped-def]
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "a.npz", write)
    assert list(tmp_path.iterdir()) == []
