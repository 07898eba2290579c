"""Read the few header attributes dicomio needs, fast, without touching pixel data.

A general DICOM parser builds an object for every element; scanning a folder of thousands of
files only needs about forty of them, and the byte offset of the pixel data. :func:`read_header`
walks the element stream of a file's first kilobytes with :mod:`struct`, converts only the wanted
elements and stops at the pixel data. When an element runs past the bytes read, the walk goes on
from it with more; an element it does not want is jumped over, never read. A deflated data set
(Deflated Explicit VR Little Endian) is inflated as it is walked (:mod:`dicomio.dicom.deflate`);
its pixel data then has no file offset, so readers inflate it again.

What one header may cost is bounded (:mod:`dicomio.dicom.budgets`): the bytes held at once,
the elements walked, the depth of nested sequences and, for a deflated data set, the bytes it
inflates to.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dicomio.dicom.attributes import (
    NUMBER_OF_FRAMES,
    PIXEL_DATA_TAGS,
    WANTED,
    declared_frames,
    fill_header,
    text,
)
from dicomio.dicom.budgets import (
    MAX_HEADER_BYTES,
    MAX_NESTING_DEPTH,
    max_elements,
    too_many_elements,
)
from dicomio.dicom.checks import frames_problem
from dicomio.dicom.deflate import Inflater, finish_inflating
from dicomio.dicom.source import FileSource, MetadataSource, PathSource, Source, size_of
from dicomio.dicom.transfer_syntax import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    lookup,
)
from dicomio.dicom.types import FileHeader, from_metadata
from dicomio.errors import CorruptDataError, InvalidDicomError, NotDicomError

__all__ = ["HEADER_BYTES", "read_header"]

# Why a file is not DICOM, by its first two bytes: a compressed container is named as such.
_NOT_DICOM = {
    b"\x1f\x8b": "gzip-compressed (dicomio reads plain DICOM files: decompress it if it "
                 "holds one)",
    b"PK": "a zip archive (not opened inside a folder or an archive: give the archive "
           "itself to read its members in place)",
    b"": "no DICM preamble and does not start like a DICOM data set",
}

UNDEFINED_LENGTH = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
# Explicit-VR elements of these VRs have a 2-byte reserved field and a 4-byte length.
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                       b"UR", b"UT", b"UV"})
_FIRST_READ = 16384
#: Bytes read at first from each file: most headers end well before.
HEADER_BYTES = _FIRST_READ


class _NeedMore(Exception):
    """The header continues past the bytes read so far: the walk goes on from ``resume`` (the
    top-level element it was in), or from ``skip_to`` when that element is not wanted."""

    def __init__(self, skip_to: int | None = None) -> None:
        super().__init__()
        self.skip_to = skip_to
        self.resume = 0


# Unpackers of (tag), (u16), (u32), (explicit element header), (implicit element header), by
# byte order: little endian (True) or big endian (False).
_UNPACKERS = {
    little: tuple(struct.Struct(("<" if little else ">") + f).unpack_from
                  for f in ("HH", "H", "L", "HH2sH", "HHL"))
    for little in (True, False)
}


class _Walk:
    """State of one pass over a data set's element stream, one buffer of it at a time.

    ``buf`` holds the stream from ``base`` on; when it ends inside an element the walk raises
    :class:`_NeedMore` and goes on, keeping what it found, from a buffer that starts at that
    element (or after it, when the element is not wanted and its length is known).
    """

    def __init__(self, little: bool, implicit: bool, strict_order: bool) -> None:
        self.little, self.implicit, self.strict_order = little, implicit, strict_order
        self.buf: bytes | bytearray = b""
        self.base = 0  # stream offset of buf[0]
        self.at_eof = False  # buf reaches the end of the stream
        self.raw: dict[int, bytes] = {}
        self.pixel: tuple[int, int, int] | None = None  # (tag, value position, length)
        self.previous = -1  # the last top-level tag
        self.count = 0  # elements, items and delimiters walked
        # ... and the most it may walk: for one frame until NumberOfFrames says more, so that
        # a bomb of empty items costs in proportion to the frames declared before it.
        self.limit = max_elements(1)
        self._tag, self._u16, self._u32, self._explicit, self._implicit = _UNPACKERS[little]

    def top_level(self, pos: int) -> int | None:
        """Walk top-level elements from ``pos``; keep wanted ones; stop at pixel data.

        Returns the position in ``buf`` of the pixel data value, or None at a clean end.
        """
        buf, n = self.buf, len(self.buf)
        wanted, raw, strict, u32 = WANTED, self.raw, self.strict_order, self._u32
        # One unpack per element: (group, element, VR, short length) or (group, element, length)
        is_explicit, explicit, implicit = not self.implicit, self._explicit, self._implicit
        previous, count, limit = self.previous, self.count, self.limit
        start, before = pos, (previous, count)
        try:
            while True:
                start, before = pos, (previous, count)
                if pos + 8 > n:
                    if self.at_eof and pos == n:
                        self.count = count
                        return None  # clean end of the data set, no pixel data
                    raise _NeedMore
                value = pos + 8
                if is_explicit:
                    group, elem, vr, length = explicit(buf, pos)
                    if vr in _LONG_VRS:
                        if pos + 12 > n:
                            raise _NeedMore
                        length = u32(buf, value)[0]
                        value += 4
                else:
                    group, elem, length = implicit(buf, pos)
                tag = group << 16 | elem
                if strict and tag <= previous:
                    raise NotDicomError(f"elements out of order at byte {self.base + pos} (tag "
                                        f"{tag:08X})")
                previous = tag
                count += 1
                if count > limit:
                    raise too_many_elements(limit)
                if tag in PIXEL_DATA_TAGS:
                    self.pixel, self.count = (tag, value, length), count
                    return value
                if length == UNDEFINED_LENGTH:
                    self.count = count
                    pos = self._skip_undefined(value, self._is_implicit_content(pos), 1)
                    count = self.count
                    if tag in wanted:  # a sequence: only its presence is wanted
                        raw[tag] = b""
                    continue
                pos = value + length
                if pos > n:  # a wanted value is needed whole; any other is jumped over
                    if tag in wanted:
                        raise _NeedMore
                    before = (previous, count)
                    raise _NeedMore(pos)
                if tag in wanted:
                    raw[tag] = bytes(buf[value:pos])
                    if tag == NUMBER_OF_FRAMES:
                        limit = self.limit = max_elements(declared_frames(raw[tag]))
        except _NeedMore as more:
            more.resume = start
            self.previous, self.count = before
            raise

    def _length(self, pos: int) -> tuple[int, int]:
        if self.implicit:
            return self._u32(self.buf, pos + 4)[0], 8
        if bytes(self.buf[pos + 4:pos + 6]) in _LONG_VRS:
            if pos + 12 > len(self.buf):
                raise _NeedMore
            return self._u32(self.buf, pos + 8)[0], 12
        return self._u16(self.buf, pos + 6)[0], 8

    def _is_implicit_content(self, pos: int) -> bool:
        # An explicit-VR UN element of undefined length holds an implicit-VR LE sequence.
        return self.implicit or self.buf[pos + 4:pos + 6] == b"UN"

    def _skip_undefined(self, pos: int, implicit: bool, depth: int) -> int:
        """Skip a sequence (or encapsulated value) of undefined length, nested ``depth`` deep;
        return the end. Counts what it walks in ``count``."""
        if depth > MAX_NESTING_DEPTH:
            raise InvalidDicomError(
                f"sequences nested more than {MAX_NESTING_DEPTH} deep (at byte "
                f"{self.base + pos}): damaged or hostile; dicomio reads no deeper "
                f"(MAX_NESTING_DEPTH)")
        buf, n, item = self.buf, len(self.buf), self._implicit  # an item is tag + 4-byte length
        saved, count = self.implicit, self.count
        self.implicit = implicit
        try:
            while True:
                if pos + 8 > n:
                    raise _NeedMore
                group, elem, length = item(buf, pos)
                pos += 8
                count += 1
                if count > self.limit:
                    raise too_many_elements(self.limit)
                tag = group << 16 | elem
                if tag == _SEQUENCE_END:
                    self.count = count
                    return pos
                if tag != _ITEM:
                    raise InvalidDicomError(f"expected a sequence item at byte "
                                            f"{self.base + pos - 8}")
                if length == UNDEFINED_LENGTH:
                    self.count = count
                    pos = self._skip_item(pos, depth)
                    count = self.count
                else:
                    pos += length
        finally:
            self.implicit = saved

    def _skip_item(self, pos: int, depth: int) -> int:
        buf, n, count = self.buf, len(self.buf), self.count
        while True:
            if pos + 8 > n:
                raise _NeedMore
            group, elem = self._tag(buf, pos)
            count += 1
            if count > self.limit:
                raise too_many_elements(self.limit)
            if group << 16 | elem == _ITEM_END:
                self.count = count
                return pos + 8
            length, header = self._length(pos)
            if length == UNDEFINED_LENGTH:
                self.count = count
                pos = self._skip_undefined(pos + header, self._is_implicit_content(pos),
                                           depth + 1)
                count = self.count
            else:
                pos += header + length


def _looks_explicit(buf: bytes | bytearray, pos: int) -> bool:
    vr = buf[pos + 4:pos + 6]
    return len(vr) == 2 and vr.isalpha() and vr.isupper()


@dataclass
class _Start:
    """What the start of a file says: preamble, file meta group, where the data set starts."""

    has_preamble: bool
    pos: int
    uid: str
    meta_raw: dict[int, bytes]


def _start(path: Path, buf: bytearray, at_eof: bool) -> _Start:
    """Read the preamble and the file meta group; raise _NeedMore if ``buf`` stops too early."""
    has_preamble = buf[128:132] == b"DICM"
    meta_raw: dict[int, bytes] = {}
    meta_wanted = {0x00020002, 0x00020010}
    if has_preamble or buf[:4] == b"DICM":
        pos = _walk_meta(buf, 132 if has_preamble else 4, meta_raw, meta_wanted)
    else:
        pos = 0
        group = struct.unpack_from("<H", buf, 0)[0] if len(buf) >= 2 else -1
        if len(buf) < 8 or group not in (0x0002, 0x0008):
            raise NotDicomError(_NOT_DICOM.get(bytes(buf[:2]), _NOT_DICOM[b""]), path=path)
        if group == 0x0002:
            pos = _walk_meta(buf, pos, meta_raw, meta_wanted)
    uid = text(meta_raw[0x00020010], True) if 0x00020010 in meta_raw else ""
    if not uid:
        if pos + 6 > len(buf) and not at_eof:
            raise _NeedMore
        uid = EXPLICIT_VR_LITTLE_ENDIAN if _looks_explicit(buf, pos) else IMPLICIT_VR_LITTLE_ENDIAN
    return _Start(has_preamble, pos, uid, meta_raw)


def _walk_meta(buf: bytearray, pos: int, out: dict[int, bytes], wanted: set[int]) -> int:
    """Walk the (always explicit little-endian) file meta group 0002."""
    meta = _Walk(little=True, implicit=False, strict_order=False)
    meta.buf = buf
    while True:
        if pos + 8 > len(buf):
            raise _NeedMore
        group, elem = meta._tag(buf, pos)
        if group != 0x0002:
            return pos
        length, header = meta._length(pos)
        if length == UNDEFINED_LENGTH:
            raise InvalidDicomError("undefined length in the file meta information")
        tag = group << 16 | elem
        if tag in wanted:
            if pos + header + length > len(buf):
                raise _NeedMore
            out[tag] = bytes(buf[pos + header:pos + header + length])
        pos += header + length


def _walk_data_set(walk: _Walk, source: FileSource | Inflater, buf: bytearray, pos: int
                   ) -> None:
    """Walk from ``pos`` in ``buf`` to the pixel data (or the end), reading on from
    ``source`` as the walk needs, at most :data:`MAX_HEADER_BYTES` held at once."""
    while True:
        walk.buf, walk.at_eof = buf, source.at_end
        try:
            found = walk.top_level(pos)
        except _NeedMore as more:
            if isinstance(source, Inflater) and \
                    walk.base + (more.skip_to or more.resume) > MAX_HEADER_BYTES:
                raise CorruptDataError(
                    f"the deflated data set inflates to more than {MAX_HEADER_BYTES >> 20} MiB "
                    f"before its pixel data: damaged, or a decompression bomb "
                    f"(MAX_HEADER_BYTES)") from None
            if more.skip_to is not None:  # jump over an element nobody reads
                jump = more.skip_to - len(buf)
                if source.skip(jump) < jump:
                    raise InvalidDicomError("header truncated: the file ends inside an element"
                                            ) from None
                walk.base += more.skip_to
                buf = bytearray()
                source.extend(buf, _FIRST_READ)
                pos = 0
                continue
            if walk.at_eof:
                raise InvalidDicomError("header truncated: the file ends inside an element"
                                        ) from None
            # An element does not fit: read on from its start, four times as far if it
            # started the buffer (each try walks it again).
            size = min(4 * len(buf), MAX_HEADER_BYTES) if more.resume == 0 else len(buf)
            if size <= len(buf) and more.resume == 0:
                raise InvalidDicomError(
                    f"an element at byte {walk.base + more.resume} runs past "
                    f"{MAX_HEADER_BYTES >> 20} MiB before the pixel data: damaged or hostile; "
                    f"dicomio holds no more header (MAX_HEADER_BYTES)") from None
            del buf[:more.resume]
            walk.base += more.resume
            source.extend(buf, size - len(buf))
            pos = 0
            continue
        if found is not None:
            walk.pixel = (walk.pixel[0], walk.base + found, walk.pixel[2])  # type: ignore[index]
        return


def _read(path: Path, handle: BinaryIO, size: int) -> FileHeader:
    """Read the header of the open file ``path`` of ``size`` bytes."""
    buf = bytearray(handle.read(_FIRST_READ))
    if not buf:
        raise NotDicomError("empty file (0 bytes)", path=path)
    while True:
        try:
            start = _start(path, buf, len(buf) >= size)
            break
        except _NeedMore:
            if len(buf) >= size:
                raise InvalidDicomError("header truncated: the file ends inside an element"
                                        ) from None
            if len(buf) >= MAX_HEADER_BYTES:
                raise InvalidDicomError(f"the file meta information runs past "
                                        f"{MAX_HEADER_BYTES >> 20} MiB (MAX_HEADER_BYTES)"
                                        ) from None
            buf += handle.read(len(buf))  # twice what we have
    syntax = lookup(start.uid)
    source: FileSource | Inflater
    if syntax.deflated:
        source = Inflater(handle, start.pos)
        buf, pos = bytearray(), 0
        source.extend(buf, _FIRST_READ)
    else:
        source, pos = FileSource(handle, size), start.pos
    walk = _Walk(little=syntax.little_endian, implicit=syntax.implicit_vr,
                 strict_order=not start.has_preamble)
    # Some writers label implicit data sets as explicit (and vice versa): trust the bytes.
    if pos + 6 <= len(buf) and syntax.little_endian:
        walk.implicit = not _looks_explicit(buf, pos)
    _walk_data_set(walk, source, buf, pos)

    header = FileHeader(path=path, transfer_syntax=syntax, has_preamble=start.has_preamble)
    if walk.pixel is not None:
        tag, offset, length = walk.pixel
        header.pixel_data_tag = tag
        header.pixel_data_length = None if length == UNDEFINED_LENGTH else length
        # A deflated data set has no file offset for its pixel data: readers inflate it again.
        header.pixel_data_offset = None if syntax.deflated else offset
    fill_header(header, walk.raw, walk.little, path)
    fmt = header.pixel
    # Frames the pixel data cannot hold (or more than dicomio reads), or no pixel format at all,
    # make the file unusable whatever the stream holds: inflating gigabytes to check its length
    # would cost seconds.
    if isinstance(source, Inflater) and walk.pixel is not None and fmt is not None \
            and frames_problem(header) is None:
        finish_inflating(source, path, walk.base + len(walk.buf) - walk.pixel[1],
                         header.pixel_data_length, fmt.frame_nbytes * fmt.number_of_frames)
    if not header.sop_class_uid and 0x00020002 in start.meta_raw:
        header.sop_class_uid = text(start.meta_raw[0x00020002], True)
    if not start.has_preamble and not (header.sop_class_uid or header.series_uid or header.pixel):
        raise NotDicomError("parses as neither a DICOM file nor a DICOM data set", path=path)
    return header


def read_header(path: str | Path | Source) -> FileHeader:
    """Read the header of one file.

    Parameters
    ----------
    path
        The file, or the :class:`~dicomio.dicom.source.Source` of its bytes (an archive
        member, a buffer in memory). Its name and extension play no part: content decides what
        it is.

    Returns
    -------
    FileHeader
        The typed attributes and where the pixel data starts.

    Raises
    ------
    NotDicomError
        The content is not DICOM.
    InvalidDicomError
        The file is DICOM but its header is truncated or malformed, or goes beyond a limit of
        :mod:`dicomio.dicom.budgets` (:class:`~dicomio.errors.CorruptDataError` for a deflated
        data set longer or shorter than its header declares).
    OSError
        The file cannot be opened or read.
    """
    # Not isinstance(path, Source): a Protocol check walks its members, a tenth of a scan.
    source = PathSource(path) if isinstance(path, Path) else \
        PathSource(Path(path)) if isinstance(path, str) else path
    path = source.name
    with source.open() as handle:
        size = size_of(handle)
        try:
            header = _read(path, handle, size)
        except (struct.error, IndexError, zlib.error, UnicodeDecodeError) as exc:
            raise InvalidDicomError(f"malformed header: {exc}", path=path) from None
        except InvalidDicomError as exc:
            if exc.path is None:
                raise type(exc)(exc.message, path=path) from None
            raise
    header.file_size = size
    if not isinstance(source, PathSource):
        header.source = source
    if isinstance(source, MetadataSource):  # what metadata cannot say, said
        return from_metadata(header, source.stored_syntax)
    return header
