"""Checks of the arguments of dicomio's public functions, before any file is read.

Python lets ``irregular="Resample"``, ``rescale="no"`` or ``workers=0`` through, and each would
behave like another value (``"accept"``, ``True``, the default) without a word. Each check here
raises :class:`~dicomio.errors.InvalidArgumentError` (a ``ValueError``) naming the argument,
what it takes and what it was given.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dicomio.errors import InvalidArgumentError

__all__ = ["check_choice", "check_count", "check_flag", "check_instance"]


def check_choice(name: str, value: object, choices: Iterable[str]) -> None:
    """``value`` must be one of ``choices`` (exactly: ``"Resample"`` is not ``"resample"``)."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise InvalidArgumentError(f"{name} must be one of {', '.join(map(repr, options))}, "
                                   f"not {value!r}")


def check_flag(name: str, value: object) -> None:
    """``value`` must be True or False (a NumPy bool too): a string such as ``"no"`` is true."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentError(f"{name} must be True or False, not {value!r}")


def check_count(name: str, value: object, *, none: str | None = None) -> None:
    """``value`` must be a whole number of at least 1, or None when ``none`` says what None
    means."""
    if value is None and none is not None:
        return
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not whole or value < 1:  # type: ignore[operator]
        alternative = f" (or None: {none})" if none is not None else ""
        raise InvalidArgumentError(f"{name} must be a whole number of at least 1{alternative}, "
                                   f"not {value!r}")


def check_instance(name: str, value: object, kind: type | tuple[type, ...],
                   described: str) -> None:
    """``value`` must be an instance of ``kind``, ``described`` in the message."""
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
        raise InvalidArgumentError(f"{name} must be {described}, not {value!r}")


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
