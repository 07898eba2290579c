"""Structural checks of encoded frames, before a C decoder sees them.

Fast decoders are written for speed, not for hostile input: fuzzing showed imagecodecs' lossless
JPEG decoder crashing the process on a frame header with impossible sampling factors, and its
RLE decoder on a damaged segment table. These checks refuse such frames with a clear error
(and cost microseconds): the JPEG frame and scan headers must describe the image the DICOM header
declares, and an RLE header must hold a sane segment table. RLE segments are then decoded one by
one and each must yield exactly one byte plane, so a damaged run is an error, not a shifted image.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.transfer_syntax import (
    HTJ2K_FAMILY,
    JPEG2000_FAMILY,
    JPEG_FAMILY,
    JPEG_LS_FAMILY,
    RLE_LOSSLESS,
)
from dicomio.dicom.types import FileHeader, PixelFormat

__all__ = ["CodestreamError", "check_frame", "check_jpeg", "decode_rle", "rle_frame_excess"]

# SOF0..SOF15 (not DHT C4, JPG C8, DAC CC) and JPEG-LS SOF55 (F7).
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF,
                0xF7}
_LOSSLESS_SOF = {0xC3, 0xC7, 0xCB, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class CodestreamError(ValueError):
    """An encoded frame is structurally invalid (the caller names the file)."""


# JPEG and JPEG-LS share their marker structure; HTJ2K is a JPEG 2000 codestream.
_JPEG_MARKERS = JPEG_FAMILY | JPEG_LS_FAMILY
_J2K_CODESTREAM = JPEG2000_FAMILY | HTJ2K_FAMILY
# Writers pad fragments to an even length with 00, FF or a space after the end marker.
_PADDING = b"\x00\xff "


def check_frame(frame: bytes, fmt: PixelFormat, syntax_uid: str) -> None:
    """Check an encoded frame's structure for its transfer syntax; raise CodestreamError.

    JPEG, JPEG-LS: headers against the DICOM description, and the end-of-image marker (a
    truncated stream decodes without error in most decoders, into a partly blank image).
    JPEG 2000 / HTJ2K: image size and components from the SIZ segment, and the end-of-codestream
    marker. RLE: the segment table.
    """
    if syntax_uid in _JPEG_MARKERS:
        check_jpeg(frame, fmt)
        if not frame.rstrip(_PADDING).endswith(b"\xff\xd9"):
            raise CodestreamError("the JPEG stream has no end-of-image marker: it is truncated")
    elif syntax_uid in _J2K_CODESTREAM:
        _check_j2k(frame, fmt)
    elif syntax_uid == RLE_LOSSLESS:
        _rle_segments(frame, fmt)


def _check_j2k(frame: bytes, fmt: PixelFormat) -> None:
    start = frame.find(b"\xff\x4f\xff\x51")  # SOC then SIZ (a JP2 wrapper may precede them)
    if start < 0 or (start > 0 and frame[4:8] != b"jP  "):
        raise CodestreamError("no JPEG 2000 codestream (SOC, SIZ) at the start of the frame")
    siz = frame[start + 6:start + 6 + 38]
    if len(siz) < 38:
        raise CodestreamError("JPEG 2000 SIZ segment is truncated")
    width, height, x_origin, y_origin = struct.unpack_from(">LLLL", siz, 2)
    components = struct.unpack_from(">H", siz, 34)[0]
    if (height - y_origin, width - x_origin) != (fmt.rows, fmt.columns):
        raise CodestreamError(f"JPEG 2000 image is {height - y_origin}x{width - x_origin} but "
                              f"the DICOM header says {fmt.rows}x{fmt.columns}")
    if components != fmt.samples_per_pixel:
        raise CodestreamError(f"JPEG 2000 image has {components} component(s), the DICOM header "
                              f"{fmt.samples_per_pixel} sample(s) per pixel")
    if not frame.rstrip(_PADDING).endswith(b"\xff\xd9"):
        raise CodestreamError("the JPEG 2000 codestream has no end marker: it is truncated")


def rle_frame_excess(header: FileHeader) -> str | None:
    """Describe RLE pixel data holding more fragments than NumberOfFrames, or return None.

    RLE stores each frame in exactly one fragment (PS3.5 A.4.2), so a fragment beyond
    NumberOfFrames is a frame the header does not declare (or a frame split across fragments,
    which RLE forbids): frames are read as declared and the others would be dropped without a
    word. Only the item headers are read, at most NumberOfFrames + 2 of them; a damaged item
    ends the count (decoding reports it).
    """
    fmt = header.pixel
    if fmt is None or header.transfer_syntax.uid != RLE_LOSSLESS or \
            header.pixel_data_offset is None:
        return None
    frames = fmt.number_of_frames
    if _count_items(header, frames + 2) <= frames + 1:  # the first item is the offset table
        return None
    return (f"{header.path}: RLE pixel data holds more fragments than its {frames} frame(s), "
            f"and RLE stores each frame in one fragment: only the first {frames} are read "
            f"(NumberOfFrames is likely wrong)")


def _count_items(header: FileHeader, limit: int) -> int:
    """How many items (up to ``limit``) the encapsulated pixel data of ``header`` holds."""
    assert header.pixel_data_offset is not None
    count = 0
    with header.origin.open() as handle:
        handle.seek(header.pixel_data_offset)
        while count < limit:
            item = handle.read(8)
            if len(item) < 8:
                break
            group, element, length = struct.unpack("<HHL", item)
            if (group, element) != (0xFFFE, 0xE000):  # the sequence delimiter, or damage
                break
            count += 1
            handle.seek(length, 1)
    return count


def _rle_segments(frame: bytes, fmt: PixelFormat) -> tuple[list[int], list[int]]:
    """Validate an RLE header; return the (start, end) offsets of its segments."""
    if len(frame) < 64:
        raise CodestreamError("RLE frame is shorter than its 64-byte header")
    header = struct.unpack_from("<16L", frame)
    count, offsets = header[0], header[1:]
    expected = fmt.bits_allocated // 8 * fmt.samples_per_pixel
    if count != expected:
        raise CodestreamError(f"RLE header declares {count} segment(s), the pixel format needs "
                              f"{expected}")
    starts = list(offsets[:count])
    ends = [*starts[1:], len(frame)]
    if starts[0] != 64 or any(b <= a for a, b in zip(starts, ends, strict=True)) \
            or ends[-1] > len(frame):
        raise CodestreamError(f"RLE segment offsets are invalid: {starts}")
    return starts, ends


def check_jpeg(frame: bytes, fmt: PixelFormat) -> None:
    """Check a JPEG (lossless or DCT) frame's headers against the DICOM pixel description.

    Raises
    ------
    CodestreamError
        No SOI, a truncated marker segment, no frame header, a frame header whose size,
        components or sampling factors contradict the DICOM header, a malformed Huffman table,
        or no scan.
    """
    if frame[:2] != b"\xff\xd8":
        raise CodestreamError("the JPEG stream does not start with SOI")
    position, size = 2, len(frame)
    seen_frame = False
    while position + 4 <= size:
        if frame[position] != 0xFF:
            raise CodestreamError(f"expected a JPEG marker at byte {position}")
        marker = frame[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        length = struct.unpack_from(">H", frame, position + 2)[0]
        segment = frame[position + 4:position + 2 + length]
        if length < 2 or len(segment) != length - 2:
            raise CodestreamError(f"JPEG marker segment FF{marker:02X} is truncated")
        if marker in _SOF_MARKERS:
            _check_frame_header(marker, segment, fmt)
            seen_frame = True
        elif marker == 0xC4:
            _check_huffman_tables(segment)
        elif marker == 0xDA:
            if not seen_frame:
                raise CodestreamError("JPEG scan before any frame header")
            _check_scan_header(segment, fmt)
            return
        position += 2 + length
    raise CodestreamError("the JPEG stream ends before its first scan")


def _check_frame_header(marker: int, segment: bytes, fmt: PixelFormat) -> None:
    if len(segment) < 6:
        raise CodestreamError("JPEG frame header is truncated")
    precision, rows, columns, components = struct.unpack_from(">BHHB", segment)
    if len(segment) != 6 + 3 * components:
        raise CodestreamError("JPEG frame header length does not match its components")
    if (rows, columns) != (fmt.rows, fmt.columns):
        raise CodestreamError(f"JPEG frame is {rows}x{columns} but the DICOM header says "
                              f"{fmt.rows}x{fmt.columns}")
    if components != fmt.samples_per_pixel:
        raise CodestreamError(f"JPEG frame has {components} component(s), the DICOM header "
                              f"{fmt.samples_per_pixel} sample(s) per pixel")
    if not 2 <= precision <= 16 or precision > fmt.bits_allocated:
        raise CodestreamError(f"JPEG precision {precision} does not fit BitsAllocated "
                              f"{fmt.bits_allocated}")
    for index in range(components):
        sampling = segment[6 + 3 * index + 1]
        horizontal, vertical = sampling >> 4, sampling & 0x0F
        if not (1 <= horizontal <= 4 and 1 <= vertical <= 4):
            raise CodestreamError(f"JPEG sampling factors {horizontal}x{vertical} are invalid")
        if marker in _LOSSLESS_SOF and components == 1 and (horizontal, vertical) != (1, 1):
            raise CodestreamError("a single-component lossless JPEG must not be subsampled")


def _check_huffman_tables(segment: bytes) -> None:
    position = 0
    while position < len(segment):
        if position + 17 > len(segment):
            raise CodestreamError("JPEG Huffman table is truncated")
        klass, identifier = segment[position] >> 4, segment[position] & 0x0F
        if klass > 1 or identifier > 3:
            raise CodestreamError("JPEG Huffman table has an invalid class or id")
        count = sum(segment[position + 1:position + 17])
        if count > 256:
            raise CodestreamError("JPEG Huffman table declares more than 256 codes")
        position += 17 + count
    if position != len(segment):
        raise CodestreamError("JPEG Huffman table length is inconsistent")


def _check_scan_header(segment: bytes, fmt: PixelFormat) -> None:
    if not segment:
        raise CodestreamError("JPEG scan header is empty")
    components = segment[0]
    if not 1 <= components <= fmt.samples_per_pixel or len(segment) != 4 + 2 * components:
        raise CodestreamError("JPEG scan header is inconsistent with its components")


def decode_rle(frame: bytes, fmt: PixelFormat) -> NDArray[Any]:
    """Decode a DICOM RLE frame strictly, segment by segment (PS3.5 Annex G).

    Each segment must decode to at least Rows × Columns bytes (extra bytes are padding); fewer
    is damage. Returns an array of shape (rows, columns[, samples]) in native byte order.
    """
    import imagecodecs

    starts, ends = _rle_segments(frame, fmt)
    count = len(starts)
    bytes_per_sample = fmt.bits_allocated // 8
    plane = fmt.rows * fmt.columns
    planes = np.empty((count, plane), dtype=np.uint8)
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        decoded = imagecodecs.packbits_decode(frame[start:end])
        if len(decoded) < plane:
            raise CodestreamError(f"RLE segment {index} decodes to {len(decoded)} bytes, "
                                  f"expected {plane}")
        planes[index] = np.frombuffer(decoded, dtype=np.uint8, count=plane)
    # Segments hold the most significant byte first, sample after sample.
    samples = planes.reshape(fmt.samples_per_pixel, bytes_per_sample, plane)
    big_endian = np.ascontiguousarray(samples.transpose(2, 0, 1)).view(
        f">u{bytes_per_sample}")
    values = big_endian.reshape(fmt.rows, fmt.columns, fmt.samples_per_pixel)
    values = values.astype(values.dtype.newbyteorder("="))
    return values[..., 0] if fmt.samples_per_pixel == 1 else values
