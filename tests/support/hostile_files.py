"""Hostile DICOM files, written byte by byte: what a damaged or malicious tool could produce.

The files are Explicit VR Little Endian images of ``rows`` × ``columns`` 8-bit pixels, built
here from the standard's encoding rules (PS3.5 §7), not by dicomio, so that a test's truth does
not come from the code it tests. The hostile part is passed in as bytes placed before the pixel
data (:func:`image_data_set`), or as what follows it.

:func:`zero_run_deflate` makes a raw deflate stream of gigabytes of zeros in a few kilobytes and
milliseconds: each block of zeros is compressed once, after a full flush, and repeated.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DEFLATED", "EXPLICIT", "UNDEFINED", "element", "file_meta", "image_data_set",
           "nested_sequences", "sequence", "write_deflated", "write_explicit",
           "zero_run_deflate"]

EXPLICIT = "1.2.840.10008.1.2.1"
DEFLATED = "1.2.840.10008.1.2.1.99"
UNDEFINED = 0xFFFFFFFF
_CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
_LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def _tag(tag: int) -> bytes:
    return struct.pack("<HH", tag >> 16, tag & 0xFFFF)


def element(tag: int, vr: str, value: bytes | str, length: int | None = None) -> bytes:
    """One explicit-VR little-endian element; ``length`` overrides the value's own."""
    if isinstance(value, str):
        value = value.encode()
        if len(value) % 2:
            value += b"\0" if vr == "UI" else b" "
    size = len(value) if length is None else length
    if vr in _LONG:
        return _tag(tag) + vr.encode() + b"\0\0" + struct.pack("<L", size) + value
    return _tag(tag) + vr.encode() + struct.pack("<H", size) + value


def sequence(tag: int, items: Iterable[bytes]) -> bytes:
    """A sequence of undefined length of items of undefined length."""
    body = b"".join(_tag(0xFFFEE000) + struct.pack("<L", UNDEFINED) + item
                    + _tag(0xFFFEE00D) + bytes(4) for item in items)
    return (_tag(tag) + b"SQ\0\0" + struct.pack("<L", UNDEFINED) + body
            + _tag(0xFFFEE0DD) + bytes(4))


def nested_sequences(depth: int, tag: int = 0x00081115) -> bytes:
    """``depth`` sequences, each the only item of the one around it."""
    inner = b""
    for _ in range(depth):
        inner = sequence(tag, [inner])
    return inner


def file_meta(transfer_syntax: str) -> bytes:
    """Preamble, ``DICM`` and the file meta group."""
    body = (element(0x00020001, "OB", b"\0\1") + element(0x00020002, "UI", _CT_IMAGE)
            + element(0x00020003, "UI", "1.2.3.4") + element(0x00020010, "UI", transfer_syntax))
    return (bytes(128) + b"DICM" + element(0x00020000, "UL", struct.pack("<L", len(body)))
            + body)


def image_data_set(rows: int = 4, columns: int = 4, frames: int | None = None,
                   before_pixels: bytes = b"", in_group_8: bytes = b"",
                   pixel_length: int | None = None, with_pixels: bool = True) -> bytes:
    """A CT image data set of 8-bit pixels, all zero.

    ``in_group_8`` goes after the group 0008 elements (a sequence there is walked before the
    image's geometry), ``before_pixels`` just before the pixel data. ``pixel_length`` declares
    a pixel data length other than that of its value; ``with_pixels`` False leaves the value
    out (to be written after).
    """
    us = lambda tag, value: element(tag, "US", struct.pack("<H", value))  # noqa: E731
    data = (element(0x00080016, "UI", _CT_IMAGE) + element(0x00080018, "UI", "1.2.3.4")
            + element(0x00080060, "CS", "CT") + in_group_8
            + element(0x0020000E, "UI", "1.2.3.5") + element(0x00200013, "IS", "1")
            + element(0x00200032, "DS", "0\\0\\0") + element(0x00200037, "DS", "1\\0\\0\\0\\1\\0")
            + us(0x00280002, 1) + element(0x00280004, "CS", "MONOCHROME2"))
    if frames is not None:
        data += element(0x00280008, "IS", str(frames))
    data += (us(0x00280010, rows) + us(0x00280011, columns) + element(0x00280030, "DS", "1\\1")
             + us(0x00280100, 8) + us(0x00280101, 8) + us(0x00280102, 7) + us(0x00280103, 0)
             + before_pixels)
    size = rows * columns * (frames or 1)
    size += size % 2
    pixels = bytes(size) if with_pixels else b""
    return data + element(0x7FE00010, "OB", pixels, size if pixel_length is None
                          else pixel_length)


def write_explicit(path: Path, data_set: bytes) -> Path:
    """``data_set`` as an Explicit VR Little Endian file."""
    path.write_bytes(file_meta(EXPLICIT) + data_set)
    return path


def zero_run_deflate(data_set: bytes, zeros: int, block: int = 1 << 24) -> bytes:
    """A raw deflate stream of ``data_set`` followed by ``zeros`` zero bytes (a multiple of
    ``block``), made without compressing them all."""
    if zeros % block:
        raise ValueError("zeros must be a multiple of block")
    stream = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = stream.compress(data_set) + stream.flush(zlib.Z_FULL_FLUSH)
    pieces = [head]
    if zeros:
        # After a full flush nothing refers back: the same input gives the same bytes.
        first = stream.compress(bytes(block)) + stream.flush(zlib.Z_FULL_FLUSH)
        again = stream.compress(bytes(block)) + stream.flush(zlib.Z_FULL_FLUSH)
        pieces += [first] + [again] * (zeros // block - 1)
    return b"".join(pieces) + stream.flush()


def write_deflated(path: Path, data_set: bytes, zeros: int = 0) -> Path:
    """``data_set`` (then ``zeros`` zero bytes) as a Deflated Explicit VR Little Endian file."""
    path.write_bytes(file_meta(DEFLATED) + zero_run_deflate(data_set, zeros))
    return path
