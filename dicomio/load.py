"""``load_volume`` and ``load_4d``: from a folder (or files) to a volume you can trust.

Both choose the series with :func:`dicomio.series.choose.select_series`, then go through the read
stage (:mod:`dicomio.read`): the geometry policy, one read of the pixels, the regular grid.
What is theirs is deciding between one volume and several (repeated slice positions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dicomio.backends.base import ReadOptions
from dicomio.dicom.frame import Frame
from dicomio.errors import RepeatedPositionsError
from dicomio.geometry.fourd import mixed_image_types, split_volumes
from dicomio.geometry.stack import GeometryTolerances, StackGeometry, analyse_stack
from dicomio.read import Irregular, placement, read_series, regularized, series_metadata
from dicomio.series.choose import select_series
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import PathInput
from dicomio.volume import Volume, Volume4D

__all__ = ["load_4d", "load_volume"]


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
        scan in the calling thread (no read-ahead helper).
    decoder
        Force a decoder: ``"imagecodecs"``, ``"pylibjpeg"``, ``"gdcm"``, ...
    tolerances
        Thresholds of the geometry checks.

    Returns
    -------
    Volume
        ``array`` of shape (slice, row, column[, sample]) and ``affine`` mapping ``(k, j, i)``
        to LPS mm.

    Raises
    ------
    RepeatedPositionsError
        The series holds several images per position: its message says whether it is a 4-D
        series (then :func:`load_4d` loads it) and how its volumes would be ordered.
    DicomIOError
        A subclass naming the file and the problem: see :mod:`dicomio.errors`.
    """
    chosen, warnings = select_series(path, series, ignore_unreadable=ignore_unreadable,
                                     tolerances=tolerances, workers=workers)
    if chosen.geometry is not None and _repeated(chosen.geometry):
        raise _repeated_positions_error(chosen, tolerances)
    placed = placement(chosen, chosen.geometry, irregular, warnings)
    read = read_series(chosen, chosen.frames, backend, ReadOptions(rescale, workers, decoder))
    array, affine, positions = regularized(read.array, placed, chosen, chosen.frames,
                                           irregular, rescale, warnings)
    volume = Volume(array, affine, series_metadata(chosen),
                    read.provenance(chosen, chosen.frames, warnings), positions)
    if read.reported_geometry is not None:
        volume.metadata["reported_geometry"] = read.reported_geometry  # type: ignore[index]
    return volume


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
) -> Volume4D:
    """Load a series holding several volumes of the same slices as a :class:`Volume4D`.

    The images at each slice position are split into volumes and ordered by the first key that
    every image has and that tells them apart: TemporalPositionIndex/Identifier,
    DimensionIndexValues, acquisition time, InstanceNumber, then the stored order (see
    :mod:`dicomio.geometry.fourd`; the key used is ``Volume4D.order_rule``). A series without
    repeated positions loads as a single volume.

    Parameters are those of :func:`load_volume`; ``irregular`` applies to the slices of each
    volume (which all share one geometry).

    Returns
    -------
    Volume4D
        ``array`` of shape (volume, slice, row, column[, sample]) and the shared ``affine``;
        ``vol4d[t]`` is volume ``t`` as a :class:`Volume`.

    Raises
    ------
    RepeatedPositionsError
        The positions do not all hold the same number of images (incomplete volumes or mixed
        acquisitions), or the volumes do not share their slice positions.
    DicomIOError
        As for :func:`load_volume`.
    """
    chosen, warnings = select_series(path, series, ignore_unreadable=ignore_unreadable,
                                     tolerances=tolerances, workers=workers)
    layout = split_volumes(chosen, tolerances)
    if layout.problem is not None:
        raise RepeatedPositionsError(
            f"series {chosen.key} cannot be split into volumes: {layout.problem}",
            path=chosen.frames[0].path, issues=chosen.issues)
    mixed = mixed_image_types(layout)
    if mixed:
        warnings.append(mixed)
    geometry = None if chosen.geometry is None else \
        _shared_geometry(chosen, layout.volumes, tolerances)
    placed = placement(chosen, geometry, irregular, warnings)
    frames = [frame for volume in layout.volumes for frame in volume]
    read = read_series(chosen, frames, backend, ReadOptions(rescale, workers, decoder))
    n_volumes, n_slices = layout.n_volumes, len(layout.volumes[0])
    stacked = read.array.reshape(n_volumes, n_slices, *read.array.shape[1:])
    views = list(stacked)
    results = [regularized(view, placed, chosen, volume, irregular, rescale,
                           warnings if t == 0 else [])
               for t, (view, volume) in enumerate(zip(views, layout.volumes, strict=True))]
    unchanged = all(r[0] is view for r, view in zip(results, views, strict=True))
    array = stacked if unchanged else np.stack([r[0] for r in results])
    metadata = series_metadata(chosen)
    metadata["NumberOfVolumes"] = n_volumes
    return Volume4D(array, results[0][1], metadata, read.provenance(chosen, frames, warnings),
                    layout.rule, layout.keys, results[0][2])


def _repeated(geometry: StackGeometry) -> bool:
    return any(i.code == "DUPLICATE_POSITION" for i in geometry.errors)


def _repeated_positions_error(series: SeriesInfo,
                              tolerances: GeometryTolerances) -> RepeatedPositionsError:
    """Explain a stack with repeated positions: a 4-D series, or why it is not one."""
    assert series.geometry is not None
    repeated = next(i for i in series.geometry.errors if i.code == "DUPLICATE_POSITION")
    layout = split_volumes(series, tolerances)
    if layout.problem is None:
        mixed = mixed_image_types(layout)
        message = (f"series {series.key} is 4-D, not a single volume: {layout.describe()} "
                   f"({series.n_slices} images). Load it with dicomio.load_4d() (array "
                   f"(volume, slice, row, column); load_4d(...)[t] is volume t)"
                   + (f"; note: {mixed}" if mixed else ""))
    else:
        message = (f"series {series.key} is not a single volume: {repeated.message}; and not "
                   f"a 4-D series either: {layout.problem}")
    return RepeatedPositionsError(message, path=series.frames[0].path,
                                  issues=series.geometry.issues)


def _shared_geometry(series: SeriesInfo, volumes: Sequence[Sequence[Frame]],
                     tolerances: GeometryTolerances) -> StackGeometry:
    """The geometry of the first volume, after checking every volume has the same slices."""
    first = volumes[0]
    reference = np.asarray([f.position for f in first], dtype=np.float64)
    for t, volume in enumerate(volumes[1:], start=1):
        positions = np.asarray([f.position for f in volume], dtype=np.float64)
        distance = float(np.max(np.linalg.norm(positions - reference, axis=1)))
        if distance > max(tolerances.duplicate, 1e-3):
            raise RepeatedPositionsError(
                f"series {series.key}: volume {t} does not have the slice positions of volume "
                f"0 (up to {distance:.3g} mm apart): not one 4-D series",
                path=volume[0].path, issues=series.issues)
    head = first[0]
    assert head.orientation is not None and head.pixel_spacing is not None
    return analyse_stack(reference, head.orientation, head.pixel_spacing,
                         slice_thickness=head.slice_thickness, tolerances=tolerances)
