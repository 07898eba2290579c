"""Where a file's bytes come from, and the data set of a plain file as the header walk reads it.

A :class:`Source` is anything a header and pixel bytes are read from: a file on disk
(:class:`PathSource`), a member of a zip or tar archive, a buffer in memory
(:mod:`dicomio.sources` holds those). It has a ``name`` (the provenance every Volume, finding
and skipped file shows: a path, ``study.zip!/DICOM/IM1``, ``<memory>[3]``), says whether it is
a file on disk a toolkit can open by name (``on_disk``), and opens as a seekable binary file.
Every reader in dicomio opens a file's bytes through its source, so discovery, the header walk
and the pixel readers are one pipeline whatever the bytes live in.

:class:`FileSource` is the rest of an open data set as the header walk reads it: on in order,
and over what it does not want by a seek. :class:`~dicomio.dicom.deflate.Inflater` is the same
for a deflated data set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pydicom import Dataset

__all__ = ["FileSource", "MetadataSource", "PathSource", "Source", "read_dataset", "size_of"]


@runtime_checkable
class Source(Protocol):
    """Something a header and pixel bytes are read from (picklable: a process reading it
    elsewhere opens it again).

    Attributes
    ----------
    name
        What provenance, findings and skipped files call it.
    on_disk
        Whether ``name`` is a file on disk that a toolkit can open by itself.
    kind
        What it is, in a few words ("a file", "a member of an archive", "data held in memory").
    """

    @property
    def name(self) -> Path: ...

    @property
    def on_disk(self) -> bool: ...

    @property
    def kind(self) -> str: ...

    def open(self) -> BinaryIO:
        """A seekable binary file of its bytes (the caller closes it)."""
        ...

    def size(self) -> int:
        """How many bytes it holds."""
        ...


@dataclass(frozen=True)
class PathSource:
    """A file on disk."""

    name: Path
    on_disk: bool = True
    kind: str = "a file"

    def open(self) -> BinaryIO:
        return open(self.name, "rb")

    def size(self) -> int:
        return os.stat(self.name).st_size


class MetadataSource:
    """What a source whose bytes are a header built from metadata derives from (a DICOMweb
    instance's WADO-RS metadata: :mod:`dicomio.sources.web_headers`): a data set without its
    pixel data, the instance itself not retrieved yet.

    The header walk reads it as any file, then says what it cannot know
    (:func:`dicomio.dicom.types.from_metadata`): the transfer syntax the instance is stored in
    when ``stored_syntax`` is empty, and where its pixel data lies.
    """

    #: The transfer syntax UID the instance is stored in, when the metadata says; else "".
    stored_syntax: str


def size_of(handle: BinaryIO) -> int:
    """The length of the open seekable ``handle`` (its position kept)."""
    try:
        return os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError, ValueError):  # not a file on disk: an archive member, memory
        here = handle.tell()
        end = handle.seek(0, os.SEEK_END)
        handle.seek(here)
        return end


def read_dataset(source: Source, **options: Any) -> Dataset:
    """The data set of ``source`` as ``pydicom.dcmread(..., **options)`` reads it (every value
    read before the file is closed), asking the file for no more bytes than it holds
    (:class:`_Bounded`)."""
    import pydicom

    with source.open() as handle:
        return pydicom.dcmread(_Bounded(handle, size_of(handle)), **options)


class _Bounded:
    """``handle``, whose reads ask for no more than what is left of its ``size`` bytes.

    pydicom reads each element's value in one call of its declared length, and a file object
    allocates the length asked for before it reads: a damaged length of 4 GiB, or a header
    pydicom parses with another VR than the one it declares, would cost a 4 GiB allocation (a
    MemoryError under a memory ceiling) for a file of a few kilobytes.
    """

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self._handle, self._size = handle, size
        self.name = getattr(handle, "name", None)

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            return self._handle.read()
        return self._handle.read(max(0, min(size, self._size - self._handle.tell())))

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()


class FileSource:
    """The rest of the open file ``handle`` of ``size`` bytes, from where it stands."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self._handle, self._size = handle, size

    @property
    def at_end(self) -> bool:
        """Whether every byte of the file has been read or skipped."""
        return self._handle.tell() >= self._size

    def extend(self, buf: bytearray, size: int) -> None:
        """Append the next ``size`` bytes (fewer at the end of the file) to ``buf``."""
        buf += self._handle.read(size)

    def skip(self, size: int) -> int:
        """Skip ``size`` bytes; return how many there were before the end of the file."""
        here = self._handle.tell()
        there = min(here + size, self._size)
        self._handle.seek(there)
        return there - here
