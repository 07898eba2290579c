"""Zip and tar archives read in place: each member a :class:`~dicomio.dicom.source.Source`.

An archive given to dicomio (``study.zip``, ``study.tar``, ``study.tar.gz``/``.tgz``, known
by its content, not its name) is listed once; each member that is a regular file becomes an
:class:`ArchiveMember` named ``study.zip!/DICOM/IM1``, read only when its header or pixels are.
Nothing is extracted to disk: a zip member is inflated as it is read, a plain tar member is a
byte range of the archive, and a compressed tar is inflated once into memory (gzip has no
index), within :data:`~dicomio.sources.budgets.MAX_INFLATED_TAR_BYTES`.

Members are listed in the order discovery walks a folder (a folder's files by name, then its
subfolders), so an archive gives the inventory its unpacked folder gives. What is not read is
listed with its reason: links and devices, names leaving the archive (absolute, ``..``),
encrypted members and members over :data:`~dicomio.sources.budgets.MAX_MEMBER_BYTES`. An
archive inside an archive is not opened (it is a member that is not DICOM), so nesting costs
nothing.

A member's name is also an address: :func:`member_source` finds ``study.zip!/DICOM/IM1``
again, so an archive run or a child process that keeps names only reads the same bytes.
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import threading
import weakref
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from dicomio.series.inventory import SkippedFile
from dicomio.sources.budgets import MAX_INFLATED_TAR_BYTES, MAX_MEMBER_BYTES, MAX_MEMBERS
from dicomio.sources.window import open_window

__all__ = ["SEPARATOR", "ArchiveMember", "archive_kind", "list_archive", "member_source",
           "walk_order"]

#: Between an archive's path and a member's name in the member's name.
SEPARATOR = "!/"

_TAR_MAGIC = slice(257, 262)


class _Refused(Exception):
    """The archive cannot be listed: damaged, or beyond a limit (the message says which)."""


def archive_kind(path: Path) -> str | None:
    """``"zip"``, ``"tar"`` or ``"tar.gz"`` when the file ``path`` is such an archive by its
    content, else None (a DICOM file, anything else, or a file that cannot be read)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(512)
            if start[:4] == b"PK\x03\x04" or start[:4] == b"PK\x05\x06":
                return "zip"
            if start[_TAR_MAGIC] == b"ustar":
                return "tar"
            if start[:2] == b"\x1f\x8b":
                handle.seek(0)
                with gzip.GzipFile(fileobj=handle) as inflated:
                    return "tar.gz" if inflated.read(512)[_TAR_MAGIC] == b"ustar" else None
    except (OSError, EOFError, zlib.error):
        return None
    return None


@dataclass(frozen=True)
class ArchiveMember:
    """One regular file inside an archive, read in place.

    Attributes
    ----------
    archive
        The archive's path.
    member
        The member's name inside it.
    length
        Its size, as the archive declares it.
    """

    archive: Path
    member: str
    length: int
    on_disk: bool = False
    _offset: int = 0  # where a tar member's bytes start
    _opened: _Archive | None = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to another process by its address: the open archive stays here.
        return (ArchiveMember, (self.archive, self.member, self.length, False, self._offset))

    @property
    def name(self) -> Path:
        return Path(f"{self.archive}{SEPARATOR}{self.member}")

    @property
    def kind(self) -> str:
        return "a member of an archive"

    def open(self) -> BinaryIO:
        archive = self._opened if self._opened is not None else _open(self.archive)
        return archive.open_member(self)

    def size(self) -> int:
        return self.length


class _Archive:
    """An archive opened once, shared by its members (each holds it: it is closed when the
    last member is gone)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = archive_kind(path)
        self._zip: zipfile.ZipFile | None = None
        self._inflated: bytes | None = None
        self.entries: list[ArchiveMember | SkippedFile] = []
        try:
            if self.kind == "zip":
                self._list_zip()
            elif self.kind in ("tar", "tar.gz"):
                self._list_tar()
            else:
                raise _Refused("not a zip or tar archive")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, struct.error,
                ValueError) as exc:
            raise _Refused(f"damaged {self.kind} archive: {exc}") from None
        self.by_name = {entry.member if isinstance(entry, ArchiveMember)
                        else str(entry.path).rpartition(SEPARATOR)[2]: entry
                        for entry in self.entries}

    def _member(self, name: str, length: int, offset: int = 0) -> ArchiveMember | SkippedFile:
        problem = _name_problem(name)
        if problem is not None:
            return SkippedFile(self._named(name), problem, "other")
        if length > MAX_MEMBER_BYTES:
            return SkippedFile(self._named(name), f"archive member of {length} bytes, over "
                               f"the {MAX_MEMBER_BYTES} bytes dicomio reads of one member "
                               f"(MAX_MEMBER_BYTES): never opened", "unreadable")
        return ArchiveMember(self.path, name, length, False, offset, self)

    def _named(self, name: str) -> Path:
        return Path(f"{self.path}{SEPARATOR}{name}")

    def _list_zip(self) -> None:
        with open(self.path, "rb") as handle:
            count = _zip_entry_count(handle)
        if count > MAX_MEMBERS:
            raise _Refused(f"{count} members, over the {MAX_MEMBERS} dicomio lists "
                           f"(MAX_MEMBERS)")
        self._zip = zipfile.ZipFile(self.path)
        for info in self._zip.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                self.entries.append(SkippedFile(self._named(info.filename), "encrypted "
                                                "archive member: cannot be read", "unreadable"))
                continue
            self.entries.append(self._member(info.filename, info.file_size))

    def _list_tar(self) -> None:
        if self.kind == "tar.gz":
            self._inflated = _inflate(self.path)
        source = {"fileobj": io.BytesIO(self._inflated)} if self._inflated is not None \
            else {"name": self.path}
        with tarfile.open(mode="r:", **source) as tar:
            for count, info in enumerate(iter(tar.next, None), start=1):
                if count > MAX_MEMBERS:
                    raise _Refused(f"over {MAX_MEMBERS} members, the most dicomio lists "
                                   f"(MAX_MEMBERS)")
                tar.members.clear()  # type: ignore[attr-defined]  # listed here instead
                name = info.name.removeprefix("./")
                if info.isdir():
                    continue
                if info.issym() or info.islnk():
                    self.entries.append(SkippedFile(self._named(name), "a link inside the "
                                                    "archive (not followed)", "other"))
                elif not info.isfile() or info.issparse():
                    self.entries.append(SkippedFile(self._named(name), "not a regular file "
                                                    "in the archive (a device, a pipe, a "
                                                    "sparse file): never read", "other"))
                else:
                    self.entries.append(self._member(name, info.size, info.offset_data))

    def open_member(self, member: ArchiveMember) -> BinaryIO:
        """The bytes of ``member``, as a seekable binary file."""
        if self._zip is not None:
            try:
                return self._zip.open(member.member)  # type: ignore[return-value]
            except (KeyError, NotImplementedError, RuntimeError, zipfile.BadZipFile,
                    zlib.error) as exc:
                raise OSError(f"cannot open the archive member: {exc}") from None
        if self._inflated is not None:
            end = member._offset + member.length
            return io.BytesIO(self._inflated[member._offset:end])
        return open_window(self.path, member._offset, member.length)


def _name_problem(name: str) -> str | None:
    """Why a member called ``name`` is never read (its name leaves the archive), or None."""
    if "\\" in name or "\0" in name:
        return "member name with a backslash or a NUL: never read"
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
        return "member name leaves the archive (absolute, or through ..): never read"
    return None


def _zip_entry_count(handle: BinaryIO) -> int:
    """How many members a zip's end of central directory declares (read before the central
    directory itself, which costs memory in proportion)."""
    size = handle.seek(0, io.SEEK_END)
    tail_start = max(size - (1 << 16) - 22, 0)
    handle.seek(tail_start)
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise zipfile.BadZipFile("no end of central directory")
    count: int = struct.unpack_from("<H", tail, at + 10)[0]
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
        handle.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = handle.read(56)
        if record[:4] == b"PK\x06\x06":
            count = struct.unpack_from("<Q", record, 32)[0]
    return count


def _inflate(path: Path) -> bytes:
    """The compressed tar ``path`` inflated, within :data:`MAX_INFLATED_TAR_BYTES`."""
    with gzip.open(path, "rb") as stream:
        data = stream.read(MAX_INFLATED_TAR_BYTES + 1)
    if len(data) > MAX_INFLATED_TAR_BYTES:
        raise _Refused(f"inflates to more than {MAX_INFLATED_TAR_BYTES} bytes "
                       f"(MAX_INFLATED_TAR_BYTES): decompress it to a .tar (gunzip), which "
                       f"dicomio reads in place at any size")
    return data


# The archives open now, by path: members of one archive share one listing while any lives.
_OPEN: weakref.WeakValueDictionary[tuple[str, int, int], _Archive] = \
    weakref.WeakValueDictionary()
_OPEN_LOCK = threading.Lock()


def _open(path: Path) -> _Archive:
    info = path.stat()
    key = (str(path), info.st_mtime_ns, info.st_size)
    with _OPEN_LOCK:
        archive = _OPEN.get(key)
        if archive is None:
            archive = _Archive(path)
            _OPEN[key] = archive
    return archive


def walk_order(parts: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """The sort key of a file at ``parts`` (its path's parts below a folder) that puts files
    in discovery's order: a folder's files by name, then its subfolders, each in turn."""
    *folders, last = parts
    return (*((1, part) for part in folders), (0, last))


def _member_order(entry: ArchiveMember | SkippedFile) -> tuple[tuple[int, str], ...]:
    name = entry.member if isinstance(entry, ArchiveMember) \
        else str(entry.path).rpartition(SEPARATOR)[2]
    return walk_order(name.split("/"))


def list_archive(path: Path) -> list[ArchiveMember | SkippedFile]:
    """The members of the archive ``path``, in discovery's order, each a source to read or a
    skipped file with its reason; the whole archive as one unreadable file when it cannot be
    listed (damaged, or beyond a limit of :mod:`dicomio.sources.budgets`)."""
    try:
        archive = _open(path)
    except _Refused as exc:
        return [SkippedFile(path, f"unreadable archive: {exc}", "unreadable")]
    except OSError as exc:
        return [SkippedFile(path, f"cannot read: {exc.strerror or exc}", "unreadable")]
    return sorted(archive.entries, key=_member_order)


def member_source(name: str) -> ArchiveMember | SkippedFile | None:
    """The member addressed by ``name`` (``study.zip!/DICOM/IM1``), or None when no archive
    file starts it; a skipped file when the archive holds no such member."""
    archive, separator, member = name.partition(SEPARATOR)
    while separator:
        path = Path(archive)
        if path.is_file() and archive_kind(path) is not None:
            try:
                found = _open(path).by_name.get(member)
            except _Refused as exc:
                return SkippedFile(path, f"unreadable archive: {exc}", "unreadable")
            except OSError as exc:
                return SkippedFile(path, f"cannot read: {exc.strerror or exc}", "unreadable")
            return found or SkippedFile(Path(name), "no such member in the archive",
                                        "unreadable")
        head, separator, member = member.partition(SEPARATOR)
        archive = f"{archive}{SEPARATOR}{head}"
    return None
