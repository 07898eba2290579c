"""A DICOMDIR followed: the files its records list, and those it does not.

A DICOM CD or export carries a DICOMDIR (Media Storage Directory) indexing its files. Given
the DICOMDIR itself, dicomio reads the files its directory records reference (Referenced File
ID, relative to the DICOMDIR's folder, matched without regard to case as CD file systems do),
and reports the rest: a listed file that is missing (unreadable: a lost slice, perhaps), and a
file in the folder that no record lists (skipped, not read: give the folder to read every
file). The DICOMDIR is itself listed as a file without pixel data, as in its folder. A File
ID that leaves the folder (``..``, a separator inside a component) is never followed.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from dicomio.dicom.header import read_header
from dicomio.dicom.source import PathSource, read_dataset
from dicomio.errors import DicomIOError
from dicomio.series.inventory import SkippedFile
from dicomio.sources.archives import walk_order
from dicomio.sources.budgets import MAX_DICOMDIR_BYTES, MAX_DICOMDIR_DEPTH, MAX_MEMBERS

__all__ = ["is_dicomdir", "list_dicomdir"]


def is_dicomdir(path: Path) -> bool:
    """Whether the file ``path`` is a DICOMDIR, by its content."""
    try:
        return read_header(path).is_dicomdir
    except (DicomIOError, OSError):
        return False


def _referenced(path: Path) -> list[tuple[str, ...]]:
    """The Referenced File IDs of the DICOMDIR ``path``, in record order, each once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = read_dataset(PathSource(path), force=True)
    found: dict[tuple[str, ...], None] = {}
    for record in dataset.get("DirectoryRecordSequence", []):
        value = record.get("ReferencedFileID")
        if value:
            parts = (value,) if isinstance(value, str) else tuple(value)
            found[tuple(str(part).strip() for part in parts)] = None
    return list(found)


class _Folders:
    """The names in each folder, upper-cased, listed once: CD file systems match File IDs
    without regard to case, and a folder of thousands of files is listed once, not per file."""

    def __init__(self) -> None:
        self._names: dict[Path, dict[str, list[str]]] = {}

    def resolve(self, folder: Path, parts: tuple[str, ...]) -> Path:
        """``folder/parts...``, each part matched without regard to case when not found as
        is (and when one name only matches)."""
        path = folder
        for part in parts:
            exact = path / part
            if not exact.exists() and path.is_dir():
                matches = self._listing(path).get(part.upper(), [])
                exact = path / matches[0] if len(matches) == 1 else exact
            path = exact
        return path

    def _listing(self, folder: Path) -> dict[str, list[str]]:
        if folder not in self._names:
            names: dict[str, list[str]] = {}
            for name in sorted(os.listdir(folder)):
                names.setdefault(name.upper(), []).append(name)
            self._names[folder] = names
        return self._names[folder]


def _unsafe(parts: tuple[str, ...]) -> bool:
    return any(part in ("", ".", "..") or "/" in part or "\\" in part for part in parts)


def _folder_files(folder: Path) -> list[Path]:
    """The regular files under ``folder`` (links not followed), at most :data:`MAX_MEMBERS`."""
    files: list[Path] = []
    for here, folders, names in os.walk(folder):
        folders.sort()
        files += [Path(here) / name for name in sorted(names)
                  if os.path.isfile(Path(here) / name) and not os.path.islink(Path(here) / name)]
        if len(files) > MAX_MEMBERS:
            break
    return files[:MAX_MEMBERS]


def _follow(path: Path, folder: Path, depth: int, listed: set[Path], folders: _Folders
            ) -> list[Path | SkippedFile]:
    """The entries of the DICOMDIR ``path`` (File IDs relative to ``folder``, the file set's
    root), following the directory files it references (Philips ``DIRFILE``) ``depth`` more
    levels down; every file referenced added to ``listed``."""
    try:
        if path.stat().st_size > MAX_DICOMDIR_BYTES:
            return [SkippedFile(path, f"DICOMDIR over {MAX_DICOMDIR_BYTES} bytes "
                                      f"(MAX_DICOMDIR_BYTES): not read", "unreadable")]
        referenced = _referenced(path)
    except OSError as exc:
        return [SkippedFile(path, f"cannot read: {exc.strerror or exc}", "unreadable")]
    except Exception as exc:  # pydicom raises many types for a damaged file
        return [SkippedFile(path, f"unreadable DICOMDIR: {type(exc).__name__}: {exc}",
                            "unreadable")]
    entries: list[Path | SkippedFile] = [
        SkippedFile(path, "DICOMDIR (an index of files, not an image): its records "
                          "followed", "no_pixel_data")]
    for parts in referenced:
        if _unsafe(parts):
            entries.append(SkippedFile(folder.joinpath(*(p.replace("/", "_") for p in parts)),
                                       "a DICOMDIR File ID leaving its folder: never followed",
                                       "other"))
            continue
        file = folders.resolve(folder, parts)
        if file in listed:
            continue
        listed.add(file)
        if not file.is_file():
            entries.append(SkippedFile(file, "listed in the DICOMDIR but missing", "unreadable"))
        elif depth > 0 and is_dicomdir(file):
            entries += _follow(file, folder, depth - 1, listed, folders)
        else:
            entries.append(file)
    return entries


def list_dicomdir(path: Path) -> list[Path | SkippedFile]:
    """The files the DICOMDIR ``path`` lists (to read), its missing and unlisted files and
    itself (skipped, with the reasons), in discovery's order of the DICOMDIR's folder; the
    DICOMDIR as one unreadable file when it cannot be read. Directory files it references
    (a DICOMDIR per study or series, as Philips writes them) are followed, down to
    :data:`MAX_DICOMDIR_DEPTH` levels."""
    folder = path.parent
    listed = {path}
    entries = _follow(path, folder, MAX_DICOMDIR_DEPTH, listed, _Folders())
    entries += [SkippedFile(file, "not listed in the DICOMDIR: not read (give the folder "
                                  "to read every file)", "other")
                for file in _folder_files(folder) if file not in listed]
    return sorted(entries, key=lambda entry: walk_order(
        (entry.path if isinstance(entry, SkippedFile) else entry).relative_to(folder).parts))
