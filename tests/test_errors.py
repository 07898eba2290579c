"""The error tree: foreign exceptions translated in one place, paths named, interrupts kept."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import pytest

from dicomio.errors import (
    CorruptDataError,
    DicomIOError,
    InternalError,
    NoDicomFilesError,
    UnreadableFilesError,
    from_foreign,
    translated,
)
from dicomio.series.inventory import SkippedFile


def _struct_error() -> struct.error:
    try:
        struct.unpack("<I", b"\x00")
    except struct.error as exc:
        return exc
    raise AssertionError("unreachable")


FOREIGN = [RecursionError("maximum recursion depth exceeded"),
           OverflowError("cannot convert float infinity to integer"),
           ValueError("cannot convert float NaN to integer"), TypeError("not a 'MultiValue'"),
           AssertionError("the stored order always tells images apart"),
           NotImplementedError("Unknown Value Representation"), _struct_error(),
           IndexError("list index out of range"), KeyError("PixelData"),
           UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), MemoryError(),
           ZeroDivisionError("float division by zero")]


@pytest.mark.parametrize("exc", FOREIGN, ids=lambda e: type(e).__name__)
def test_a_foreign_exception_becomes_an_internal_error_naming_the_file(exc) -> None:
    error = from_foreign(exc, "scan/IM_0001", "reading the header")
    assert isinstance(error, InternalError) and isinstance(error, DicomIOError)
    assert error.path == Path("scan/IM_0001")
    assert error.original_type == type(exc).__name__
    assert error.original_message == (str(exc) or "(no message)")
    assert str(error) == (f"scan/IM_0001: reading the header failed unexpectedly: "
                          f"{type(exc).__name__}: {str(exc) or '(no message)'}")


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(2), GeneratorExit(),
                                 FileNotFoundError(2, "No such file", "a.dcm"),
                                 CorruptDataError("truncated", path="a.dcm")],
                         ids=lambda e: type(e).__name__)
def test_interrupts_io_errors_and_dicomio_errors_are_left_as_they_are(exc) -> None:
    assert from_foreign(exc, "b.dcm", "reading") is exc


def test_translated_raises_the_translation_with_its_cause() -> None:
    with pytest.raises(InternalError) as raised, translated(["a.dcm", "b.dcm"], "grouping"):
        raise TypeError("unsupported operand")
    assert raised.value.paths == (Path("a.dcm"), Path("b.dcm"))
    assert isinstance(raised.value.__cause__, TypeError)
    with pytest.raises(KeyboardInterrupt), translated("a.dcm", "reading"):
        raise KeyboardInterrupt


def test_an_internal_error_crosses_processes_whole() -> None:
    error = from_foreign(OverflowError("too large"), "a/b.dcm", "checking gaps")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.path, copy.original_type, copy.original_message) == (
        InternalError, str(error), Path("a/b.dcm"), "OverflowError", "too large")


def test_an_error_about_several_paths_names_them() -> None:
    error = NoDicomFilesError("no DICOM image found", path=["a", "b", "c", "d", "e"])
    assert error.path == Path("a")
    assert error.paths == tuple(Path(p) for p in "abcde")
    assert str(error) == "a, b, c (and 2 more): no DICOM image found"


def test_unreadable_files_error_names_the_first_file() -> None:
    skipped = [SkippedFile(Path("s/IM_2"), "truncated", "unreadable"),
               SkippedFile(Path("s/IM_5"), "nested too deep", "unreadable")]
    error = UnreadableFilesError(skipped)
    assert error.path == Path("s/IM_2")
    assert error.paths == (Path("s/IM_2"), Path("s/IM_5"))
    assert "s/IM_5: nested too deep" in str(error)
