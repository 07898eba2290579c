"""What discovery found: image headers, and every skipped file with its reason."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dicomio.dicom.types import FileHeader

__all__ = ["Inventory", "PathInput", "SkipCategory", "SkippedFile"]

PathInput = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Sequence[Any]
"""What discovery takes: a path, or a sequence of paths, pydicom data sets, ``bytes`` or binary
file objects (:mod:`dicomio.sources`)."""


SkipCategory = Literal["not_dicom", "no_pixel_data", "unreadable", "other"]


@dataclass(frozen=True)
class SkippedFile:
    """A file that is not part of any series, and why.

    ``category`` is ``"not_dicom"`` (content is not DICOM), ``"no_pixel_data"`` (DICOM but not an
    image: DICOMDIR, SR, RT structures, presentation states...) or ``"unreadable"`` (could not be
    opened, DICOM whose header is truncated or malformed, or a damaged file named like the
    images of its folder or as DICOM: possibly a lost slice), or
    ``"other"`` (a folder reached twice through a symlink loop, a device or pipe).
    """

    path: Path
    reason: str
    category: SkipCategory


@dataclass
class Inventory:
    """What :func:`discover` found: image headers, and every skipped file with its reason."""

    headers: list[FileHeader] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    roots: tuple[Path, ...] = ()

    @property
    def unreadable(self) -> list[SkippedFile]:
        return [s for s in self.skipped if s.category == "unreadable"]
