"""Values read out of a pydicom data set as numbers and text, whatever the file did to them.

The header walk (:mod:`dicomio.dicom.header`) keeps a fixed list of attributes; conversion
outputs (the b-value table, the JSON sidecar) need many more, private ones among them, and read
them from a pydicom ``Dataset`` of the file. These helpers take such a data set and never
raise on a damaged or unexpected value: they return None, so one odd element costs one missing
field, never the conversion. pydicom itself is not imported here (the caller has read the file).

- a private element is found by its creator (``private``), falling back on the block that
  vendors use in practice (``xx10``) when the creator is absent, as dcm2niix reads them;
- an implicit-VR file leaves private values as raw bytes: they are decoded as text
  (``"1000\\8\\0\\0"``) or, when asked, as little-endian binary numbers;
- an enhanced (multi-frame) file keeps per-image values in functional groups: ``frame_item``
  finds an attribute in the frame's own group or in the shared one.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["attribute", "first_number", "frame_groups", "frame_item", "functional_items", "numbers",
           "private", "text", "texts"]

_PRIVATE_BLOCK = 0x10  # the block vendors' private elements sit in when the creator is absent


def private(dataset: Any, group: int, creator: str, element: int) -> Any:
    """The value of private element ``(group, xx<element>)`` of ``creator``, or None.

    Without that creator in the data set, the element of block ``0x10`` is taken (anonymisers
    and older writers leave it without its creator; dcm2niix reads those fixed tags too).
    """
    try:
        return dataset.private_block(group, creator)[element].value
    except (KeyError, ValueError):
        pass
    except Exception:  # pydicom raises many types for damaged values
        return None
    return _value(dataset, (group << 16) | (_PRIVATE_BLOCK << 8) | element)


def _value(dataset: Any, tag: int) -> Any:
    try:
        element = dataset.get(tag)
        return None if element is None else element.value
    except Exception:  # a damaged value pydicom cannot convert
        return None


def attribute(dataset: Any, keyword: str) -> Any:
    """The value of attribute ``keyword`` at the top level of ``dataset``, or None."""
    try:
        return dataset[keyword].value if keyword in dataset else None
    except Exception:  # a damaged value pydicom cannot convert
        return None


def _items(value: Any) -> list[Any]:
    """The values of a multi-valued element (a bytes value split on backslashes)."""
    if value is None:
        return []
    if isinstance(value, bytes):
        value = value.decode("latin-1").strip(" \x00")
        return value.split("\\") if value else []
    if isinstance(value, str):
        return value.split("\\") if value.strip() else []
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def numbers(value: Any, binary: str | None = None) -> tuple[float, ...] | None:
    """A value as finite numbers (text, numbers, or bytes), or None.

    Parameters
    ----------
    value
        An element's value as pydicom gives it.
    binary
        A :mod:`struct` code (``"f"``, ``"d"``) for bytes that hold binary numbers (a private
        FL or FD element of an implicit-VR file); without it, bytes are read as text.
    """
    if isinstance(value, bytes) and binary is not None:
        size = struct.calcsize(binary)
        if not value or len(value) % size:
            return None
        items: list[Any] = list(struct.unpack(f"<{len(value) // size}{binary}", value))
    else:
        items = _items(value)
    try:
        result = tuple(float(item) for item in items)
    except (TypeError, ValueError):
        return None
    if not result or not all(math.isfinite(v) for v in result):
        return None
    return result


def first_number(value: Any, binary: str | None = None) -> float | None:
    """The first number of a value (see :func:`numbers`), or None."""
    values = numbers(value, binary)
    return values[0] if values else None


def texts(value: Any) -> tuple[str, ...]:
    """A value as its text items, each stripped (empty for an absent value)."""
    return tuple(str(item).strip(" \x00") for item in _items(value))


def text(value: Any) -> str:
    """A value as one text (items joined by backslashes, as DICOM writes them); "" if absent."""
    return "\\".join(texts(value)).strip()


def frame_groups(dataset: Any, frame: int) -> list[Any]:
    """Frame ``frame``'s functional group item, then the shared one (those present); none for a
    classic file."""
    groups = []
    try:
        per_frame = dataset.get("PerFrameFunctionalGroupsSequence")
        if per_frame is not None and 0 <= frame < len(per_frame):
            groups.append(per_frame[frame])
        shared = dataset.get("SharedFunctionalGroupsSequence")
        if shared:
            groups.append(shared[0])
    except Exception:  # a damaged sequence
        return []
    return groups


def functional_items(dataset: Any, frame: int, sequence: str) -> Iterator[Any]:
    """The items of ``sequence`` in frame ``frame``'s functional group, then in the shared one
    (an enhanced file may put an attribute in either); nothing for a classic file."""
    for group in frame_groups(dataset, frame):
        try:
            items = group.get(sequence)
        except Exception:
            continue
        if items:
            yield from items


def frame_item(dataset: Any, frame: int, sequence: str, keyword: str) -> Any:
    """Attribute ``keyword`` of frame ``frame``, from the functional group ``sequence`` (the
    frame's own, else the shared one), else from the top level of the data set; None if
    absent."""
    for item in functional_items(dataset, frame, sequence):
        try:
            if keyword in item:
                return item[keyword].value
        except Exception:
            continue
    return attribute(dataset, keyword)
