"""Output file names from a template, as dcm2niix's ``-f`` makes them.

``--name '%p_%s'`` of ``dicomio convert``: each placeholder is replaced by a value of the
series' first image, then the name is made safe for every file system, and made unique in its
folder.

========  ==================================================
``%p``    ProtocolName (SeriesDescription when absent)
``%s``    SeriesNumber
``%d``    SeriesDescription
``%i``    PatientID
``%n``    PatientName
``%t``    StudyDate and StudyTime, ``YYYYMMDDhhmmss``
``%e``    EchoNumbers (1 when absent)
``%f``    the name of the folder holding the first file
``%m``    Manufacturer, its first two letters as dcm2niix writes them (``Si``, ``GE``, ``Ph``)
``%z``    SequenceName
``%%``    a percent sign
========  ==================================================

A placeholder whose attribute is absent becomes nothing; an unknown one (``%q``) is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["PLACEHOLDERS", "expand", "safe_name", "unique_path"]

#: What each placeholder stands for (the help and the docs list these).
PLACEHOLDERS: dict[str, str] = {
    "p": "protocol name", "s": "series number", "d": "series description",
    "i": "patient ID", "n": "patient name", "t": "study date and time",
    "e": "echo number", "f": "folder name", "m": "manufacturer", "z": "sequence name",
}

_PATTERN = re.compile(r"%(.)", re.DOTALL)


def _text(dataset: Any, keyword: str) -> str:
    value = dataset.get(keyword, None)
    if value is None or value == "":
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else ""
    return str(value).strip()


def _values(dataset: Any, folder: str) -> Mapping[str, Callable[[], str]]:
    def time() -> str:
        date, clock = _text(dataset, "StudyDate"), _text(dataset, "StudyTime")
        return date + clock.split(".")[0]

    return {
        "p": lambda: _text(dataset, "ProtocolName") or _text(dataset, "SeriesDescription"),
        "s": lambda: _text(dataset, "SeriesNumber"),
        "d": lambda: _text(dataset, "SeriesDescription"),
        "i": lambda: _text(dataset, "PatientID"),
        "n": lambda: _text(dataset, "PatientName"),
        "t": time,
        "e": lambda: _text(dataset, "EchoNumbers") or "1",
        "f": lambda: folder,
        "m": lambda: _maker(_text(dataset, "Manufacturer")),
        "z": lambda: _text(dataset, "SequenceName"),
        "%": lambda: "%",
    }


def _maker(manufacturer: str) -> str:
    """The first two letters of the manufacturer, as dcm2niix's ``%m`` writes them."""
    return "GE" if manufacturer.upper().startswith("GE") else manufacturer[:2].title()


def expand(template: str, dataset: Any, folder: str) -> str:
    """``template`` with each placeholder replaced by the value ``dataset`` (a pydicom data
    set of the series' first image) gives; ``folder`` is ``%f``.

    Raises
    ------
    ValueError
        An unknown placeholder, or a template ending in a lone ``%``.
    """
    if template.endswith("%") and not template.endswith("%%"):
        raise ValueError(f"the name {template!r} ends with a lone %")
    values = _values(dataset, folder)
    unknown = sorted({m.group(1) for m in _PATTERN.finditer(template)} - set(values))
    if unknown:
        known = ", ".join(f"%{k} ({v})" for k, v in PLACEHOLDERS.items())
        raise ValueError(f"unknown placeholder(s) {', '.join('%' + u for u in unknown)} in "
                         f"{template!r}; known: {known}")
    return _PATTERN.sub(lambda m: values[m.group(1)](), template)


def safe_name(name: str) -> str:
    """``name`` safe for every file system: letters, digits, ``-``, ``_`` and ``.`` kept
    (accents removed), any other run of characters (spaces, slashes, ``:``, control
    characters) one ``_``, no leading dot or dash; ``"series"`` when nothing is left."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", plain).strip("_").lstrip(".-")
    return cleaned[:200] or "series"


def unique_path(folder: Path, stem: str, suffix: str, taken: set[Path] | None = None) -> Path:
    """``folder/stem+suffix``, or, when that exists (or is in ``taken``), the first free of
    ``stem`` + ``a``, ``b``, ... ``z``, ``aa``... as dcm2niix names them."""
    taken = taken if taken is not None else set()
    candidate = folder / f"{stem}{suffix}"
    number = 0
    while candidate.exists() or candidate in taken or _companions_exist(candidate, suffix):
        number += 1
        candidate = folder / f"{stem}{_letters(number)}{suffix}"
    return candidate


def _companions_exist(image: Path, suffix: str) -> bool:
    """A sidecar of the same stem exists: the name belongs to another conversion."""
    stem = image.name[: -len(suffix)] if suffix else image.name
    return (image.parent / f"{stem}.json").exists()


def _letters(number: int) -> str:
    """1 → a, 26 → z, 27 → aa."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters
