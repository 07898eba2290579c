"""The oracle's order of the volumes of a 4-D series, written from docs/4d.md.

At each slice position there are ``T`` images; volume ``t`` holds the ``t``-th of each position,
the images of a position ordered by the first of these keys that every image has and that tells
the images of every position apart: TemporalPositionIndex (enhanced) or
TemporalPositionIdentifier (classic); DimensionIndexValues (enhanced); FrameAcquisitionDateTime
(enhanced) or AcquisitionTime (classic); InstanceNumber then frame number; file path then frame
number. A key the oracle cannot parse where it would decide leaves the order unjudged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

#: A value present but not understood by the oracle.
UNPARSED = "unparsed"
KEYS = ("temporal", "dimension", "time", "instance", "stored")


def _content(items: Sequence[Any]) -> Any:
    for item in items:
        if item is not None and item.get("FrameContentSequence"):
            return item.FrameContentSequence[0]
    return None


def _integer(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return UNPARSED


def _time(value: Any, with_date: bool) -> Any:
    """A DICOM TM (or DT) as a sortable (date, seconds) pair."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().split("&")[0].split("+")[0].replace(":", "")
    date = ""
    if with_date:
        date, text = text[:8], text[8:]
    match = re.fullmatch(r"(\d{2})(\d{2})?(\d{2})?(\.\d+)?", text)
    if match is None or (with_date and not date.isdigit()):
        return UNPARSED
    hours, minutes, seconds, fraction = match.groups()
    return (date, int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
            + float(fraction or 0))


def order_values(dataset: Any, items: Sequence[Any], frame: int, instance: int | None,
                 name: str) -> dict[str, Any]:
    """The candidate ordering keys of one frame (``items``: its per-frame and shared
    functional groups; empty for a classic file)."""
    enhanced = dataset.get("PerFrameFunctionalGroupsSequence") is not None
    content = _content(items) if enhanced else None
    values: dict[str, Any] = {"stored": (name, frame)}
    if enhanced:
        values["temporal"] = _integer(content.get("TemporalPositionIndex")) if content else None
        dimension = content.get("DimensionIndexValues") if content else None
        if dimension is not None:
            numbers = [_integer(v) for v in (dimension if isinstance(dimension, Sequence)
                                             and not isinstance(dimension, str)
                                             else [dimension])]
            values["dimension"] = UNPARSED if UNPARSED in numbers else tuple(numbers)
        values["time"] = _time(content.get("FrameAcquisitionDateTime"), True) if content \
            else None
    else:
        values["temporal"] = _integer(dataset.get("TemporalPositionIdentifier"))
        values["time"] = _time(dataset.get("AcquisitionTime"), False)
    if instance is not None:
        values["instance"] = (instance, frame)
    return {k: v for k, v in values.items() if v is not None}


def volume_order(slices: list[list[Any]]) -> str | None:
    """Sort the images of each position into volume order; the key used, or None when the
    oracle cannot tell it."""
    for key in KEYS:
        found = [[plane.order.get(key) for plane in images] for images in slices]
        if any(value is None for values in found for value in values):
            continue
        if any(value == UNPARSED for values in found for value in values):
            return None
        if all(len(set(values)) == len(values) for values in found):
            for images in slices:
                images.sort(key=lambda plane: plane.order[key])
            return key
    return None
