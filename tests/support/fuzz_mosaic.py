"""The oracle's Siemens mosaics: the tiles of a mosaic image, and where each lies.

Written from docs/mosaic.md with pydicom and nibabel's CSA reader (``nibabel.nicom``), not
with dicomio's code: the tile count from the private (0019,xx0A) or the CSA image header, a
``ceil(sqrt(n))`` grid filled row by row, tile 0's corner shifted by half the difference between
mosaic and tile sizes, tile ``k`` ``k`` × SpacingBetweenSlices (else SliceThickness) along the
slice normal, turned round when the CSA SliceNormalVector points against it.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import replace
from typing import Any

import numpy as np

from tests.support.fuzz_oracle import FAILED, Plane, Unsure

MAX_TILES = 4096


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = int.from_bytes(value[:2], "little")
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        if len(value) != 1:
            raise Unsure(f"NumberOfImagesInMosaic {value!r}: a correct reader refuses")
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number == int(number) and 1 <= number <= MAX_TILES):
        raise Unsure(f"NumberOfImagesInMosaic {value!r}: a correct reader refuses")
    return int(number)


def _csa(dataset: Any) -> tuple[int | None, np.ndarray | None]:
    """Tile count and slice normal from the CSA image header (nibabel's reader)."""
    try:
        block = dataset.private_block(0x0029, "SIEMENS CSA HEADER")
        raw = block[0x10].value
    except KeyError:
        return None, None
    if not isinstance(raw, bytes):
        raise Unsure("CSA image header that is not bytes")
    with contextlib.redirect_stdout(io.StringIO()):
        from nibabel.nicom import csareader
    try:
        csa = csareader.read(raw)
        count = csareader.get_n_mosaic(csa)
        normal = csareader.get_slice_normal(csa)
    except FAILED as exc:
        raise Unsure(f"CSA header nibabel cannot read: {type(exc).__name__}") from exc
    vector = None
    if normal is not None:
        vector = np.asarray(normal, dtype=float)
        if vector.shape != (3,) or not np.isfinite(vector).all():
            vector = None
    return _count(count), vector


def mosaic_tiles(dataset: Any, mosaic: Plane) -> list[Plane]:
    """The tiles of ``mosaic`` (one plane holding the whole mosaic image) as planes."""
    try:
        private = dataset.private_block(0x0019, "SIEMENS MR HEADER")[0x0A].value
    except KeyError:
        private = None
    except FAILED as exc:
        raise Unsure(f"private mosaic count pydicom cannot read: {type(exc).__name__}") from exc
    count = _count(private)
    csa_count, csa_normal = _csa(dataset)
    count = count if count is not None else csa_count
    if count is None:
        raise Unsure("a mosaic without its tile count: a correct reader refuses")
    rows, columns = mosaic.values.shape[:2]
    grid = math.ceil(math.sqrt(count))
    if rows % grid or columns % grid:
        raise Unsure(f"{count} tiles do not fit a {rows}x{columns} mosaic: a correct reader "
                     f"refuses")
    height, width = rows // grid, columns // grid
    tiles = [mosaic.values[(k // grid) * height:(k // grid + 1) * height,
                           (k % grid) * width:(k % grid + 1) * width] for k in range(count)]
    key = (*mosaic.key[:2], tiles[0].shape, *mosaic.key[3:])
    positions: list[np.ndarray | None] = [None] * count
    if mosaic.position is not None and mosaic.orientation is not None \
            and mosaic.spacing is not None:
        positions = _positions(dataset, mosaic, count, (rows, columns), (height, width),
                               csa_normal)
    regions = [((k // grid) * height, (k // grid + 1) * height, (k % grid) * width,
                (k % grid + 1) * width) for k in range(count)]
    return [replace(mosaic, values=tile, tile=k, position=positions[k], key=key,
                    region=regions[k]) for k, tile in enumerate(tiles)]


def _positions(dataset: Any, mosaic: Plane, count: int, size: tuple[int, int],
               tile: tuple[int, int], csa_normal: np.ndarray | None) -> list[np.ndarray | None]:
    assert mosaic.position is not None and mosaic.orientation is not None
    assert mosaic.spacing is not None
    step = None
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = dataset.get(keyword)
        elements = [dataset[k] for k in (keyword,) if k in dataset]
        if elements and elements[0].VR != "DS":
            # A VR that is not the standard's: readers differ (as numbers, or as its text).
            raise Unsure(f"{keyword} has VR {elements[0].VR}, not DS")
        try:
            step = float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            step = None
        if step:
            break
    if not step or not math.isfinite(step) or step <= 0 or step > 1e6:
        raise Unsure(f"mosaic slice spacing {step!r}: a correct reader refuses")
    row, column = mosaic.orientation[:3], mosaic.orientation[3:]
    first = (mosaic.position + (size[0] - tile[0]) / 2 * mosaic.spacing[0] * column
             + (size[1] - tile[1]) / 2 * mosaic.spacing[1] * row)
    normal = np.cross(row, column)
    normal = normal / np.linalg.norm(normal)
    if csa_normal is not None:
        agreement = float(csa_normal @ normal)
        if abs(agreement) < 1e-6:
            raise Unsure("CSA slice normal perpendicular to the image normal")
        if agreement < 0:
            normal = -normal
    return [first + k * step * normal for k in range(count)]
