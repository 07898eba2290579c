"""The file names of ``dicomio convert`` into a folder (without ``--name``):
``<SeriesNumber>_<description>_<uid>[_stack<k>]<ending>``, unique by construction."""

from __future__ import annotations

import hashlib
import re

from dicomio.io.writers import EXTENSIONS, Format
from dicomio.series.info import SeriesInfo

__all__ = ["output_name", "uid_part"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

# A valid UID: components of digits, separated by single dots.
_UID = re.compile(r"[0-9]+(?:\.[0-9]+)*")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._")


def uid_part(uid: str) -> tuple[str, str | None]:
    """The UID as a name part, and the note explaining it when it is not the UID itself."""
    if _UID.fullmatch(uid):
        return uid, None
    digest = hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    part = "_".join(p for p in (_safe(uid), f"u{digest}") if p)
    return part, (f"SeriesInstanceUID {uid!r} is not a valid UID: its file name ends in "
                  f"u{digest} (a hash of it), so that no other series can have that name")


def output_name(series: SeriesInfo, format: Format) -> str:
    """The file name of a series: ``<SeriesNumber>_<description>_<uid>[_stack<k>]<ending>``,
    with characters other than letters, digits, ``.``, ``_`` and ``-`` replaced.

    A name ends with the UID itself (a valid UID has only digits and dots) or, for any other
    SeriesInstanceUID, with ``u`` and a hash of it: two SeriesInstanceUIDs never share a name.
    """
    parts = [] if series.number is None else [str(series.number)]
    parts += [text for text in (_safe(series.description)[:48], uid_part(series.uid)[0])
              if text]
    stack = f"_stack{series.stack}" if series.n_stacks > 1 else ""
    return "_".join(parts) + stack + EXTENSIONS[format]
