"""Siemens mosaics: one stored image holding every slice of a volume as a grid of tiles.

Siemens EPI (fMRI, diffusion) is often stored as one file per volume whose image is a mosaic:
``NumberOfImagesInMosaic`` slices of ``rows × columns`` laid out row by row in a square grid of
``ceil(sqrt(n))`` tiles per side. The count is in the private element (0019,xx0A) or, when the
private group 0019 was stripped, only in the CSA image header (0029,xx10).

Two corrections give each tile its true position (as nibabel and dcm2niix do):

- ImagePositionPatient of a mosaic is the corner of the whole mosaic, as if it were one big
  slice. The first tile's corner is ``(mosaic size - tile size) / 2`` pixels further along
  the rows and columns.
- Tile ``k`` lies ``k`` slice spacings (SpacingBetweenSlices, else SliceThickness) along the
  CSA ``SliceNormalVector``. That vector points against ``row cosine × column cosine`` when the
  slices were stored head to foot: dicomio then sorts the tiles in reverse, like any slices.

Demosaicing itself is a NumPy slicing of the decoded mosaic
(:meth:`dicomio.dicom.frame.Tile.region`), so every backend able to read the mosaic image gives
the same slices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dicomio.dicom.csa import CsaError, number, parse_csa, vector
from dicomio.dicom.frame import Frame, Tile
from dicomio.dicom.source import read_dataset
from dicomio.dicom.types import FileHeader
from dicomio.errors import InvalidDicomError
from dicomio.geometry.conventions import slice_normal
from dicomio.geometry.stack import (
    MAX_COORDINATE_MM,
    orientation_problem,
    position_problem,
    spacing_problem,
)

__all__ = ["MAX_TILES", "is_mosaic", "mosaic_frames"]

_CSA_CREATOR = "SIEMENS CSA HEADER"
_MR_CREATOR = "SIEMENS MR HEADER"

#: Most tiles a mosaic may hold (a 64 x 64 grid; scanners write a few hundred at most).
MAX_TILES = 4096


def is_mosaic(header: FileHeader) -> bool:
    """A Siemens mosaic says so in its ImageType."""
    return any(value.upper() == "MOSAIC" for value in header.image_type)


def _private(dataset: Any, group: int, creator: str, offset: int, header: FileHeader) -> Any:
    """The value of a private element, None when absent; a value pydicom cannot convert (a
    damaged VR or length) is an :class:`InvalidDicomError`."""
    try:
        return dataset.private_block(group, creator)[offset].value
    except KeyError:
        return None
    except Exception as exc:  # pydicom raises many types for damaged values
        raise InvalidDicomError(
            f"cannot read the Siemens private element ({group:04X},xx{offset:02X}): "
            f"{type(exc).__name__}: {exc}", path=header.path) from None


def _count(value: Any, header: FileHeader) -> int | None:
    """NumberOfImagesInMosaic as a whole number from 1 to :data:`MAX_TILES`, None when absent.

    Raises
    ------
    InvalidDicomError
        The value is not such a number.
    """
    if value is None:
        return None
    if isinstance(value, bytes):  # an implicit-VR file keeps private values as raw bytes
        value = int.from_bytes(value[:2], "little")
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 1:
        value = value[0]  # a value of VM 1 written as a list
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number == int(number) and 1 <= number <= MAX_TILES):
        raise InvalidDicomError(
            f"NumberOfImagesInMosaic is {value!r}, not a whole number of tiles from 1 to "
            f"{MAX_TILES}: the tiles cannot be separated", path=header.path)
    return int(number)


def _siemens_values(header: FileHeader) -> tuple[int | None, tuple[float, ...] | None]:
    """NumberOfImagesInMosaic and SliceNormalVector from the private elements."""

    try:
        dataset = read_dataset(header.origin, stop_before_pixels=True)
    except Exception as exc:  # pydicom raises many types for damaged files
        raise InvalidDicomError(f"cannot read the Siemens private header: {exc}",
                                path=header.path) from None
    count = _count(_private(dataset, 0x0019, _MR_CREATOR, 0x0A, header), header)
    normal = None
    csa = _private(dataset, 0x0029, _CSA_CREATOR, 0x10, header)
    if isinstance(csa, bytes):
        try:
            elements = parse_csa(csa)
        except CsaError as exc:
            raise InvalidDicomError(f"malformed CSA image header: {exc}",
                                    path=header.path) from None
        if count is None:
            count = _count(number(elements, "NumberOfImagesInMosaic"), header)
        normal = vector(elements, "SliceNormalVector", 3)
        if normal is not None and not all(math.isfinite(v) for v in normal):
            normal = None  # no direction to take from it
    return count, normal


def mosaic_frames(header: FileHeader) -> list[Frame]:
    """Split a mosaic file into one frame per tile, each with its true position.

    Raises
    ------
    InvalidDicomError
        The mosaic's slice count is missing or does not fit the image, or its geometry is
        unusable (the message says which).
    """
    fmt = header.pixel
    assert fmt is not None
    count, csa_normal = _siemens_values(header)
    if count is None:
        raise InvalidDicomError(
            "ImageType says MOSAIC but NumberOfImagesInMosaic is neither in (0019,xx0A) nor in "
            "the CSA image header: the tiles cannot be separated", path=header.path)
    per_row = math.ceil(math.sqrt(count))
    if fmt.rows % per_row or fmt.columns % per_row or fmt.number_of_frames != 1:
        raise InvalidDicomError(
            f"a {fmt.rows}x{fmt.columns} mosaic cannot hold {count} tiles on a {per_row}x"
            f"{per_row} grid", path=header.path)
    rows, columns = fmt.rows // per_row, fmt.columns // per_row
    tiles = [Tile(k, per_row, rows, columns) for k in range(count)]
    single = Frame.single(header)
    if (orientation_problem(header.orientation) or spacing_problem(header.pixel_spacing)
            or position_problem(header.position)):
        # The tiles are still slices, in stored order; grouping reports why they cannot be
        # placed in space.
        return [replace(single, position=None, tile=tile) for tile in tiles]
    spacing = header.spacing_between_slices or header.slice_thickness
    if not spacing or not 0 < spacing <= MAX_COORDINATE_MM:
        raise InvalidDicomError(
            f"mosaic without a usable SpacingBetweenSlices or SliceThickness ({spacing}): the "
            f"tiles' positions are unknown", path=header.path)
    assert header.orientation is not None and header.pixel_spacing is not None
    iop = np.asarray(header.orientation, dtype=np.float64)
    row_cosine, column_cosine = iop[:3], iop[3:]
    shift = ((fmt.rows - rows) / 2 * header.pixel_spacing[0] * column_cosine
             + (fmt.columns - columns) / 2 * header.pixel_spacing[1] * row_cosine)
    first = np.asarray(header.position, dtype=np.float64) + shift
    normal = slice_normal(header.orientation)
    if csa_normal is not None and float(np.dot(csa_normal, normal)) < 0:
        normal = -normal  # slices stored head to foot (or left to right...)
    return [replace(single, position=tuple(float(v) for v in first + k * spacing * normal),
                    tile=tile) for k, tile in enumerate(tiles)]
