"""The direct backend, deferred: a Dask array whose chunks read their slices when computed.

``load_volume(..., lazy=True)`` returns a :class:`~dicomio.Volume` whose array is built here. It
is the eager read, cut into chunks of slices:

- the same read plan (:func:`dicomio.pixels.assembly.read_plan`) and the same per-file reading
  of the direct backend (:func:`dicomio.backends.direct.read_into`), run on the few slices of
  one chunk, into the dtype decided for the whole volume from the headers
  (:func:`~dicomio.backends.base.volume_dtype`);
- native, little-endian frames of files on disk are mapped into memory (``np.memmap`` at their
  offset) instead of read: the region a chunk is asked for is copied out of the mapping (the
  mapping then released), then finished by :func:`dicomio.pixels.values.finish_frame` (mask,
  sign extension, rescale) as the eager read finishes it. Dask asks a chunk for its whole
  slices (its graph no longer fuses a later ``[:, 256, :]`` into the read), so a mid-plane
  still reads every slice once, one chunk at a time;
- a chunk decoded by a codec passes the zero guard (:mod:`dicomio.pixels.zero_guard`) on its
  own slices; a chunk that fails raises, when computed, the error the eager read raises, naming
  the file.

:class:`SliceReader` is what each chunk reads from: a picklable array-like (the series' headers
and sources, the options), so the graph computes on a ``dask.distributed`` cluster. Nothing here
imports Dask until :func:`lazy_slices` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import ReadOptions, volume_dtype
from dicomio.backends.direct import chosen_decoders, mappable, read_into
from dicomio.dicom.frame import Frame
from dicomio.dicom.source import PathSource
from dicomio.errors import BackendUnavailableError, CorruptDataError, translated
from dicomio.extras import pip_install
from dicomio.pixels.assembly import read_plan
from dicomio.pixels.values import finish_frame
from dicomio.pixels.zero_guard import check_not_all_zero
from dicomio.series.info import SeriesInfo

__all__ = ["LAZY", "SliceReader", "lazy_slices", "require_dask"]

#: What the provenance's decoders say after their names when the volume is lazy.
LAZY = " (lazy)"


def require_dask() -> Any:
    """``dask.array``, or :class:`~dicomio.errors.BackendUnavailableError` (an ``ImportError``)
    naming the pip command that installs it."""
    try:
        import dask.array
    except ImportError as exc:
        raise BackendUnavailableError(
            f"lazy=True builds a Dask array and Dask is not installed ({exc}): "
            f"{pip_install('dask')}") from None
    return dask.array


def _mapped_file(frame: Frame) -> Path | None:
    """The file on disk whose bytes are ``frame``'s stored image as they are, or None."""
    header = frame.header
    source = header.source
    if source is not None and not isinstance(source, PathSource):
        return None  # an archive's member, bytes in memory, a DICOMweb instance
    if not mappable(header):
        return None
    return header.path if source is None else source.name


class SliceReader:
    """The slices of a volume, read when indexed: what each chunk of the Dask array reads.

    Parameters
    ----------
    series
        The chosen series (its headers say where every image is and how it is stored).
    frames
        The volume's slices, in order.
    options
        The read options; each chunk reads in one thread (Dask runs chunks side by side).
    """

    def __init__(self, series: SeriesInfo, frames: Sequence[Frame], options: ReadOptions
                 ) -> None:
        self.series = series
        self.frames = tuple(frames)
        self.options = replace(options, workers=1)
        plan = read_plan(series, self.frames)
        self.dtype = volume_dtype(plan.stored, options)
        self.shape = (len(self.frames), *self.frames[0].shape)
        self.ndim = len(self.shape)
        self.mapped = tuple(_mapped_file(frame) for frame in self.frames)

    def __getitem__(self, key: Any) -> NDArray[Any]:
        """The values of ``self[key]``: ``key`` indexes the slices (an int, a slice, indices),
        then rows, columns and samples."""
        key = key if isinstance(key, tuple) else (key,)
        first, rest = key[0], tuple(key[1:])
        picked = np.arange(len(self.frames))[first]
        chosen = np.atleast_1d(picked)
        region = np.broadcast_to(np.empty((), self.dtype), self.shape[1:])[rest].shape
        out = np.empty((len(chosen), *region), dtype=self.dtype)
        files = list(dict.fromkeys(self.frames[k].path for k in chosen))
        with translated(files, "reading slices of a lazy volume"):
            decoded = [i for i, k in enumerate(chosen) if self.mapped[k] is None]
            for i, k in enumerate(chosen):
                path = self.mapped[k]
                if path is not None:
                    self._map_into(self.frames[k], path, rest, out[i])
            if decoded:
                slices = self._decode([self.frames[chosen[i]] for i in decoded])
                every = (slice(None), *rest)
                out[decoded] = slices[every]
        return out[0] if np.ndim(picked) == 0 else out

    def _decode(self, frames: list[Frame]) -> NDArray[Any]:
        """Read ``frames`` as the eager read does, with the direct backend's reader."""
        plan = read_plan(self.series, frames)
        stored = np.empty(plan.stored.shape, dtype=self.dtype)
        read_into(plan.stored, self.options, stored)
        check_not_all_zero(stored, plan.stored, self.options.rescale, "direct")
        return plan.assemble(stored)

    def _map_into(self, frame: Frame, path: Path, rest: tuple[Any, ...], out: NDArray[Any]
                  ) -> None:
        """Finish the region ``rest`` of ``frame``'s stored bytes, mapped from ``path``, into
        ``out`` (what ``direct`` reads for a native frame, without reading the rest)."""
        fmt = frame.header.pixel
        offset = frame.header.pixel_data_offset
        assert fmt is not None and offset is not None
        planar = fmt.samples_per_pixel > 1 and fmt.planar_configuration == 1
        layout = (fmt.samples_per_pixel, fmt.rows, fmt.columns) if planar else fmt.frame_shape
        unsigned = fmt.stored_dtype if fmt.float_data else np.dtype(f"uint{fmt.bits_allocated}")
        try:
            mapped = np.memmap(path, dtype=unsigned, mode="r", shape=layout,
                               offset=offset + frame.index * fmt.frame_nbytes)
        except ValueError as exc:  # the file is shorter than its header says (truncated since)
            raise CorruptDataError(f"pixel data truncated: frame {frame.index} is not all in "
                                   f"the file ({exc})", path=frame.path) from None
        image = mapped.transpose(1, 2, 0) if planar else mapped
        if frame.tile is not None:
            image = image[frame.tile.region()]
        if frame.rows_reversed:
            image = image[::-1]
        values = np.array(image[rest])  # a copy: the mapping is released with ``mapped``
        del mapped, image
        finish_frame(values, fmt, out, slope=frame.slope, intercept=frame.intercept,
                     rescale=self.options.rescale)


def _chunk_sizes(frames: Sequence[Frame], chunks: int | None) -> tuple[int, ...]:
    """How many slices each chunk holds: ``chunks`` each (the last one fewer); None: one slice
    each, except the tiles of one Siemens mosaic, kept together (their image is decoded once)."""
    if chunks is not None:
        n = len(frames)
        return tuple(min(chunks, n - start) for start in range(0, n, chunks))
    sizes: list[int] = []
    previous = None
    for frame in frames:
        if frame.tile is not None and frame.stored == previous:
            sizes[-1] += 1
        else:
            sizes.append(1)
        previous = frame.stored
    return tuple(sizes)


def lazy_slices(series: SeriesInfo, frames: Sequence[Frame], options: ReadOptions,
                chunks: int | None = None) -> tuple[Any, tuple[str, ...]]:
    """A Dask array of ``frames`` (the slices of a volume, in order) and the names of the
    decoders its chunks use (each followed by :data:`LAZY`).

    Parameters
    ----------
    series
        The chosen series.
    frames
        The slices, in order (the images of several volumes, in (volume, slice) order, too).
    options
        As for the eager read.
    chunks
        Slices per chunk; None: one (a mosaic's tiles together).
    """
    array_module = require_dask()
    from dask.base import tokenize

    reader = SliceReader(series, frames, options)
    token = tokenize([str(f.path) for f in reader.frames], [f.index for f in reader.frames],
                     [f.tile for f in reader.frames], series.key, options, chunks)
    blocks = (_chunk_sizes(reader.frames, chunks), *((n,) for n in reader.shape[1:]))
    array = array_module.from_array(
        reader, chunks=blocks, name=f"dicomio-lazy-{token}", lock=False, asarray=False,
        fancy=False, meta=np.empty((0,) * reader.ndim, dtype=reader.dtype))
    decoders = chosen_decoders(read_plan(series, reader.frames).stored, options)
    return array, tuple(f"{name}{LAZY}" for name in decoders)
