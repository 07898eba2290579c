"""A byte range of a file read as a file of its own: a member of a plain tar archive, read in
place."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

__all__ = ["open_window"]


class _Window(io.RawIOBase):
    """Bytes ``offset`` to ``offset + length`` of the file ``path``, with its own handle (so
    that threads reading members of one archive never share a position)."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        self._start, self._length, self._position = offset, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._length - self._position)
        if wanted <= 0:
            return 0
        self._file.seek(self._start + self._position)
        got = self._file.readinto(memoryview(buffer).cast("B")[:wanted]) or 0
        self._position += got
        return got

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._file.close()
        super().close()


def open_window(path: Path, offset: int, length: int) -> BinaryIO:
    """Bytes ``offset`` to ``offset + length`` of the file ``path`` as a buffered binary file."""
    return io.BufferedReader(_Window(path, offset, length))
