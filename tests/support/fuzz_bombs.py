"""Small files that cost a careless reader much: deep nesting, millions of sequence items or
frames, deflated data sets that inflate to gigabytes.

Each is a mutation of a seed file (bytes and a :class:`random.Random` in, bytes out) and is the
last one applied to an input: the fuzzer never walks its own bombs again.
"""

from __future__ import annotations

import random
import struct
import zlib

from tests.support.fuzz_elements import (
    DEFLATED,
    ITEM,
    ITEM_END,
    PIXEL_DATA,
    SEQUENCE_END,
    UNDEFINED,
    DicomBytes,
    Element,
    NotApplicable,
    delimiter,
    encode_element,
    encode_item,
)
from tests.support.fuzz_mutations import Mutation

EXPLICIT_LE = "1.2.840.10008.1.2.1"
_ZERO_MIB = 1 << 20


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    """Insert sequences nested ``depth`` deep (defined or undefined lengths), as a private
    element or inside an existing sequence."""
    parsed = DicomBytes.parse(data)
    depth = rng.choice([16, 200, 600, 2000, 20000])
    defined = rng.random() < 0.4
    little, explicit = parsed.little, parsed.explicit
    tag = rng.choice([0x00091010, 0x00081140, 0x52009229, 0x00291110])
    nested = _nested(tag, depth, defined, little=little, explicit=explicit)
    sequences = [e for e in parsed.elements
                 if e.segment == 1 and e.tag == ITEM and e.parent != PIXEL_DATA]
    if sequences and rng.random() < 0.4:
        item = rng.choice(sequences)
        if item.length == UNDEFINED:
            return parsed.replace(1, item.value_start, item.value_start, nested)
    at = parsed.top_level_insert_at(tag)
    return parsed.replace(1, at, at, nested)


def _nested(tag: int, depth: int, defined: bool, *, little: bool, explicit: bool) -> bytes:
    inner = encode_element(0x00100010, b"PN", b"deep", little=little, explicit=explicit)
    if not defined:
        opening = (encode_element(tag, b"SQ", b"", little=little, explicit=explicit,
                                  length=UNDEFINED)
                   + encode_item(b"", little=little, length=UNDEFINED))
        closing = delimiter(ITEM_END, little=little) + delimiter(SEQUENCE_END, little=little)
        return opening * depth + inner + closing * depth
    header = 12 if explicit else 8
    sizes = [len(inner)]
    for _ in range(depth - 1):
        sizes.append(sizes[-1] + header + 8)
    parts = []
    for size in reversed(sizes):
        parts.append(encode_element(tag, b"SQ", b"", little=little, explicit=explicit,
                                    length=size + 8)
                     + encode_item(b"", little=little, length=size))
    return b"".join(parts) + inner


def many_items(data: bytes, rng: random.Random) -> bytes:
    """Insert a sequence of up to a million empty items, or repeat one fragment of the pixel
    data that many times."""
    parsed = DicomBytes.parse(data)
    count = rng.choice([10_000, 100_000, 1_000_000])
    little = parsed.little
    fragments = [e for e in parsed.elements if e.parent == PIXEL_DATA and e.kind == "item"]
    if len(fragments) >= 2 and rng.random() < 0.4:
        last = fragments[-1]
        fragment = encode_item(b"\x00" * rng.choice([0, 2]), little=little)
        return parsed.replace(1, last.value_end, last.value_end, fragment * count)
    groups = [e for e in parsed.find(0x5200, 0x9230) if e.length == UNDEFINED]
    items = encode_item(b"", little=little) * count
    if groups and rng.random() < 0.5:
        end = _sequence_end(parsed, groups[0])
        if end is not None:
            return parsed.replace(1, end, end, items)
    tag = rng.choice([0x00091020, 0x00081140])
    element = encode_element(tag, b"SQ", items, little=little, explicit=parsed.explicit)
    at = parsed.top_level_insert_at(tag)
    return parsed.replace(1, at, at, element)


def _sequence_end(parsed: DicomBytes, sequence: Element) -> int | None:
    """Where the delimiter of an undefined-length sequence starts."""
    index = parsed.elements.index(sequence)
    depth = parsed.elements[index].depth
    for later in parsed.elements[index + 1:]:
        if later.depth == depth + 1 and later.tag == SEQUENCE_END:
            return later.start
        if later.depth <= depth:
            return None
    return None


def frame_bomb(data: bytes, rng: random.Random) -> bytes:
    """The image made of up to four million one-pixel frames (each frame two bytes)."""
    import pydicom
    from pydicom.filebase import DicomBytesIO

    count = rng.choice([10_000, 1_000_000, 4_000_000])
    try:
        dataset = pydicom.dcmread(DicomBytesIO(data), force=True)
        dataset.file_meta.TransferSyntaxUID = pydicom.uid.UID(EXPLICIT_LE)
        dataset.Rows = dataset.Columns = 1
        dataset.NumberOfFrames = count
        dataset.SamplesPerPixel = 1
        dataset.PhotometricInterpretation = "MONOCHROME2"
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
        dataset.PixelRepresentation = 0
        if rng.random() < 0.7 and "PerFrameFunctionalGroupsSequence" in dataset:
            del dataset.PerFrameFunctionalGroupsSequence
        dataset.PixelData = struct.pack("<H", 1) * count
        dataset["PixelData"].VR = "OW"
        out = DicomBytesIO()
        dataset.save_as(out, implicit_vr=False, little_endian=True)
        return out.getvalue()
    except Exception as exc:  # a seed pydicom cannot rewrite
        raise NotApplicable from exc


def deflate_bomb(data: bytes, rng: random.Random) -> bytes:
    """A deflated file whose data set inflates to 256 MiB-3 GiB of zeros: as its pixel data, as
    a private element before it, or as trailing padding. The file is 0.1% of that."""
    parsed = DicomBytes.parse(data)
    if parsed.syntax not in (EXPLICIT_LE, DEFLATED) or not parsed.elements:
        raise NotApplicable
    mib = rng.choice([256, 1024, 3072])
    size = min(mib * _ZERO_MIB, 0xFFFFFFFE)
    pixels = [e for e in parsed.elements if e.tag == PIXEL_DATA and e.depth == 0]
    body = parsed.body
    where = rng.choice(["pixel", "before", "padding"])
    if pixels and where == "pixel":
        head = body[:pixels[0].start] + encode_element(PIXEL_DATA, b"OW", b"", length=size)
        tail = b""
    elif pixels and where == "before":
        head = body[:pixels[0].start] + encode_element(0x7FDF1010, b"OB", b"", length=size)
        tail = body[pixels[0].start:]
    else:
        head = body + encode_element(0xFFFCFFFC, b"OB", b"", length=size)
        tail = b""
    return _with_syntax(parsed.meta, DEFLATED) + _zeros_deflated(head, size, tail)


def _zeros_deflated(head: bytes, size: int, tail: bytes) -> bytes:
    """Raw deflate of ``head``, ``size`` zero bytes, ``tail``: a block of a MiB of zeros
    compressed once, after a full flush, and repeated (valid, since a full flush resets the
    compressor's history)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(_ZERO_MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(size, _ZERO_MIB)
    end = compressor.compress(bytes(rest) + tail) + compressor.flush()
    return start + block * whole + end


def _with_syntax(meta: bytes, syntax: str) -> bytes:
    """The file meta with its TransferSyntaxUID replaced (and its group length fixed)."""
    parsed = DicomBytes.parse(meta)
    found = [e for e in parsed.elements if e.tag == 0x00020010 and e.segment == 0]
    if not found:
        return meta
    element = found[0]
    value = syntax.encode() + b"\x00" * (len(syntax) % 2)
    new = encode_element(0x00020010, b"UI", value)
    meta = meta[:element.start] + new + meta[element.value_end:]
    delta = len(new) - (element.value_end - element.start)
    for length in (e for e in parsed.elements if e.tag == 0x00020000 and e.segment == 0):
        old = struct.unpack_from("<L", meta, length.value_start)[0]
        meta = meta[:length.value_start] + struct.pack("<L", old + delta) + \
            meta[length.value_start + 4:]
    return meta


BOMBS: dict[str, Mutation] = {
    "deep_nesting": deep_nesting, "many_items": many_items, "frame_bomb": frame_bomb,
    "deflate_bomb": deflate_bomb,
}
