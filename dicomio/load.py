"""``load_volume`` and ``load_4d``: from a folder (or files) to a volume you can trust.

Both choose the series with :func:`dicomio.series.choose.select_series`, then go through the read
stage (:mod:`dicomio.read`): the geometry policy, one read of the pixels, the regular grid.
What is theirs is deciding between one volume and several (repeated slice positions), and the
values asked for (``scaling``).
"""

from __future__ import annotations

import importlib.util
import warnings as python_warnings
from typing import Literal, get_args

import numpy as np

from dicomio.arguments import check_choice, check_count, check_flag
from dicomio.backends.base import ReadOptions
from dicomio.errors import (
    BackendUnavailableError,
    InvalidArgumentError,
    MixedImagesWarning,
    Remedy,
    RepeatedPositionsError,
    translated,
)
from dicomio.extras import pip_install
from dicomio.geometry.stack import GeometryTolerances
from dicomio.load_arguments import check_load_arguments
from dicomio.read import Irregular, placement, read_series, regularized, series_metadata
from dicomio.series.choose import select_series
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import PathInput
from dicomio.series.layout import SeriesLayout, lay_out, not_volumes_error
from dicomio.series.vendor import IMAGE_KINDS_UNTOLD, philips_precise
from dicomio.volume import Volume, Volume4D

__all__ = ["Scaling", "load_4d", "load_volume"]

#: The values ``rescale=True`` returns: the DICOM modality values (RescaleSlope and
#: RescaleIntercept, the standard's), or Philips' floating-point values (its private scale
#: slope (2005,100E) too: see :func:`dicomio.series.vendor.philips_precise`).
Scaling = Literal["modality", "philips_precise"]


def load_volume(
    path: PathInput | SeriesInfo,
    backend: str = "auto",
    *,
    series: int | str | None = None,
    rescale: bool = True,
    irregular: Irregular = "raise",
    ignore_unreadable: bool = False,
    workers: int | None = None,
    decoder: str | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
    follow_symlinks: bool = False,
    scaling: Scaling = "modality",
    lazy: bool = False,
    chunks: int | None = None,
) -> Volume:
    """Load one series as a :class:`Volume`.

    Parameters
    ----------
    path
        A folder (searched recursively), a file, a list of them, or a :class:`SeriesInfo` from
        :func:`dicomio.list_series`.
    backend
        ``"auto"`` (the fastest installed backend able to read the series), ``"direct"``,
        ``"pydicom"``, ``"sitk"`` or ``"vtk"``. A named backend never falls back to another.
    series
        Which series, when ``path`` holds several: an index into :func:`dicomio.list_series`,
        a SeriesInstanceUID, or a ``uid#stack`` key.
    rescale
        True: modality values (HU for CT) with the contract's dtype rules. False: stored values,
        high bits masked and sign-extended.
    irregular
        ``"raise"`` (default): missing slices, irregular spacing, gantry tilt and missing
        geometry raise :class:`GeometryError`. ``"accept"``: load anyway, record the issues in
        ``provenance.warnings`` and each slice's true position in ``slice_positions`` (the
        affine steps by the mean slice step, sheared for gantry tilt). ``"resample"``: resample
        tilted or unevenly spaced slices onto a regular orthogonal grid, as dcm2niix does
        (:mod:`dicomio.geometry.resample` states the interpolation).
    ignore_unreadable
        Load even if some DICOM files under ``path`` could not be read (they are listed in the
        warnings); by default that raises :class:`UnreadableFilesError`.
    workers
        Threads decoding (direct backend); default: the usable cores. 1 also keeps the header
        scan in the calling thread (no read-ahead helper). With ``lazy``, it applies to the
        header scan only: each chunk reads in one thread, and Dask's scheduler runs chunks
        side by side.
    decoder
        Force a decoder: ``"imagecodecs"``, ``"pylibjpeg"``, ``"gdcm"``, ...
    tolerances
        Thresholds of the geometry checks.
    follow_symlinks
        Follow symbolic links leading out of the given folders (by default they are skipped,
        as :func:`dicomio.discover` says).
    scaling
        With ``rescale=True``: ``"modality"`` (default), the DICOM modality values
        (RescaleSlope × stored + RescaleIntercept), as the standard defines them;
        ``"philips_precise"``, Philips' floating-point values (RS × stored + RI) / (RS × SS),
        SS its private MRScaleSlope (2005,100E), which dcm2niix writes by default (Philips
        phase images then come in radians). Images without SS keep their modality values;
        ``provenance.warnings`` says which scaling was used.
    lazy
        Read no pixel yet: ``array`` is a Dask array (Dask: the ``dask`` extra) of the
        same shape, dtype and values, chunked by slices, each chunk read by the direct backend
        when computed (native data on disk mapped from the files, the rest decoded chunk by
        chunk). Headers, geometry, affine and metadata are those of the eager load; the
        provenance's decoders end in ``" (lazy)"``. Needs ``backend`` ``"auto"`` or
        ``"direct"``; a series that ``irregular="resample"`` would resample is refused. See
        docs/performance.md, "Big series: lazy loading".
    chunks
        With ``lazy``: slices per chunk; None: one slice per chunk (the tiles of a Siemens
        mosaic together).

    Returns
    -------
    Volume
        ``array`` of shape (slice, row, column[, sample]) and ``affine`` mapping ``(k, j, i)``
        to LPS mm.

    Raises
    ------
    InvalidArgumentError
        An argument has a value this function does not take (an unknown ``irregular``,
        ``backend`` or ``decoder``, ``workers`` below 1, a flag that is not a bool), before
        any file is read.
    RepeatedPositionsError
        The series holds several images per position: its message says whether it is a 4-D
        series (then :func:`load_4d` loads it) and how its volumes would be ordered.
    DicomIOError
        A subclass naming the file and the problem: see :mod:`dicomio.errors`. Whatever the
        input, nothing else is raised (``OSError`` aside: a file that cannot be read): a
        failure dicomio did not foresee is an :class:`~dicomio.errors.InternalError` naming
        the input and carrying the original exception's type and message.
    """
    check_load_arguments(backend, series, rescale, irregular, ignore_unreadable, workers,
                         decoder, tolerances, follow_symlinks)
    _check_scaling(scaling, rescale)
    _check_lazy(lazy, chunks, backend)
    with translated(_named(path), "loading a volume"):
        chosen, warnings = select_series(path, series, ignore_unreadable=ignore_unreadable,
                                         tolerances=tolerances, workers=workers,
                                         follow_symlinks=follow_symlinks)
        chosen = _scaled(chosen, scaling, rescale, warnings)
        layout = lay_out(chosen, tolerances)
        if layout.kind in ("4d", "repeated"):
            raise _repeated_positions_error(chosen, layout)
        placed = placement(chosen, layout, irregular, warnings)
        read = read_series(chosen, chosen.frames, backend, ReadOptions(rescale, workers, decoder),
                           lazy=lazy, chunks=chunks)
        array, affine, positions = regularized(read.array, placed, chosen, chosen.frames,
                                               irregular, rescale, warnings)
        provenance = read.provenance(chosen, chosen.frames, warnings,
                                     resampled=array is not read.array)
        return Volume(array, affine, _metadata(chosen, scaling), provenance, positions)


def load_4d(
    path: PathInput | SeriesInfo,
    backend: str = "auto",
    *,
    series: int | str | None = None,
    rescale: bool = True,
    irregular: Irregular = "raise",
    ignore_unreadable: bool = False,
    workers: int | None = None,
    decoder: str | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
    follow_symlinks: bool = False,
    scaling: Scaling = "modality",
    lazy: bool = False,
    chunks: int | None = None,
) -> Volume4D:
    """Load a series holding several volumes of the same slices as a :class:`Volume4D`.

    The images at each slice position are split into volumes and ordered by the first key that
    every image has and that tells them apart: TemporalPositionIndex/Identifier,
    DimensionIndexValues, acquisition time, InstanceNumber, then the stored order (see
    :mod:`dicomio.geometry.fourd`; the key used is ``Volume4D.order_rule``). A series without
    repeated positions loads as a single volume.

    Parameters are those of :func:`load_volume`; ``irregular`` applies to the slices of each
    volume (which all share one geometry); with ``lazy=True`` the array is a Dask array whose
    chunks hold one slice of one volume each (``chunks``: that many images, in (volume, slice)
    order). A series whose volumes are images of different kinds that nothing split into stacks
    (different ImageType; a GE B0 map whose field map and magnitude nothing tells apart) loads
    with a :class:`~dicomio.MixedImagesWarning`.

    Returns
    -------
    Volume4D
        ``array`` of shape (volume, slice, row, column[, sample]) and the shared ``affine``;
        ``vol4d[t]`` is volume ``t`` as a :class:`Volume`.

    Raises
    ------
    InvalidArgumentError
        As for :func:`load_volume`.
    RepeatedPositionsError
        The positions do not all hold the same number of images (incomplete volumes or mixed
        acquisitions), or the volumes do not share their slice positions.
    DicomIOError
        As for :func:`load_volume`.
    """
    check_load_arguments(backend, series, rescale, irregular, ignore_unreadable, workers,
                         decoder, tolerances, follow_symlinks)
    _check_scaling(scaling, rescale)
    _check_lazy(lazy, chunks, backend)
    with translated(_named(path), "loading a 4-D volume"):
        chosen, warnings = select_series(path, series, ignore_unreadable=ignore_unreadable,
                                         tolerances=tolerances, workers=workers,
                                         follow_symlinks=follow_symlinks)
        chosen = _scaled(chosen, scaling, rescale, warnings)
        layout = lay_out(chosen, tolerances)
        if layout.kind == "repeated":
            raise not_volumes_error(chosen, layout)
        if layout.mixed_types:
            warnings.append(layout.mixed_types)
        for mixed in _mixed_images(chosen, layout):
            python_warnings.warn(f"series {chosen.key}: {mixed}", MixedImagesWarning,
                                 stacklevel=2)
        placed = placement(chosen, layout, irregular, warnings)
        frames = layout.frames
        read = read_series(chosen, frames, backend, ReadOptions(rescale, workers, decoder),
                           lazy=lazy, chunks=chunks)
        n_volumes, n_slices = len(layout.volumes), len(layout.volumes[0])
        stacked = read.array.reshape(n_volumes, n_slices, *read.array.shape[1:])
        views = list(stacked)
        results = [regularized(view, placed, chosen, volume, irregular, rescale,
                               warnings if t == 0 else [])
                   for t, (view, volume) in enumerate(zip(views, layout.volumes, strict=True))]
        unchanged = all(r[0] is view for r, view in zip(results, views, strict=True))
        array = stacked if unchanged else np.stack([r[0] for r in results])
        metadata = _metadata(chosen, scaling)
        metadata["NumberOfVolumes"] = n_volumes
        rule, keys = ((layout.rule or "", layout.keys) if layout.kind == "4d"
                      else ("single volume", (None,)))
        provenance = read.provenance(chosen, frames, warnings, resampled=not unchanged,
                                     volumes=n_volumes)
        return Volume4D(array, results[0][1], metadata, provenance, rule, keys, results[0][2])


def _check_scaling(scaling: Scaling, rescale: bool) -> None:
    """Refuse a ``scaling`` that does not exist, or that ``rescale=False`` contradicts
    (:class:`~dicomio.errors.InvalidArgumentError`, a ``ValueError``)."""
    check_choice("scaling", scaling, get_args(Scaling))
    if scaling != "modality" and not rescale:
        raise InvalidArgumentError(f"scaling={scaling!r} chooses rescaled values: it needs "
                                   f"rescale=True (rescale=False returns the stored values)")


#: The backends that read lazily: dicomio's own reader, chunk by chunk.
LAZY_BACKENDS = ("auto", "direct")


def _check_lazy(lazy: bool, chunks: int | None, backend: str) -> None:
    """Refuse ``lazy``/``chunks`` values this module does not take, a backend other than
    dicomio's own reader with ``lazy`` (:class:`~dicomio.errors.InvalidArgumentError`), and
    ``lazy`` without Dask installed (:class:`~dicomio.errors.BackendUnavailableError`), before
    any file is read."""
    check_flag("lazy", lazy)
    check_count("chunks", chunks, none="one slice per chunk")
    if not lazy:
        if chunks is not None:
            raise InvalidArgumentError("chunks cuts a lazy volume: it needs lazy=True")
        return
    if backend not in LAZY_BACKENDS:
        raise InvalidArgumentError(
            f"lazy=True reads with dicomio's own reader, chunk by chunk: backend must be "
            f"'auto' or 'direct', not {backend!r} (or pass lazy=False to read with {backend!r})")
    if importlib.util.find_spec("dask") is None:
        raise BackendUnavailableError(f"lazy=True builds a Dask array and Dask is not "
                                      f"installed: {pip_install('dask')}")


def _scaled(series: SeriesInfo, scaling: Scaling, rescale: bool, warnings: list[str]
            ) -> SeriesInfo:
    """The series whose frames' rescale gives the values ``scaling`` asks for."""
    if scaling == "modality":
        return series
    scaled, notes = philips_precise(series)
    warnings += notes
    return scaled


def _metadata(series: SeriesInfo, scaling: Scaling) -> dict[str, object]:
    metadata = series_metadata(series)
    metadata["Scaling"] = scaling
    return metadata


def _mixed_images(series: SeriesInfo, layout: SeriesLayout) -> list[str]:
    """What makes a 4-D series' volumes images of different kinds (for a loud warning):
    different ImageType, or a vendor convention saying so (IMAGE_KINDS_UNTOLD)."""
    found = [layout.mixed_types] if layout.mixed_types else []
    return found + [note.message for note in series.notes if note.code == IMAGE_KINDS_UNTOLD]


def _named(path: PathInput | SeriesInfo) -> PathInput:
    """The files or folders an error of a load names: those given, or a series' files."""
    return list(path.files) if isinstance(path, SeriesInfo) else path


def _repeated_positions_error(series: SeriesInfo, layout: SeriesLayout
                              ) -> RepeatedPositionsError:
    """Explain a stack with repeated positions: a 4-D series, or why it is not one."""
    assert series.geometry is not None
    if layout.kind == "4d":
        message = (f"series {series.key} is 4-D, not a single volume: {layout.n_volumes} "
                   f"volumes of {len(layout.volumes[0])} slices, ordered by {layout.rule} "
                   f"({series.n_slices} images)"
                   + "".join(f"; note: {mixed}" for mixed in _mixed_images(series, layout))
                   + ".")
        remedies: tuple[Remedy, ...] = (Remedy(
            "load_4d", None, "read its volumes (one array: volume, slice, row, column)",
            call=True),)
    else:
        repeated = next(i for i in series.geometry.errors if i.code == "DUPLICATE_POSITION")
        message = (f"series {series.key} is not a single volume: {repeated.message}; and not "
                   f"a 4-D series either: {layout.problem}")
        remedies = ()
    return RepeatedPositionsError(message, path=series.frames[0].path,
                                  issues=series.geometry.issues, remedies=remedies)
