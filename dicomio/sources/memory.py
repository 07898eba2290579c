"""DICOM in memory: pydicom data sets, ``bytes`` and binary file objects, read as files are.

Each item of the sequence a caller gives becomes a :class:`MemorySource` named by its place,
``<memory>[3]``: the bytes of a DICOM file (a data set is written as one, with pydicom, once),
read by the same header walk and pixel readers as a file on disk. Nothing is written to disk.
"""

from __future__ import annotations

import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dicomio.series.inventory import SkippedFile

__all__ = ["HeldBytes", "MemorySource", "dataset_bytes", "is_memory_item", "memory_name",
           "memory_source"]


def memory_name(index: int) -> Path:
    """What the ``index``-th item given in memory is called."""
    return Path(f"<memory>[{index}]")


class HeldBytes:
    """What a source whose file is held in memory (``data``) opens and measures; the source
    says its ``name`` and ``kind``."""

    data: bytes

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)

    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class MemorySource(HeldBytes):
    """The bytes of one DICOM file held in memory, the ``index``-th item given."""

    index: int
    data: bytes
    on_disk: bool = False

    @property
    def name(self) -> Path:
        return memory_name(self.index)

    @property
    def kind(self) -> str:
        return "data held in memory"


def is_memory_item(item: object) -> bool:
    """Whether ``item`` is DICOM held in memory: a pydicom data set, ``bytes`` (or a
    ``bytearray`` or ``memoryview``), or a binary file object (with ``read``)."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return True
    if callable(getattr(item, "read", None)):
        return True
    # A Dataset exists only once pydicom is imported: a list of paths never imports it.
    pydicom = sys.modules.get("pydicom")
    return pydicom is not None and isinstance(item, pydicom.Dataset)


def dataset_bytes(dataset: Any) -> bytes:
    """A pydicom data set as the bytes of a DICOM file (with its file meta information when
    it can have one, else as a bare implicit-VR little-endian data set, as on old media)."""
    from pydicom import dcmwrite

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dcmwrite(buffer, dataset, enforce_file_format=True)
        except (ValueError, AttributeError, TypeError, KeyError):
            buffer = io.BytesIO()
            dcmwrite(buffer, dataset, implicit_vr=True, little_endian=True)
    return buffer.getvalue()


def memory_source(index: int, item: Any) -> MemorySource | SkippedFile:
    """The ``index``-th item given, as a source; a skipped file (with the reason) when it
    cannot be turned into bytes."""
    name = memory_name(index)
    try:
        if isinstance(item, (bytes, bytearray, memoryview)):
            return MemorySource(index, bytes(item))
        if callable(getattr(item, "read", None)):
            data = item.read()
            if not isinstance(data, (bytes, bytearray)):
                return SkippedFile(name, "a file object that is not binary (open it with "
                                         "'rb')", "not_dicom")
            return MemorySource(index, bytes(data))
        return MemorySource(index, dataset_bytes(item))
    except OSError as exc:
        return SkippedFile(name, f"cannot read: {exc}", "unreadable")
    except Exception as exc:  # pydicom raises many types for a data set it cannot write
        return SkippedFile(name, f"a data set pydicom cannot write as a file: "
                                 f"{type(exc).__name__}: {exc}", "unreadable")
