"""Siemens CSA headers: the private (0029,xx10) and (0029,xx20) elements of Siemens MR files.

A CSA header is a small binary table of named elements, each with a value representation and a
list of string items. Two layouts exist: CSA2 starts with ``SV10`` and gives each item's length
directly; the older CSA1 has no signature and stores lengths offset by the item count of its
second element. All integers are little-endian. dicomio reads only a few elements
(``NumberOfImagesInMosaic``, ``SliceNormalVector``), so values are converted on request.

The layout follows the description in nibabel's documentation of the format ("Siemens mosaic
format" and "CSA header"); this is an independent implementation, so nibabel is not needed.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CsaElement", "CsaError", "number", "parse_csa", "vector"]

_MAX_COUNT = 1000  # more elements or items than this means the bytes are not a CSA header
_INTEGER_VRS = frozenset({"IS", "SL", "SS", "UL", "US"})
_FLOAT_VRS = frozenset({"DS", "FD", "FL"})


class CsaError(ValueError):
    """The bytes are not a CSA header, or it is truncated."""


@dataclass(frozen=True)
class CsaElement:
    """One named element of a CSA header: its VR and its (string) items."""

    name: str
    vr: str
    items: tuple[str, ...]

    def numbers(self) -> tuple[float, ...]:
        """The items as numbers (the empty trailing items Siemens writes are dropped)."""
        values = []
        for item in self.items:
            if not item.strip():
                break
            values.append(float(item))
        return tuple(values)

    def first_number(self) -> float | None:
        values = self.numbers()
        return values[0] if values else None


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def parse_csa(data: bytes) -> Mapping[str, CsaElement]:
    """Parse a CSA header into its elements, by name.

    Raises
    ------
    CsaError
        The bytes do not hold a CSA header (or it is truncated).
    """
    csa2 = data[:4] == b"SV10"
    position = 8 if csa2 else 0
    try:
        count, _ = struct.unpack_from("<2I", data, position)
    except struct.error as exc:
        raise CsaError(f"CSA header too short ({len(data)} bytes)") from exc
    if not 0 < count <= _MAX_COUNT:
        raise CsaError(f"not a CSA header: it claims {count} elements")
    position += 8
    elements: dict[str, CsaElement] = {}
    first_item_count = 0
    for number in range(count):
        try:
            name, vm, vr, _, n_items, _ = struct.unpack_from("<64si4s3i", data, position)
        except struct.error as exc:
            raise CsaError(f"CSA header truncated in element {number}") from exc
        position += 84
        if not 0 <= n_items <= _MAX_COUNT:
            raise CsaError(f"CSA element {number} claims {n_items} items")
        if number == 1:
            first_item_count = n_items  # CSA1 offsets every item length by this count
        wanted = vm if vm > 0 else n_items
        items: list[str] = []
        for index in range(n_items):
            try:
                lengths = struct.unpack_from("<4i", data, position)
            except struct.error as exc:
                raise CsaError(f"CSA header truncated in element {_text(name)!r}") from exc
            position += 16
            length = lengths[1] if csa2 else lengths[0] - first_item_count
            if length < 0 or position + length > len(data):
                if csa2:
                    raise CsaError(f"CSA item of {_text(name)!r} runs past the end")
                break  # CSA1 writers leave inconsistent lengths at the end: stop there
            if index < wanted:
                items.append(_text(data[position:position + length]))
            position += (length + 3) // 4 * 4  # items are padded to 4 bytes
        element = CsaElement(_text(name), _text(vr), tuple(items))
        elements[element.name] = element
    return elements


def number(elements: Mapping[str, CsaElement], name: str) -> float | None:
    """The first numeric item of element ``name``, or None when absent or empty."""
    element = elements.get(name)
    if element is None or (element.vr not in _INTEGER_VRS | _FLOAT_VRS and element.vr):
        return None
    try:
        return element.first_number()
    except ValueError:
        return None


def vector(elements: Mapping[str, CsaElement], name: str, size: int) -> tuple[float, ...] | None:
    """The first ``size`` numeric items of element ``name``, or None."""
    element = elements.get(name)
    if element is None:
        return None
    try:
        values = element.numbers()
    except ValueError:
        return None
    return values[:size] if len(values) >= size else None
