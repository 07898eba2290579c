"""JSON that every parser reads: ``NaN`` and ``Infinity`` are not JSON, so a non-finite number
is written as ``null``, and the output is made with ``allow_nan=False`` (a non-finite number
that slipped through is an error, never non-standard text)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["json_safe", "safe_dumps"]


def json_safe(value: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """``value`` with every non-finite float replaced by None, through dicts, lists and tuples.

    Parameters
    ----------
    value
        What is to be written as JSON.
    default
        Called on any other object that JSON cannot hold (as :func:`json.dumps`' ``default``);
        what it returns is made safe in turn. Without it such objects are left as they are.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: json_safe(item, default) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item, default) for item in value]
    if default is None:
        return value
    return json_safe(default(value), default)


def safe_dumps(value: Any, default: Callable[[Any], Any] | None = None, **options: Any) -> str:
    """:func:`json.dumps` of :func:`json_safe` ``(value)``, with ``allow_nan=False``; ``options``
    are those of :func:`json.dumps` (``indent``...)."""
    return json.dumps(json_safe(value, default), allow_nan=False, **options)
