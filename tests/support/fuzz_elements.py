"""The elements of a DICOM file as byte ranges, for mutations that keep or break its structure.

A small, tolerant walker written for the fuzzer alone (it shares nothing with dicomio's header
reader): it lists every element, sequence item, delimiter and encapsulated fragment of a file
with where its header, length field and value are, so that a mutation can rewrite exactly one
of them. Deflated data sets are inflated to be walked and deflated again when written back.

>>> parsed = DicomBytes.parse(data)  # doctest: +SKIP
>>> element = parsed.find(0x0020, 0x0032)[0]  # doctest: +SKIP
>>> parsed.replace(element.segment, element.value_start, element.value_end, b"1\\\\2\\\\3 ")
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from pydicom.datadict import dictionary_VR

#: VRs whose explicit header is tag, VR, two reserved bytes and a 4-byte length.
LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                      b"UR", b"UT", b"UV"})
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
DEFLATED = "1.2.840.10008.1.2.1.99"
BIG_ENDIAN = "1.2.840.10008.1.2.2"
IMPLICIT = "1.2.840.10008.1.2"
#: Deeper than this the walker stops descending (the fuzzer must survive its own bombs).
MAX_DEPTH = 48
#: A deflated data set larger than this is not inflated (a bomb is left as it is).
MAX_INFLATED = 256 << 20


class NotApplicable(Exception):
    """A mutation finds nothing to act on in this input (another one is chosen)."""


@dataclass(frozen=True)
class Element:
    """One element, item, delimiter or fragment: where it lies in its segment.

    ``segment`` 0 is the part of the file before the data set (preamble and file meta), 1 the
    data set (inflated, for a deflated file). ``kind`` is ``element``, ``item`` (a sequence
    item or an encapsulated fragment), or ``delimiter``.
    """

    segment: int
    start: int
    tag: int
    vr: bytes
    length_at: int
    length_size: int
    value_start: int
    length: int
    depth: int
    kind: str
    parent: int | None  # the tag of the enclosing element (None at the top level)
    little: bool = True

    @property
    def group(self) -> int:
        return self.tag >> 16

    @property
    def value_end(self) -> int:
        return self.value_start + (0 if self.length == UNDEFINED else self.length)


@dataclass
class DicomBytes:
    """A file split into its meta part and its data set, with the elements of both."""

    meta: bytes
    body: bytes
    syntax: str
    elements: list[Element] = field(default_factory=list)
    deflated: bool = False

    @classmethod
    def parse(cls, data: bytes) -> DicomBytes:
        """Walk ``data``; what cannot be walked is simply not listed (never raises)."""
        start = 132 if data[128:132] == b"DICM" else (4 if data[:4] == b"DICM" else 0)
        meta_elements: list[Element] = []
        walker = _Walker(data, 0, little=True, explicit=True)
        position = walker.run(start, meta_elements, depth=0, parent=None, stop_group=0x0002)
        syntax = _syntax(data, meta_elements)
        meta, rest = data[:position], data[position:]
        deflated = False
        if syntax == DEFLATED:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                inflated = inflater.decompress(rest, MAX_INFLATED)
            except zlib.error:
                inflated = None
            if inflated is None or inflater.unconsumed_tail:
                syntax = "deflate (not inflated)"  # damaged, or a bomb: left as bytes
            else:
                rest, deflated = inflated, True
        parsed = cls(meta, rest, syntax, meta_elements, deflated)
        little = syntax != BIG_ENDIAN
        explicit = syntax != IMPLICIT and not (len(rest) >= 6 and not rest[4:6].isalpha())
        _Walker(rest, 1, little=little, explicit=explicit).run(0, parsed.elements, 0, None)
        return parsed

    def to_bytes(self) -> bytes:
        body = self.body
        if self.deflated:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            body = compressor.compress(body) + compressor.flush()
        return self.meta + body

    def find(self, group: int, element: int) -> list[Element]:
        tag = group << 16 | element
        return [e for e in self.elements if e.tag == tag]

    def segment(self, index: int) -> bytes:
        return self.meta if index == 0 else self.body

    def replace(self, segment: int, start: int, end: int, new: bytes) -> bytes:
        """The file with ``[start, end)`` of ``segment`` replaced by ``new``."""
        if segment == 0:
            return self.with_parts(self.meta[:start] + new + self.meta[end:], self.body)
        return self.with_parts(self.meta, self.body[:start] + new + self.body[end:])

    def with_parts(self, meta: bytes, body: bytes) -> bytes:
        """The file made of ``meta`` and ``body`` (deflated again if it was)."""
        return DicomBytes(meta, body, self.syntax, deflated=self.deflated).to_bytes()

    def top_level_insert_at(self, tag: int) -> int:
        """Where an element of ``tag`` goes in the data set to keep the tags ascending."""
        for element in self.elements:
            if element.segment == 1 and element.depth == 0 and element.tag > tag:
                return element.start
        return len(self.body)

    @property
    def little(self) -> bool:
        return self.syntax != BIG_ENDIAN

    @property
    def explicit(self) -> bool:
        return self.syntax != IMPLICIT


def _syntax(data: bytes, meta: list[Element]) -> str:
    for element in meta:
        if element.tag == 0x00020010:
            raw = data[element.value_start:element.value_end]
            return raw.rstrip(b"\x00 ").decode("ascii", "replace")
    return IMPLICIT


@dataclass
class _Walker:
    data: bytes
    segment: int
    little: bool
    explicit: bool

    def _u16(self, at: int) -> int:
        return int(struct.unpack_from("<H" if self.little else ">H", self.data, at)[0])

    def _u32(self, at: int) -> int:
        return int(struct.unpack_from("<L" if self.little else ">L", self.data, at)[0])

    def _tag(self, at: int) -> int:
        return self._u16(at) << 16 | self._u16(at + 2)

    def run(self, position: int, out: list[Element], depth: int, parent: int | None,
            stop_group: int | None = None, end: int | None = None) -> int:
        """List elements from ``position`` to ``end`` (or a delimiter); return where it stopped."""
        limit = len(self.data) if end is None else min(end, len(self.data))
        while position + 8 <= limit:
            tag = self._tag(position)
            if stop_group is not None and tag >> 16 != stop_group:
                return position
            if tag in (ITEM_END, SEQUENCE_END):
                out.append(self._element(position, tag, b"", position + 4, 4, position + 8,
                                         self._u32(position + 4), depth, "delimiter", parent))
                return position + 8
            if tag == ITEM:
                position = self._item(position, out, depth, parent)
                continue
            element = self._header(position, tag, depth, parent)
            if element is None:
                return position
            out.append(element)
            position = self._value(element, out, depth)
        return position

    def _header(self, at: int, tag: int, depth: int, parent: int | None) -> Element | None:
        vr = self.data[at + 4:at + 6]
        if self.explicit and vr.isalpha():
            if vr in LONG_VRS:
                if at + 12 > len(self.data):
                    return None
                return self._element(at, tag, vr, at + 8, 4, at + 12, self._u32(at + 8), depth,
                                     "element", parent)
            return self._element(at, tag, vr, at + 6, 2, at + 8, self._u16(at + 6), depth,
                                 "element", parent)
        length = self._u32(at + 4)
        try:
            known = dictionary_VR(tag)[:2].encode()
        except (KeyError, ValueError):
            known = b"UN"
        implicit_vr = b"SQ" if length == UNDEFINED and tag != PIXEL_DATA else known
        return self._element(at, tag, implicit_vr, at + 4, 4, at + 8, length, depth, "element",
                             parent)

    def _value(self, element: Element, out: list[Element], depth: int) -> int:
        if element.vr == b"SQ" or (element.length == UNDEFINED and element.tag == PIXEL_DATA):
            if depth >= MAX_DEPTH:
                return len(self.data)
            end = None if element.length == UNDEFINED else element.value_end
            stop = self.run(element.value_start, out, depth + 1, element.tag, end=end)
            return stop if element.length == UNDEFINED else element.value_end
        if element.length == UNDEFINED:
            return len(self.data)
        return element.value_end

    def _item(self, at: int, out: list[Element], depth: int, parent: int | None) -> int:
        length = self._u32(at + 4)
        item = self._element(at, ITEM, b"", at + 4, 4, at + 8, length, depth, "item", parent)
        out.append(item)
        if parent == PIXEL_DATA:
            return item.value_end  # a fragment: bytes, not elements
        if depth >= MAX_DEPTH:
            return len(self.data)
        end = None if length == UNDEFINED else item.value_end
        stop = self.run(at + 8, out, depth + 1, parent, end=end)
        return stop if length == UNDEFINED else item.value_end

    def _element(self, start: int, tag: int, vr: bytes, length_at: int, size: int, value: int,
                 length: int, depth: int, kind: str, parent: int | None) -> Element:
        return Element(self.segment, start, tag, vr, length_at, size, value, length, depth, kind,
                       parent, self.little)


def encode_element(tag: int, vr: bytes, value: bytes, *, little: bool = True,
                   explicit: bool = True, length: int | None = None) -> bytes:
    """The bytes of one element (``length`` forces the length field, e.g. undefined)."""
    order = "<" if little else ">"
    size = len(value) if length is None else length
    head = struct.pack(f"{order}HH", tag >> 16, tag & 0xFFFF)
    if not explicit:
        return head + struct.pack(f"{order}L", size) + value
    if vr in LONG_VRS:
        return head + vr + b"\x00\x00" + struct.pack(f"{order}L", size) + value
    return head + vr + struct.pack(f"{order}H", size & 0xFFFF) + value


def encode_item(value: bytes, *, little: bool = True, length: int | None = None) -> bytes:
    order = "<" if little else ">"
    size = len(value) if length is None else length
    return struct.pack(f"{order}HHL", 0xFFFE, 0xE000, size) + value


def delimiter(tag: int, *, little: bool = True) -> bytes:
    order = "<" if little else ">"
    return struct.pack(f"{order}HHL", tag >> 16, tag & 0xFFFF, 0)
