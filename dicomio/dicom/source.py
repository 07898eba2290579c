"""The data set of a plain (not deflated) file as the header walk reads it: on in order, and
over what it does not want by a seek. :class:`~dicomio.dicom.deflate.Inflater` is the same for a
deflated data set."""

from __future__ import annotations

from typing import BinaryIO

__all__ = ["FileSource"]


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
