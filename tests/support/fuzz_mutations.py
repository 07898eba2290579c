"""Mutations of one DICOM file: its bytes, its element structure, its pixel data containers.

Each mutation takes the file's bytes and a :class:`random.Random` and returns new bytes; one that
finds nothing to act on (no sequence, no encapsulated data) falls back to a byte-level change,
so every mutation always changes the file. The structure-aware ones act on the elements that
:mod:`tests.support.fuzz_elements` lists: a length field, a VR, a value, an element dropped,
repeated or moved, sequence items, the basic offset table and fragments, NumberOfFrames, a cut
at an element boundary. Bombs (deep nesting, millions of items or frames, deflate) are in
:mod:`tests.support.fuzz_bombs`.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

from tests.support.fuzz_elements import (
    ITEM,
    PIXEL_DATA,
    UNDEFINED,
    DicomBytes,
    Element,
    NotApplicable,
    encode_element,
    encode_item,
)

Mutation = Callable[[bytes, random.Random], bytes]

#: Elements worth aiming at: geometry, pixel format, rescale, frames, UIDs, image type, the
#: functional-group sequences, Siemens private groups and the pixel data.
TARGETS = frozenset({
    0x00200032, 0x00200037, 0x00280030, 0x00280010, 0x00280011, 0x00280100, 0x00280101,
    0x00280102, 0x00280103, 0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00281052,
    0x00281053, 0x00020010, 0x0020000E, 0x00080018, 0x00200011, 0x00200013, 0x00080008,
    0x00180050, 0x00180088, 0x52009229, 0x52009230, 0x00209113, 0x00209116, 0x00289110,
    0x00209111, 0x00209157, 0x00209128, 0x00200100, 0x00080016, 0x7FE00010, 0x7FE00001,
    0x7FE00002, 0x00020000,
})
VRS = [b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT",
       b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST",
       b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV", b"ZZ", b"\x00\x00",
       b"ob", b"  "]
TEXT_VALUES = [b"nan", b"inf", b"-inf", b"1e308", b"1.5e308", b"-1.5e308", b"0", b"-0", b"-1",
               b"", b"\\", b"1\\2\\3\\4\\5\\6\\7", b"abc", b"9" * 16, b"\x00\x00", b"1e-320",
               b"4294967296", b"-2147483649", b"1\\nan\\3", b"2.5", b"0x10", b" 1 ", b"\xff\xfe",
               b"\x1b[31mred\x1b[0m", b"[/x]", b"1.2.840.10008.1.2.4.102", b"MOSAIC",
               b"ORIGINAL\\PRIMARY\\M\\MOSAIC", b"YBR_FULL_422", b"PALETTE COLOR",
               b"MONOCHROME1", b"RGB"]
BINARY_VALUES = [0, 1, 2, 7, 8, 12, 15, 16, 17, 31, 32, 33, 64, 255, 256, 0x7FFF, 0x8000,
                 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF]
NUMERIC_VRS = {b"US": "H", b"SS": "h", b"UL": "L", b"SL": "l", b"FL": "f", b"FD": "d",
               b"AT": "L", b"UV": "Q", b"SV": "q"}


def _pick(elements: list[Element], rng: random.Random, aimed: float = 0.7) -> Element | None:
    """An element, aimed at :data:`TARGETS` most of the time."""
    if not elements:
        return None
    targets = [e for e in elements if e.tag in TARGETS]
    if targets and rng.random() < aimed:
        return rng.choice(targets)
    return rng.choice(elements)


def _pack(element: Element, fmt: str, value: float) -> bytes:
    return struct.pack(("<" if element.little else ">") + fmt, value)


# --- bytes ---------------------------------------------------------------------------------

def bit_flips(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 16])):
        at = rng.randrange(len(buffer))
        buffer[at] ^= 1 << rng.randrange(8)
    return bytes(buffer)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def overwrite(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    at = rng.randrange(len(buffer))
    size = min(rng.choice([1, 4, 16, 256, 4096]), len(buffer) - at)
    buffer[at:at + size] = rng.randbytes(size)
    return bytes(buffer)


# --- elements -------------------------------------------------------------------------------

def length_field(data: bytes, rng: random.Random) -> bytes:
    """Forge one length field: zero, odd, off by two, undefined, huge, up to the end."""
    parsed = DicomBytes.parse(data)
    element = _pick(parsed.elements, rng)
    if element is None:
        raise NotApplicable
    remaining = len(parsed.segment(element.segment)) - element.value_start
    current = 0 if element.length == UNDEFINED else element.length
    choices = [0, 1, current + 1, max(current - 2, 0), current + 2, remaining, remaining + 2,
               current * 2]
    if element.length_size == 4:
        choices += [UNDEFINED, 0xFFFFFFF0, 0x7FFFFFFF, 1 << 30, 0xFFFFFFFE]
        new = _pack(element, "L", rng.choice(choices) & 0xFFFFFFFF)
    else:
        choices += [0xFFFF, 0xFFFE, 255]
        new = _pack(element, "H", rng.choice(choices) & 0xFFFF)
    at = element.length_at
    return parsed.replace(element.segment, at, at + element.length_size, new)


def vr_swap(data: bytes, rng: random.Random) -> bytes:
    """Give one explicit element another VR (a valid one, or junk)."""
    parsed = DicomBytes.parse(data)
    explicit = [e for e in parsed.elements
                if e.kind == "element" and len(e.vr) == 2
                and parsed.segment(e.segment)[e.start + 4:e.start + 6] == e.vr]
    element = _pick(explicit, rng)
    if element is None:
        raise NotApplicable
    new = rng.choice([v for v in VRS if v != element.vr])
    return parsed.replace(element.segment, element.start + 4, element.start + 6, new)


def value_edit(data: bytes, rng: random.Random) -> bytes:
    """Replace one value with a hostile one of the right kind; the structure stays valid."""
    parsed = DicomBytes.parse(data)
    candidates = [e for e in parsed.elements
                  if e.kind == "element" and e.vr not in (b"SQ", b"OB", b"OW", b"UN")
                  and e.length != UNDEFINED]
    element = _pick(candidates, rng, aimed=0.9)
    if element is None:
        raise NotApplicable
    fmt = NUMERIC_VRS.get(element.vr)
    if fmt is not None:
        count = rng.choice([1, 1, 1, 2, 3, 6])
        if fmt in "fd":
            pool = [float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 0.0, 1e-300, 3.5]
            value = b"".join(_pack(element, fmt, rng.choice(pool)) for _ in range(count))
        else:
            mask = (1 << (8 * struct.calcsize(fmt))) - 1
            signed = fmt.islower()
            half = (mask + 1) // 2
            numbers = [v & mask for v in (rng.choice(BINARY_VALUES) for _ in range(count))]
            numbers = [v - (mask + 1) if signed and v >= half else v for v in numbers]
            value = b"".join(_pack(element, fmt, v) for v in numbers)
    else:
        value = rng.choice(TEXT_VALUES)
        if rng.random() < 0.1:
            value = value * rng.choice([100, 5000])
        value += b" " * (len(value) % 2)
    if element.length_size == 2 and len(value) > 0xFFFF:
        value = value[:0xFFFE]
    explicit = element.length_at != element.start + 4
    header = encode_element(element.tag, element.vr, value, little=element.little,
                            explicit=explicit)
    return parsed.replace(element.segment, element.start, element.value_end, header)


def drop_element(data: bytes, rng: random.Random) -> bytes:
    """Remove one element (with its value, items and delimiter)."""
    parsed = DicomBytes.parse(data)
    element = _pick([e for e in parsed.elements if e.kind == "element"], rng)
    if element is None:
        raise NotApplicable
    end = _end_of(parsed, element)
    return parsed.replace(element.segment, element.start, end, b"")


def _end_of(parsed: DicomBytes, element: Element) -> int:
    """Where ``element`` ends, its undefined-length contents and delimiter included."""
    if element.length != UNDEFINED:
        return element.value_end
    index = parsed.elements.index(element)
    for later in parsed.elements[index + 1:]:
        if later.segment == element.segment and later.depth == element.depth + 1 \
                and later.kind == "delimiter" and later.tag == 0xFFFEE0DD:
            return later.value_start
        if later.depth <= element.depth:
            return later.start
    return len(parsed.segment(element.segment))


def duplicate_element(data: bytes, rng: random.Random) -> bytes:
    """Repeat one element right after itself (the same tag twice)."""
    parsed = DicomBytes.parse(data)
    element = _pick([e for e in parsed.elements if e.kind == "element"], rng)
    if element is None:
        raise NotApplicable
    end = _end_of(parsed, element)
    copy = parsed.segment(element.segment)[element.start:end]
    return parsed.replace(element.segment, end, end, copy)


def swap_elements(data: bytes, rng: random.Random) -> bytes:
    """Swap two neighbouring top-level elements: tags out of order."""
    parsed = DicomBytes.parse(data)
    top = [e for e in parsed.elements if e.depth == 0 and e.kind == "element"
           and e.length != UNDEFINED and e.segment == 1]
    if len(top) < 2:
        raise NotApplicable
    index = rng.randrange(len(top) - 1)
    first, second = top[index], top[index + 1]
    if first.value_end != second.start:
        raise NotApplicable
    body = parsed.body
    swapped = body[second.start:second.value_end] + body[first.start:first.value_end]
    return parsed.replace(1, first.start, second.value_end, swapped)


def retag(data: bytes, rng: random.Random) -> bytes:
    """Change one element's tag (to a private, a meta, an item or a neighbouring tag)."""
    parsed = DicomBytes.parse(data)
    element = _pick([e for e in parsed.elements if e.kind == "element"], rng)
    if element is None:
        raise NotApplicable
    tag = rng.choice([0x00091001, 0x00020010, 0xFFFEE000, 0xFFFEE0DD, element.tag + 1,
                      element.tag ^ 0x00010000, 0x7FE00010, 0x00000000, 0xFFFFFFFF])
    order = "<" if element.little else ">"
    new = struct.pack(f"{order}HH", tag >> 16, tag & 0xFFFF)
    return parsed.replace(element.segment, element.start, element.start + 4, new)


def truncate_at_element(data: bytes, rng: random.Random) -> bytes:
    """Cut the file at an element boundary, inside a header, or inside a value."""
    parsed = DicomBytes.parse(data)
    element = _pick(parsed.elements, rng, aimed=0.5)
    if element is None:
        raise NotApplicable
    cut = rng.choice([element.start, element.start + rng.randrange(1, 8), element.value_start,
                      element.value_start + max(element.length, 1) // 2 if element.length
                      != UNDEFINED else element.value_start + 4, element.value_end - 1])
    if element.segment == 0:
        return data[:max(cut, 0)]
    body = parsed.body[:max(cut, 0)]
    return parsed.with_parts(parsed.meta, body)


# --- multi-frame and encapsulated pixel data -------------------------------------------------

def number_of_frames(data: bytes, rng: random.Random) -> bytes:
    """Forge NumberOfFrames (inserted when absent): zero, negative, off by one, huge, junk."""
    parsed = DicomBytes.parse(data)
    found = [e for e in parsed.find(0x0028, 0x0008) if e.depth == 0 and e.segment == 1]
    current = 1
    if found:
        raw = parsed.body[found[0].value_start:found[0].value_end]
        current = int(raw.strip(b" \x00") or 1) if raw.strip(b" \x00").isdigit() else 1
    value = str(rng.choice([0, -1, current - 1, current + 1, current * 2, 2 ** 31, 2 ** 31 - 1,
                            10 ** 9, 65536])).encode()
    value = rng.choice([value, value, b"2.5", b"", b"1\\2"])
    value += b" " * (len(value) % 2)
    new = encode_element(0x00280008, b"IS", value, little=parsed.little,
                         explicit=parsed.explicit)
    if found:
        return parsed.replace(1, found[0].start, found[0].value_end, new)
    at = parsed.top_level_insert_at(0x00280008)
    return parsed.replace(1, at, at, new)


def _fragments(parsed: DicomBytes) -> list[Element]:
    return [e for e in parsed.elements if e.parent == PIXEL_DATA and e.kind == "item"]


def offset_table(data: bytes, rng: random.Random) -> bytes:
    """Forge the basic offset table, or add an extended one (see :func:`_offset_table`)."""
    for _ in range(5):
        changed = _offset_table(data, rng)
        if changed != data:
            return changed
    raise NotApplicable


def _offset_table(data: bytes, rng: random.Random) -> bytes:
    """Forge the basic offset table (wrong, huge, descending, too few or too many offsets), or
    add an extended offset table that does not fit the fragments."""
    parsed = DicomBytes.parse(data)
    items = _fragments(parsed)
    if not items:
        raise NotApplicable
    little = items[0].little
    order = "<" if little else ">"
    if rng.random() < 0.25:
        count = rng.choice([1, 2, 3, 1000])
        offsets = b"".join(struct.pack(f"{order}Q", rng.choice([0, 8, 1 << 40, 2 ** 64 - 1]))
                           for _ in range(count))
        lengths = b"".join(struct.pack(f"{order}Q", rng.choice([0, 16, 1 << 33]))
                           for _ in range(rng.choice([count, count + 1])))
        extra = (encode_element(0x7FE00001, b"OV", offsets, little=little)
                 + encode_element(0x7FE00002, b"OV", lengths, little=little))
        pixel = parsed.find(0x7FE0, 0x0010)[0]
        return parsed.replace(1, pixel.start, pixel.start, extra)
    table = items[0]
    count = rng.choice([0, 1, 2, len(items) - 1, len(items) + 3, 5000])
    style = rng.choice(["random", "huge", "descending", "zero"])
    values = {
        "random": [rng.randrange(1 << 20) for _ in range(count)],
        "huge": [0xFFFFFFF0 - i for i in range(count)],
        "descending": [max(count - i, 0) * 64 for i in range(count)],
        "zero": [0] * count,
    }[style]
    content = b"".join(struct.pack(f"{order}L", v) for v in values)
    return parsed.replace(1, table.start, table.value_end, encode_item(content, little=little))


def fragments(data: bytes, rng: random.Random) -> bytes:
    """Split, merge, drop, repeat, empty or re-tag the fragments of encapsulated pixel data."""
    parsed = DicomBytes.parse(data)
    items = _fragments(parsed)
    if len(items) < 2:
        raise NotApplicable
    body = parsed.body
    little = items[0].little
    index = rng.randrange(1, len(items))
    item = items[index]
    value = body[item.value_start:item.value_end]
    action = rng.choice(["split", "merge", "drop", "repeat", "empty", "odd", "retag",
                         "no-delimiter", "corrupt"])
    if action == "split" and len(value) > 2:
        cut = rng.randrange(1, len(value))
        new = encode_item(value[:cut], little=little) + encode_item(value[cut:], little=little)
    elif action == "merge" and index + 1 < len(items):
        following = items[index + 1]
        merged = value + body[following.value_start:following.value_end]
        return parsed.replace(1, item.start, following.value_end,
                              encode_item(merged, little=little))
    elif action == "drop":
        new = b""
    elif action == "repeat":
        new = body[item.start:item.value_end] * 2
    elif action == "empty":
        new = encode_item(b"", little=little) + body[item.start:item.value_end]
    elif action == "odd":
        new = encode_item(value + b"\x00", little=little)
    elif action == "retag":
        new = struct.pack("<HHL" if little else ">HHL", 0xFFFE, 0xE00D, len(value)) + value
    elif action == "no-delimiter":
        return parsed.with_parts(parsed.meta, body[:items[-1].value_end])
    else:
        start = item.value_start + rng.randrange(max(len(value), 1))
        return parsed.replace(1, start, min(start + 16, item.value_end), rng.randbytes(
            len(body[start:min(start + 16, item.value_end)])))
    return parsed.replace(1, item.start, item.value_end, new)


def sequence_items(data: bytes, rng: random.Random) -> bytes:
    """Remove, repeat or empty an item of a sequence (a functional group, a CSA sequence)."""
    parsed = DicomBytes.parse(data)
    items = [e for e in parsed.elements if e.tag == ITEM and e.parent != PIXEL_DATA
             and e.length != UNDEFINED]
    if not items:
        raise NotApplicable
    item = rng.choice(items)
    raw = parsed.segment(item.segment)[item.start:item.value_end]
    new = rng.choice([b"", raw * 2, raw * rng.choice([10, 100]),
                      encode_item(b"", little=item.little)])
    return parsed.replace(item.segment, item.start, item.value_end, new)


MUTATIONS: dict[str, Mutation] = {
    "bit_flips": bit_flips, "truncate": truncate, "overwrite": overwrite,
    "length_field": length_field, "vr_swap": vr_swap, "value_edit": value_edit,
    "drop_element": drop_element, "duplicate_element": duplicate_element,
    "swap_elements": swap_elements, "retag": retag, "truncate_at_element": truncate_at_element,
    "number_of_frames": number_of_frames, "offset_table": offset_table,
    "fragments": fragments, "sequence_items": sequence_items,
}
#: How often each is chosen: the byte-level ones, whose inputs mostly end as an unreadable
#: header, less than the structure-aware ones.
WEIGHTS: dict[str, float] = {name: 1.0 for name in MUTATIONS} | {
    "bit_flips": 0.6, "truncate": 0.3, "overwrite": 0.3, "value_edit": 2.0,
    "length_field": 1.5}
