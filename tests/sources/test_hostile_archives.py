"""Hostile archives stay bounded: a zip bomb's member, too many members, names leaving the
archive, links, archives nested in archives and damaged archives are each skipped with a reason
(or refused as a whole), and never cost memory in proportion to what they claim."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

import dicomio
from dicomio.sources import archives, budgets
from dicomio.testing.synthetic import SeriesSpec, write_series


def _reasons(path: Path) -> dict[str, tuple[str, str]]:
    _, inventory = dicomio.scan(path)
    return {str(s.path).rpartition("!/")[2]: (s.category, s.reason) for s in inventory.skipped}


def test_a_member_declaring_more_than_the_budget_is_never_opened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("IM1", b"\0" * (4 << 20))  # 4 MiB of zeros: a few kilobytes packed
    monkeypatch.setattr(archives, "MAX_MEMBER_BYTES", 1 << 20)
    category, reason = _reasons(bomb)["IM1"]
    assert category == "unreadable" and "MAX_MEMBER_BYTES" in reason


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_too_many_members_refuse_the_archive(kind: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip's count is read from its end record before its central directory is parsed; a
    tar's members are counted as they are listed."""
    crowded = tmp_path / f"crowded.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(crowded, "w") as archive:
            for k in range(20):
                archive.writestr(f"f{k}", b"x")
    else:
        with tarfile.open(crowded, "w") as archive:
            for k in range(20):
                info = tarfile.TarInfo(f"f{k}")
                info.size = 1
                archive.addfile(info, io.BytesIO(b"x"))
    monkeypatch.setattr(archives, "MAX_MEMBERS", 10)
    _, inventory = dicomio.scan(crowded)
    assert [(s.path, s.category) for s in inventory.skipped] == [(crowded, "unreadable")]
    assert "MAX_MEMBERS" in inventory.skipped[0].reason
    with pytest.raises(dicomio.NoDicomFilesError):
        dicomio.load_volume(crowded)


def test_a_compressed_tar_inflating_past_the_budget_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.tgz"
    with tarfile.open(bomb, "w:gz") as archive:
        info = tarfile.TarInfo("zeros")
        info.size = 4 << 20
        archive.addfile(info, io.BytesIO(b"\0" * info.size))
    monkeypatch.setattr(archives, "MAX_INFLATED_TAR_BYTES", 1 << 20)
    _, inventory = dicomio.scan(bomb)
    assert inventory.skipped[0].category == "unreadable"
    assert "MAX_INFLATED_TAR_BYTES" in inventory.skipped[0].reason


def test_names_leaving_the_archive_links_and_nested_archives_are_not_read(
        tmp_path: Path) -> None:
    series = write_series(tmp_path / "s", SeriesSpec(shape=(3, 8, 8)))
    image = series.files[0].read_bytes()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as nested:
        nested.writestr("IM1", image)
    hostile = tmp_path / "hostile.tar"
    with tarfile.open(hostile, "w") as archive:
        for name, data in (("../../escape.dcm", image), ("/abs.dcm", image),
                           ("inner.zip", inner.getvalue())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.dcm")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    reasons = _reasons(hostile)
    assert reasons["../../escape.dcm"][0] == "other" and "leaves the archive" in \
        reasons["../../escape.dcm"][1]
    assert "leaves the archive" in reasons["abs.dcm"][1]  # a Path keeps one slash
    assert reasons["link.dcm"][0] == "other"
    assert reasons["inner.zip"][0] == "not_dicom"  # never opened: nesting costs nothing
    assert not (tmp_path.parent / "escape.dcm").exists()


def test_a_damaged_archive_is_one_unreadable_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    _, inventory = dicomio.scan(broken)
    assert [(s.path, s.category) for s in inventory.skipped] == [(broken, "unreadable")]


def test_the_budgets_are_far_above_real_studies() -> None:
    assert budgets.MAX_MEMBERS >= 100_000
    assert budgets.MAX_MEMBER_BYTES >= 1 << 30
