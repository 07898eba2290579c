"""From the images a backend reads to the slices of a volume.

Backends read *stored* images: a whole file's frame, in the order they are given. A volume's
slices are not always those images:

- the tiles of a Siemens mosaic are cut out of one stored image each;
- the slices of a 4-D series are read in (time, slice) order and reshaped afterwards;
- images a vendor convention says are stored with their rows reversed (GE ``epi_pepolar``,
  ``Frame.rows_reversed``) have their rows flipped back.

:func:`read_plan` lists the stored images a backend must read (each once) as a
:class:`~dicomio.series.info.SeriesInfo`, and :meth:`ReadPlan.assemble` turns what the backend
returned into the slices, in the order asked for. Because this happens after decoding, in NumPy,
every backend that can read the stored images gives the same slices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.frame import Frame, Tile
from dicomio.series.info import SeriesInfo

__all__ = ["ReadPlan", "read_plan"]


@dataclass(frozen=True)
class ReadPlan:
    """What a backend reads, and how it becomes the slices asked for.

    Attributes
    ----------
    stored
        The stored images to read, each once, as a series a backend can read.
    sources
        For each slice asked for, the index of its stored image in ``stored.frames``.
    tiles
        For each slice, the mosaic tile to cut from its stored image (None: the whole image).
    reversed_rows
        For each slice, whether its rows are stored reversed and are flipped back.
    """

    stored: SeriesInfo
    sources: tuple[int, ...]
    tiles: tuple[Tile | None, ...]
    reversed_rows: tuple[bool, ...] = ()

    @property
    def identity(self) -> bool:
        """The stored images are the slices, one for one and in order (their rows may still
        be flipped back: :attr:`reversed_rows`)."""
        return self.sources == tuple(range(len(self.stored.frames))) and \
            all(tile is None for tile in self.tiles)

    def assemble(self, stored: NDArray[Any]) -> NDArray[Any]:
        """The slices, shape (n, rows, columns[, samples]), from the stored images' array."""
        if self.identity:
            out = stored
        elif all(tile is None for tile in self.tiles):
            out = stored[np.asarray(self.sources, dtype=np.intp)]
        else:
            first = self.tiles[0]
            assert first is not None
            out = np.empty((len(self.sources), first.rows, first.columns, *stored.shape[3:]),
                           dtype=stored.dtype)
            for k, (source, tile) in enumerate(zip(self.sources, self.tiles, strict=True)):
                assert tile is not None
                out[k] = stored[source][tile.region()]
        if any(self.reversed_rows):
            if not out.flags.writeable:
                out = np.array(out)
            for flipped in np.flatnonzero(self.reversed_rows):
                out[flipped] = out[flipped][::-1].copy()
        return out


def read_plan(series: SeriesInfo, frames: Sequence[Frame] | None = None) -> ReadPlan:
    """Plan the reading of ``frames`` (default: the series' slices, in order).

    The stored images are listed once each, in order of first use. When they are exactly the
    series' own frames in order, ``stored`` is the series itself.
    """
    frames = tuple(series.frames if frames is None else frames)
    stored: list[Frame] = []
    position: dict[tuple[int, int], int] = {}
    sources = []
    for frame in frames:
        key = frame.stored
        if key not in position:
            position[key] = len(stored)
            # A mosaic is read as the file describes it: one image at the mosaic's corner.
            stored.append(frame if frame.tile is None else
                          replace(frame, tile=None, position=frame.header.position))
        sources.append(position[key])
    tiles = tuple(frame.tile for frame in frames)
    if len(stored) == len(series.frames) and all(
            a is b for a, b in zip(stored, series.frames, strict=True)):
        stored_series = series
    else:
        what = "Siemens mosaics, read whole before their tiles are cut" if any(tiles) \
            else "the images of several volumes, read in (volume, slice) order"
        stored_series = replace(series, frames=tuple(stored), geometry=None,
                                geometry_problem=f"stored images of {what}")
    return ReadPlan(stored_series, tuple(sources), tiles,
                    tuple(frame.rows_reversed for frame in frames))
