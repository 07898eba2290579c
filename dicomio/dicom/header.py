"""Read the few header attributes dicomio needs, fast, without touching pixel data.

A general DICOM parser builds an object for every element; scanning a folder of thousands of
files only needs about forty of them, and the byte offset of the pixel data. :func:`read_header`
walks the element stream of a file's first kilobytes with :mod:`struct`, converts only the wanted
elements and stops at the pixel data. A deflated data set (Deflated Explicit VR Little Endian) is
inflated with :mod:`zlib` and walked the same way; its pixel data then has no file offset, so
readers inflate it again.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomio.dicom.transfer_syntax import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    lookup,
)
from dicomio.dicom.types import FileHeader, PixelFormat
from dicomio.errors import InvalidDicomError, NotDicomError

__all__ = ["HEADER_BYTES", "PIXEL_DATA_TAGS", "read_header"]

# Why a file is not DICOM, by its first two bytes: a compressed container is named as such.
_NOT_DICOM = {
    b"\x1f\x8b": "gzip-compressed (dicomio reads plain DICOM files: decompress it if it "
                 "holds one)",
    b"PK": "a zip archive (dicomio reads plain DICOM files: extract it if it holds them)",
    b"": "no DICM preamble and does not start like a DICOM data set",
}

PIXEL_DATA = 0x7FE00010


FLOAT_PIXEL_DATA = 0x7FE00008


DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009


PIXEL_DATA_TAGS = (PIXEL_DATA, FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA)


UNDEFINED_LENGTH = 0xFFFFFFFF


_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD


# Explicit-VR elements of these VRs have a 2-byte reserved field and a 4-byte length.
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                       b"UR", b"UT", b"UV"})


_FIRST_READ = 16384


#: Bytes read at first from each file: most headers end well before.
HEADER_BYTES = _FIRST_READ


class _NeedMore(Exception):
    """The header continues past the bytes read so far."""


def _text(raw: bytes, little: bool) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.strip(" \x00")


def _texts(raw: bytes, little: bool) -> tuple[str, ...]:
    return tuple(v.strip() for v in _text(raw, little).split("\\"))


def _decimals(raw: bytes, little: bool) -> tuple[float, ...] | None:
    text = _text(raw, little)
    if not text:
        return None
    # float() accepts "nan" and "inf": they are kept, and geometry checks report them.
    return tuple(map(float, text.split("\\")))


def _decimal(raw: bytes, little: bool) -> float | None:
    values = _decimals(raw, little)
    return values[0] if values else None


def _integer(raw: bytes, little: bool) -> int | None:
    value = _decimal(raw, little)
    return int(value) if value is not None and math.isfinite(value) else None


def _ushort(raw: bytes, little: bool) -> int | None:
    if len(raw) < 2:
        return None
    return int(struct.unpack_from("<H" if little else ">H", raw)[0])


def _present(raw: bytes, little: bool) -> bool:
    return True


_Converter = Callable[[bytes, bool], Any]


# tag -> (FileHeader attribute, converter). Everything else in the header is skipped unparsed.
_WANTED: dict[int, tuple[str, _Converter]] = {
    0x00080008: ("image_type", _texts),
    0x00080016: ("sop_class_uid", _text),
    0x00080018: ("sop_instance_uid", _text),
    0x00080032: ("acquisition_time", _text),
    0x00080033: ("content_time", _text),
    0x00080060: ("modality", _text),
    0x00080070: ("manufacturer", _text),
    0x0008103E: ("series_description", _text),
    0x00180050: ("slice_thickness", _decimal),
    0x00180088: ("spacing_between_slices", _decimal),
    0x00181120: ("gantry_tilt", _decimal),
    0x0020000D: ("study_uid", _text),
    0x0020000E: ("series_uid", _text),
    0x00200011: ("series_number", _integer),
    0x00200012: ("acquisition_number", _integer),
    0x00200013: ("instance_number", _integer),
    0x00200032: ("position", _decimals),
    0x00200037: ("orientation", _decimals),
    0x00200052: ("frame_of_reference_uid", _text),
    0x00200100: ("temporal_position", _integer),
    0x00280002: ("samples_per_pixel", _ushort),
    0x00280004: ("photometric_interpretation", _text),
    0x00280006: ("planar_configuration", _ushort),
    0x00280008: ("number_of_frames", _integer),
    0x00280010: ("rows", _ushort),
    0x00280011: ("columns", _ushort),
    0x00280030: ("pixel_spacing", _decimals),
    0x00280100: ("bits_allocated", _ushort),
    0x00280101: ("bits_stored", _ushort),
    0x00280102: ("high_bit", _ushort),
    0x00280103: ("pixel_representation", _ushort),
    0x00281050: ("window_center", _decimal),
    0x00281051: ("window_width", _decimal),
    0x00281052: ("rescale_intercept", _decimal),
    0x00281053: ("rescale_slope", _decimal),
    0x00281054: ("rescale_type", _text),
    0x00283000: ("has_modality_lut", _present),
    0x52009229: ("has_functional_groups", _present),
    0x52009230: ("has_functional_groups", _present),
}


_PIXEL_FORMAT_KEYS = frozenset({
    "rows", "columns", "bits_allocated", "bits_stored", "high_bit", "pixel_representation",
    "samples_per_pixel", "photometric_interpretation", "planar_configuration", "number_of_frames"})


# Unpackers of (tag), (u16), (u32), (explicit element header), (implicit element header), by
# byte order: little endian (True) or big endian (False).
_UNPACKERS = {
    little: tuple(struct.Struct(("<" if little else ">") + f).unpack_from
                  for f in ("HH", "H", "L", "HH2sH", "HHL"))
    for little in (True, False)
}


@dataclass
class _Walk:
    """State of one pass over a data set's element stream."""

    buf: bytes
    little: bool
    implicit: bool
    at_eof: bool  # ``buf`` holds the whole file
    strict_order: bool = False  # files without a preamble must look like DICOM throughout
    raw: dict[int, bytes] = field(default_factory=dict)
    pixel: tuple[int, int, int] | None = None  # (tag, value offset, length)

    def __post_init__(self) -> None:
        self._tag, self._u16, self._u32, self._explicit, self._implicit = _UNPACKERS[self.little]

    def top_level(self, pos: int) -> int:
        """Walk top-level elements from ``pos``; keep wanted ones; stop at pixel data."""
        buf, n = self.buf, len(self.buf)
        wanted, raw, strict, u32 = _WANTED, self.raw, self.strict_order, self._u32
        # One unpack per element: (group, element, VR, short length) or (group, element, length)
        is_explicit, explicit, implicit = not self.implicit, self._explicit, self._implicit
        previous = -1
        while True:
            if pos + 8 > n:
                if self.at_eof and pos == n:
                    return pos  # clean end of file, no pixel data
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
                raise NotDicomError(f"elements out of order at byte {pos} (tag {tag:08X})")
            previous = tag
            if tag in PIXEL_DATA_TAGS:
                self.pixel = (tag, value, length)
                return value
            if length == UNDEFINED_LENGTH:
                pos = self._skip_undefined(value, self._is_implicit_content(pos))
                if tag in wanted:  # a sequence: only its presence is wanted
                    raw[tag] = b""
            else:
                pos = value + length
                if tag in wanted:
                    if pos > n:
                        raise _NeedMore
                    raw[tag] = buf[value:pos]

    def _length(self, pos: int) -> tuple[int, int]:
        if self.implicit:
            return self._u32(self.buf, pos + 4)[0], 8
        vr = self.buf[pos + 4:pos + 6]
        if vr in _LONG_VRS:
            if pos + 12 > len(self.buf):
                raise _NeedMore
            return self._u32(self.buf, pos + 8)[0], 12
        return self._u16(self.buf, pos + 6)[0], 8

    def _is_implicit_content(self, pos: int) -> bool:
        # An explicit-VR UN element of undefined length holds an implicit-VR LE sequence.
        return self.implicit or self.buf[pos + 4:pos + 6] == b"UN"

    def _skip_undefined(self, pos: int, implicit: bool) -> int:
        """Skip a sequence (or encapsulated value) of undefined length; return the end."""
        buf, n = self.buf, len(self.buf)
        saved = self.implicit
        self.implicit = implicit
        try:
            while True:
                if pos + 8 > n:
                    raise _NeedMore
                group, elem = self._tag(buf, pos)
                tag = group << 16 | elem
                length = self._u32(buf, pos + 4)[0]
                pos += 8
                if tag == _SEQUENCE_END:
                    return pos
                if tag != _ITEM:
                    raise InvalidDicomError(f"expected a sequence item at byte {pos - 8}")
                if length == UNDEFINED_LENGTH:
                    pos = self._skip_item(pos)
                else:
                    pos += length
        finally:
            self.implicit = saved

    def _skip_item(self, pos: int) -> int:
        buf, n = self.buf, len(self.buf)
        while True:
            if pos + 8 > n:
                raise _NeedMore
            group, elem = self._tag(buf, pos)
            tag = group << 16 | elem
            if tag == _ITEM_END:
                return pos + 8
            length, header = self._length(pos)
            if length == UNDEFINED_LENGTH:
                pos = self._skip_undefined(pos + header, self._is_implicit_content(pos))
            else:
                pos += header + length


def _looks_explicit(buf: bytes, pos: int) -> bool:
    vr = buf[pos + 4:pos + 6]
    return len(vr) == 2 and vr.isalpha() and vr.isupper()


def _parse(path: Path, buf: bytes, at_eof: bool) -> FileHeader:
    """Parse ``buf`` (the start of ``path``); raise _NeedMore if it stops too early."""
    has_preamble = buf[128:132] == b"DICM"
    meta_raw: dict[int, bytes] = {}
    if has_preamble or buf[:4] == b"DICM":
        pos = 132 if has_preamble else 4
        meta = _Walk(buf, little=True, implicit=False, at_eof=at_eof)
        meta_wanted = {0x00020002, 0x00020010}
        pos = _walk_meta(meta, pos, meta_raw, meta_wanted)
        uid = _text(meta_raw[0x00020010], True) if 0x00020010 in meta_raw else ""
    else:
        pos = 0
        uid = ""
        group = struct.unpack_from("<H", buf, 0)[0] if len(buf) >= 2 else -1
        if len(buf) < 8 or group not in (0x0002, 0x0008):
            raise NotDicomError(_NOT_DICOM.get(buf[:2], _NOT_DICOM[b""]), path=path)
        if group == 0x0002:
            meta = _Walk(buf, little=True, implicit=False, at_eof=at_eof)
            pos = _walk_meta(meta, pos, meta_raw, {0x00020002, 0x00020010})
            uid = _text(meta_raw[0x00020010], True) if 0x00020010 in meta_raw else ""
    if not uid:
        uid = EXPLICIT_VR_LITTLE_ENDIAN if _looks_explicit(buf, pos) else IMPLICIT_VR_LITTLE_ENDIAN
    syntax = lookup(uid)

    if syntax.deflated:
        if not at_eof:
            raise _NeedMore  # a deflated data set is inflated whole
        buf, pos = zlib.decompress(buf[pos:], -zlib.MAX_WBITS), 0
    walk = _Walk(buf, little=syntax.little_endian, implicit=syntax.implicit_vr, at_eof=at_eof,
                 strict_order=not has_preamble)
    # Some writers label implicit data sets as explicit (and vice versa): trust the bytes.
    if pos + 6 <= len(buf) and syntax.little_endian:
        walk.implicit = not _looks_explicit(buf, pos)
    walk.top_level(pos)

    header = FileHeader(path=path, transfer_syntax=syntax, has_preamble=has_preamble)
    if walk.pixel is not None:
        tag, offset, length = walk.pixel
        header.pixel_data_tag = tag
        header.pixel_data_length = None if length == UNDEFINED_LENGTH else length
        # A deflated data set has no file offset for its pixel data: readers inflate it again.
        header.pixel_data_offset = None if syntax.deflated else offset
    _fill(header, walk.raw, walk.little, path)
    if not header.sop_class_uid and 0x00020002 in meta_raw:
        header.sop_class_uid = _text(meta_raw[0x00020002], True)
    if not has_preamble and not (header.sop_class_uid or header.series_uid or header.pixel):
        raise NotDicomError("parses as neither a DICOM file nor a DICOM data set", path=path)
    return header


def _walk_meta(meta: _Walk, pos: int, out: dict[int, bytes], wanted: set[int]) -> int:
    """Walk the (always explicit little-endian) file meta group 0002."""
    buf = meta.buf
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
            out[tag] = buf[pos + header:pos + header + length]
        pos += header + length


def _fill(header: FileHeader, raw: dict[int, bytes], little: bool, path: Path) -> None:
    pixel_values: dict[str, Any] = {}
    for tag, value in raw.items():
        name, convert = _WANTED[tag]
        try:
            converted = convert(value, little)
        except (ValueError, struct.error) as exc:
            if name in ("position", "orientation", "pixel_spacing") or name in _PIXEL_FORMAT_KEYS:
                raise InvalidDicomError(f"cannot parse {name} value {value[:64]!r}: {exc}",
                                        path=path) from None
            continue  # a malformed optional value is as good as absent
        if name in _PIXEL_FORMAT_KEYS:
            pixel_values[name] = converted
        elif converted is not None:
            setattr(header, name, converted)
    header.pixel = _pixel_format(pixel_values, header.pixel_data_tag)


def _pixel_format(values: dict[str, Any], pixel_tag: int | None) -> PixelFormat | None:
    rows, columns, bits = values.get("rows"), values.get("columns"), values.get("bits_allocated")
    if pixel_tag in (FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA):
        bits = 32 if pixel_tag == FLOAT_PIXEL_DATA else 64
        values = {**values, "bits_stored": bits, "high_bit": bits - 1, "pixel_representation": 0}
    if not rows or not columns or not bits:
        return None
    return PixelFormat(
        rows=rows,
        columns=columns,
        bits_allocated=bits,
        bits_stored=values.get("bits_stored") or bits,
        high_bit=int(values["high_bit"]) if values.get("high_bit") is not None else bits - 1,
        pixel_representation=values.get("pixel_representation") or 0,
        samples_per_pixel=values.get("samples_per_pixel") or 1,
        photometric_interpretation=values.get("photometric_interpretation") or "MONOCHROME2",
        planar_configuration=values.get("planar_configuration") or 0,
        number_of_frames=max(values.get("number_of_frames") or 1, 1),
        float_data=pixel_tag in (FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA),
    )


def read_header(path: str | Path) -> FileHeader:
    """Read the header of one file.

    Parameters
    ----------
    path
        The file. Its name and extension play no part: content decides what it is.

    Returns
    -------
    FileHeader
        The typed attributes and where the pixel data starts.

    Raises
    ------
    NotDicomError
        The content is not DICOM.
    InvalidDicomError
        The file is DICOM but its header is truncated or malformed.
    OSError
        The file cannot be opened or read.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        buf = handle.read(_FIRST_READ)
        if not buf:
            raise NotDicomError("empty file (0 bytes)", path=path)
        at_eof = len(buf) < _FIRST_READ
        while True:
            try:
                header = _parse(path, buf, at_eof)
            except _NeedMore:
                if at_eof:
                    raise InvalidDicomError("header truncated: the file ends inside an element",
                                            path=path) from None
                more = handle.read(len(buf))  # double what we have
                at_eof = len(more) < len(buf)
                buf += more
                continue
            except (struct.error, IndexError, zlib.error, UnicodeDecodeError) as exc:
                raise InvalidDicomError(f"malformed header: {exc}", path=path) from None
            except InvalidDicomError as exc:
                if exc.path is None:
                    raise type(exc)(exc.message, path=path) from None
                raise
            header.file_size = os.fstat(handle.fileno()).st_size
            return header
