"""Archives as sources: known by content, members read in place (a plain tar member as a byte
range), and a member's name an address that another process can open again."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from dicomio.dicom.header import read_header
from dicomio.series.inventory import SkippedFile
from dicomio.sources.archives import ArchiveMember, archive_kind, list_archive, member_source
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.sources import ARCHIVE_KINDS, archive_of, files_under


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archives") / "series"
    write_series(root / "a", SeriesSpec(shape=(3, 8, 6)))
    return root


@pytest.mark.parametrize("kind", ARCHIVE_KINDS)
def test_an_archive_is_known_by_its_content_not_its_name(folder: Path, kind: str,
                                                         tmp_path: Path) -> None:
    archive = archive_of(folder, kind, tmp_path / "export.dat")
    assert archive_kind(archive) == {"tgz": "tar.gz"}.get(kind, kind)
    assert archive_kind(files_under(folder)[0]) is None
    renamed = tmp_path / "IM1.zip"
    shutil.copy(files_under(folder)[0], renamed)
    assert archive_kind(renamed) is None


@pytest.mark.parametrize("kind", ARCHIVE_KINDS)
def test_members_hold_the_files_bytes_and_seek_as_files_do(folder: Path, kind: str,
                                                           tmp_path: Path) -> None:
    archive = archive_of(folder, kind, tmp_path / f"series.{kind}")
    members = [m for m in list_archive(archive) if isinstance(m, ArchiveMember)]
    files = files_under(folder)
    assert [m.member.removeprefix("./") for m in members] == \
        [f.relative_to(folder).as_posix() for f in files]
    for member, path in zip(members, files, strict=True):
        data = path.read_bytes()
        assert member.size() == len(data)
        with member.open() as handle:
            assert handle.read() == data
            handle.seek(132)
            assert handle.read(10) == data[132:142]
            handle.seek(-4, 2)
            assert handle.read() == data[-4:]


def test_a_member_sent_to_another_process_reads_the_same_bytes(folder: Path,
                                                               tmp_path: Path) -> None:
    archive = archive_of(folder, "tar", tmp_path / "series.tar")
    member = next(m for m in list_archive(archive) if isinstance(m, ArchiveMember))
    copy = pickle.loads(pickle.dumps(member))
    assert copy == member
    with copy.open() as a, member.open() as b:
        assert a.read() == b.read()
    assert read_header(copy).path == member.name


def test_a_name_is_an_address(folder: Path, tmp_path: Path) -> None:
    archive = archive_of(folder, "zip", tmp_path / "series.zip")
    first = files_under(folder)[0].relative_to(folder).as_posix()
    found = member_source(f"{archive}!/{first}")
    assert isinstance(found, ArchiveMember) and found.member == first
    missing = member_source(f"{archive}!/no/such/file")
    assert isinstance(missing, SkippedFile) and missing.reason == "no such member in the archive"
    assert member_source(f"{tmp_path}/not-an-archive!/x") is None
