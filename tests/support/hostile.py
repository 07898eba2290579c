"""Hostile files: each one a file that a buggy or malicious writer could produce, which once
made dicomio raise a foreign exception (``RecursionError``, ``OverflowError``, ``TypeError``,
``ValueError``, ``AssertionError``, ``NotImplementedError``) instead of a ``DicomIOError`` or a
finding.

Every writer makes a folder holding one series of its own (its own SeriesInstanceUID) and
returns the damaged file, so several of them, beside good series, make a hostile archive
(:func:`hostile_archive`).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dicomio.testing.multiframe import csa_header, write_mosaic
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.corpus import CORPUS, corpus_path

#: A small CT series (the good series of an archive, and the base of damaged ones).
SMALL = SeriesSpec(shape=(4, 12, 10))
#: A small Siemens mosaic: 5 tiles of 12 x 14.
MOSAIC = SeriesSpec(shape=(5, 12, 14), modality="MR", rescale_intercept=0.0,
                    pixel_spacing=(1.5, 2.0), slice_spacing=3.0)
#: An enhanced CT of the corpus (pydicom's test data).
ENHANCED_CT = "pydicom_data/data/eCT_Supplemental.dcm"
#: (0020,9157) DimensionIndexValues, explicit VR "UL": its VR written "U\" is one bit away.
DIMENSION_INDEX_VALUES_UL = b"\x20\x00\x57\x91UL"


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    """pydicom writes nested sequences recursively: let it write deeper ones."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def nest_sequences(path: Path, depth: int = 500) -> None:
    """Give the file at ``path`` a ReferencedImageSequence nested ``depth`` deep, every
    sequence and item of undefined length (so a reader must walk them all)."""
    dataset = pydicom.dcmread(path)
    inner = Dataset()
    inner.CodeValue = "x"
    for _ in range(depth):
        outer = Dataset()
        inner.is_undefined_length_sequence_item = True
        outer.ReferencedImageSequence = Sequence([inner])
        outer["ReferencedImageSequence"].is_undefined_length = True
        inner = outer
    dataset["ReferencedImageSequence"] = inner["ReferencedImageSequence"]
    with _recursion_limit(20 * depth + 1000):
        dataset.save_as(path)


def nested(folder: Path) -> Path:
    """A CT series one of whose slices holds sequences nested 500 deep (a 20 KB file)."""
    written = write_series(folder, SMALL)
    nest_sequences(written.files[1])
    return written.files[1]


def huge_position(folder: Path) -> Path:
    """A CT series 0.5 mm apart one of whose slices lies at z = 1.5e308 mm: the gap divided
    by the spacing overflows a float."""
    written = write_series(folder, SMALL.with_(slice_spacing=0.5))
    last = written.files[-1]  # the others 0.5 mm apart: 1.5e308 / 0.5 is infinite
    dataset = pydicom.dcmread(last)
    dataset.ImagePositionPatient = ["0", "0", "1.5e308"]
    dataset.save_as(last)
    return last


def _mosaic_csa(folder: Path, count: str, vr: str = "US") -> Path:
    """A mosaic whose CSA image header gives NumberOfImagesInMosaic as ``count`` (and whose
    private (0019,xx0A) is absent, so the CSA header is where the count is read)."""
    written = write_mosaic(folder, MOSAIC, private_count=False)
    dataset = pydicom.dcmread(written.files[0])
    dataset.private_block(0x0029, "SIEMENS CSA HEADER")[0x10].value = csa_header({
        "EchoLinePosition": ("IS", ["32"]),
        "NumberOfImagesInMosaic": (vr, [count]),
        "SliceNormalVector": ("FD", ["0", "0", "1"]),
    })
    dataset.save_as(written.files[0])
    return written.files[0]


def mosaic_nan_count(folder: Path) -> Path:
    """A mosaic whose CSA NumberOfImagesInMosaic is ``nan`` (``int(nan)``: ValueError)."""
    return _mosaic_csa(folder, "nan")


def mosaic_infinite_count(folder: Path) -> Path:
    """A mosaic whose CSA NumberOfImagesInMosaic is ``1e400`` (``int(inf)``: OverflowError)."""
    return _mosaic_csa(folder, "1e400", vr="DS")


def mosaic_listed_count(folder: Path) -> Path:
    """A mosaic whose private NumberOfImagesInMosaic holds two values (``int(list)``:
    TypeError)."""
    written = write_mosaic(folder, MOSAIC)
    dataset = pydicom.dcmread(written.files[0])
    element = dataset.private_block(0x0019, "SIEMENS MR HEADER")[0x0A]
    element.VR = "IS"
    element.value = ["4", "5"]
    dataset.save_as(written.files[0])
    return written.files[0]


def mosaic_coinciding_tiles(folder: Path) -> Path:
    """A mosaic whose slices are 1e-300 mm apart: every tile at one position, each told apart
    only by its tile number (the stored order once ended in an AssertionError)."""
    written = write_mosaic(folder, MOSAIC)
    dataset = pydicom.dcmread(written.files[0])
    dataset.SpacingBetweenSlices = "1e-300"
    dataset.save_as(written.files[0])
    return written.files[0]


def enhanced_vr_flip(folder: Path) -> Path:
    """pydicom's enhanced CT (2 frames) with one bit flipped in the VR of a frame's
    DimensionIndexValues ("UL" -> "U\\"): pydicom raises NotImplementedError on reading it."""
    source = corpus_path(ENHANCED_CT)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    data = bytearray(source.read_bytes())
    at = data.rfind(DIMENSION_INDEX_VALUES_UL) + len(DIMENSION_INDEX_VALUES_UL) - 1
    data[at] ^= 0x10  # "L" (0x4C) -> "\" (0x5C)
    target.write_bytes(bytes(data))
    return target


@dataclass(frozen=True)
class Hostile:
    """A kind of hostile file: its name, its writer, and what a load of its folder raises."""

    name: str
    write: Callable[[Path], Path]
    raises: type[Exception]


def hostile_kinds() -> list[Hostile]:
    """Every kind, with the error ``load_volume`` gives on its folder (``Exception`` for a
    mosaic used as stored, which loads)."""
    from dicomio.errors import (
        MissingGeometryError,
        RepeatedPositionsError,
        UnreadableFilesError,
    )

    return [
        Hostile("nested", nested, UnreadableFilesError),
        Hostile("huge_position", huge_position, MissingGeometryError),
        Hostile("mosaic_nan_count", mosaic_nan_count, Exception),
        Hostile("mosaic_infinite_count", mosaic_infinite_count, Exception),
        Hostile("mosaic_listed_count", mosaic_listed_count, Exception),
        Hostile("mosaic_coinciding_tiles", mosaic_coinciding_tiles, RepeatedPositionsError),
        Hostile("enhanced_vr_flip", enhanced_vr_flip, MissingGeometryError),
    ]


def hostile_archive(root: Path, good: int = 3) -> tuple[list[Path], dict[str, Path]]:
    """An archive of ``good`` small CT series (folders ``good0``...) and one folder per kind
    of hostile file (the enhanced one when the corpus is there).

    Returns the good series' folders and each hostile file by kind.
    """
    if root.exists():
        shutil.rmtree(root)
    folders = [write_series(root / f"good{k}", SMALL.with_(series_number=k + 1)).folder
               for k in range(good)]
    hostile = {kind.name: kind.write(root / kind.name) for kind in hostile_kinds()
               if kind.name != "enhanced_vr_flip" or (CORPUS / ENHANCED_CT).exists()}
    return folders, hostile
