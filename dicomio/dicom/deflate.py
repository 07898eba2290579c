"""Deflated data sets (Deflated Explicit VR Little Endian), inflated within a ceiling.

Everything after a deflated file's meta group is one raw deflate stream, and a few megabytes
of it can inflate to gigabytes. :class:`Inflater` reads the compressed bytes a piece at a time
and inflates only as many bytes as it is asked for (``zlib`` ``max_length``), so the header
walk holds what it reads and drops what it skips. :func:`finish_inflating` then inflates the rest
of the stream, dropping it as it comes, and refuses a stream longer than the pixel data its
header declares (plus :data:`~dicomio.dicom.budgets.DEFLATE_SLACK`): what passes can be
inflated again by a reader without more memory than the image needs.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import BinaryIO

from dicomio.dicom.budgets import DEFLATE_SLACK
from dicomio.errors import CorruptDataError

__all__ = ["Inflater", "finish_inflating"]

_COMPRESSED_CHUNK = 1 << 16
_INFLATED_CHUNK = 1 << 20


class Inflater:
    """The data set of a deflated file, inflated as it is read.

    Parameters
    ----------
    handle
        The open file.
    offset
        Where the deflate stream starts: the end of the file meta group.
    """

    def __init__(self, handle: BinaryIO, offset: int) -> None:
        handle.seek(offset)
        self._handle = handle
        self._stream = zlib.decompressobj(-zlib.MAX_WBITS)
        self._tail = b""  # compressed bytes read but not yet inflated
        self._file_done = False
        self.at_end = False

    def _inflate(self, size: int) -> bytes:
        """Up to ``size`` more bytes (fewer only at the end of the stream)."""
        while not self.at_end:
            if not self._tail and not self._file_done:
                self._tail = self._handle.read(_COMPRESSED_CHUNK)
                self._file_done = not self._tail
            out = self._stream.decompress(self._tail, size)
            self._tail = self._stream.unconsumed_tail
            if out:
                return out
            if self._stream.eof or (self._file_done and not self._tail):
                self.at_end = True  # the stream ended (or the file, inside it)
        return b""

    def extend(self, buf: bytearray, size: int) -> None:
        """Append up to ``size`` inflated bytes to ``buf``."""
        while size > 0:
            out = self._inflate(min(size, _INFLATED_CHUNK))
            if not out:
                return
            buf += out
            size -= len(out)

    def skip(self, size: int) -> int:
        """Inflate and drop up to ``size`` bytes; return how many there were."""
        skipped = 0
        while skipped < size:
            out = self._inflate(min(size - skipped, _INFLATED_CHUNK))
            if not out:
                break
            skipped += len(out)
        return skipped


def finish_inflating(inflater: Inflater, path: Path, held: int, declared: int | None,
                     needed: int) -> None:
    """Inflate the rest of a data set from its pixel data on, within what its header declares.

    Parameters
    ----------
    inflater
        The stream, read up to ``held`` bytes after the start of the pixel data value.
    path
        The file, for the errors.
    held
        Bytes of the pixel data value (and beyond) already inflated.
    declared
        The pixel data element's length (None: undefined).
    needed
        What the pixel format declares: Rows × Columns × samples × bytes × frames (a file
        without a pixel format is not inflated: it cannot be read as an image anyway).

    Raises
    ------
    CorruptDataError
        The element declares more than its frames need, the stream inflates to more than
        declared (plus :data:`~dicomio.dicom.budgets.DEFLATE_SLACK`), or ends before the pixel
        data does.
    """
    if declared is not None and declared > needed + DEFLATE_SLACK:
        raise CorruptDataError(
            f"the deflated pixel data declares {declared} bytes but its frames need {needed}: "
            f"refused before inflating it (damaged, or a decompression bomb)", path=path)
    expected = declared if declared is not None else needed
    ceiling = expected + DEFLATE_SLACK
    total = held + inflater.skip(ceiling + 1 - held) if held <= ceiling else held
    if total > ceiling:
        raise CorruptDataError(
            f"the deflated data set inflates to more than {ceiling} bytes from its pixel data "
            f"on, which the header declares {expected} bytes long (the limit is that plus "
            f"{DEFLATE_SLACK} bytes): damaged, or a decompression bomb", path=path)
    if declared is not None and total < declared:
        raise CorruptDataError(
            f"pixel data truncated: the deflated data set holds {total} of its {declared} "
            f"bytes", path=path)
