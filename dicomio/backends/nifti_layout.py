"""Where each stored image of a series lies in a NIfTI written from it (dcm2niix's).

The mapping uses the NIfTI's own affine and each file's ImagePositionPatient and
ImageOrientationPatient, with plain arithmetic, so what dcm2niix says about the geometry stays
its own (dicomio's geometry functions are not used):

- the NIfTI axes parallel to the row cosine ``IOP[0:3]`` and the column cosine ``IOP[3:6]``
  are the contract's column and row axes (a sign saying whether they run the same way); the
  third is the slice axis;
- an image's first pixel (a mosaic's first tile's corner: the mosaic's position moved by half
  the size difference, as the DICOM mosaic convention says) mapped through the inverse affine
  must land on the NIfTI's first pixel of a slice; its slice coordinate, ranked, says which
  NIfTI slice holds it;
- images at one position take the NIfTI's volumes in the series' order.

:func:`lay_out_nifti` returns a :class:`NiftiLayout` that cuts each stored image out of the
NIfTI data, and the geometry the NIfTI states, in the contract's axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import ReportedGeometry
from dicomio.dicom.frame import Frame
from dicomio.errors import BackendReadError
from dicomio.series.info import SeriesInfo

__all__ = ["RAS_TO_LPS", "NiftiLayout", "lay_out_nifti"]

#: NIfTI's RAS to DICOM's LPS: negate x and y.
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])

# Largest 1 - |cos| between a NIfTI axis and the file's cosine it stands for.
_PARALLEL = 1e-3
# Farther than this (in voxels) from the NIfTI's grid is worth a warning.
_ON_GRID = 0.01
# Images closer than this (mm) along the slice axis are at one position (a 4-D series).
_SAME_POSITION_MM = 0.05


@dataclass(frozen=True)
class NiftiLayout:
    """How the stored images of a series lie in a NIfTI array.

    Attributes
    ----------
    axes
        The NIfTI axes holding the (slice, row, column) of the contract.
    signs
        +1 where the NIfTI axis runs as the contract's does, -1 where it is reversed (rows, in
        NIfTI's bottom-up convention).
    places
        For each stored image: its NIfTI slice (a mosaic's first tile's) and volume.
    tile_step
        For mosaics, the NIfTI slices from one tile to the next (+1 or -1); 0 otherwise.
    mosaic_shape
        The (rows, columns) of a stored mosaic image, else None.
    four_d
        The NIfTI has a volume axis (x, y, z, t).
    reported
        The geometry the NIfTI states, in the contract's axes and the series' slice order.
    notes
        What differs from the files and is worth a warning.
    """

    axes: tuple[int, int, int]
    signs: tuple[int, int, int]
    places: tuple[tuple[int, int], ...]
    tile_step: int
    mosaic_shape: tuple[int, int] | None
    four_d: bool
    reported: ReportedGeometry
    notes: tuple[str, ...]

    def image(self, data: NDArray[Any], k: int) -> NDArray[Any]:
        """Stored image ``k`` (rows, columns[, samples]) cut out of the NIfTI ``data``
        (x, y, z[, t][, sample])."""
        z, t = self.places[k]
        volume = data[:, :, :, t] if self.four_d else data
        if self.mosaic_shape is None:
            return self._plane(volume, z)
        first = self._plane(volume, z)
        rows, columns = first.shape[:2]
        mosaic = np.zeros((*self.mosaic_shape, *first.shape[2:]), dtype=data.dtype)
        per_row = self.mosaic_shape[1] // columns
        for n in range(volume.shape[self.axes[0]]):
            top, left = (n // per_row) * rows, (n % per_row) * columns
            mosaic[top:top + rows, left:left + columns] = self._plane(
                volume, z + n * self.tile_step)
        return mosaic

    def with_rows_reversed(self, rows: int, note: str) -> NiftiLayout:
        """The layout of a NIfTI whose images had their rows reversed by the converter while
        its affine kept the files' geometry: the images are cut out in the files' row order,
        and the reported geometry is what the converter claims for them (rows the other way
        round)."""
        signs = (self.signs[0], -self.signs[1], self.signs[2])
        return replace(self, signs=signs, reported=self.reported.with_rows_reversed(rows),
                       notes=(*self.notes, note))

    def _plane(self, volume: NDArray[Any], z: int) -> NDArray[Any]:
        slice_axis, row_axis, _ = self.axes
        index: list[Any] = [slice(None)] * volume.ndim
        index[slice_axis] = z  # basic indexing: a view, even of a memory-mapped file
        plane = volume[tuple(index)]
        in_plane = [a for a in range(3) if a != slice_axis]
        if in_plane[0] != row_axis:
            plane = np.swapaxes(plane, 0, 1)
        if self.signs[1] < 0:
            plane = plane[::-1]
        if self.signs[2] < 0:
            plane = plane[:, ::-1]
        return plane


def _unit(vector: Sequence[float]) -> NDArray[np.float64]:
    array = np.asarray(vector, dtype=np.float64)
    return array / np.linalg.norm(array)


def _axis_along(directions: NDArray[np.float64], cosine: NDArray[np.float64], what: str,
                path: Any) -> tuple[int, int]:
    """The NIfTI axis parallel to ``cosine``, and its sign."""
    dots = directions.T @ cosine
    axis = int(np.argmax(np.abs(dots)))
    if 1 - abs(dots[axis]) > _PARALLEL:
        raise BackendReadError(
            f"no axis of dcm2niix's image runs along the files' {what} {np.round(cosine, 6)} "
            f"(closest: {np.round(directions[:, axis], 6)}): it rotated or resliced the "
            f"images", path=path)
    return axis, 1 if dots[axis] > 0 else -1


def _is_mosaic(frame: Frame) -> bool:
    return any(value.upper() == "MOSAIC" for value in frame.header.image_type)


def lay_out_nifti(affine: NDArray[np.float64], shape: Sequence[int], series: SeriesInfo
                  ) -> NiftiLayout:
    """Find each stored image of ``series`` in a NIfTI of LPS ``affine`` and spatial
    ``shape`` (x, y, z[, t]).

    Raises
    ------
    BackendReadError
        The NIfTI's axes are not along the files' orientation, its images are not the files'
        size, an image is not on its grid, or it holds another number of images than the
        series.
    """
    head = series.frames[0]
    path = head.path
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) > 4:
        raise BackendReadError(f"dcm2niix wrote a {len(shape)}-D image; dicomio reads 3-D "
                               f"and 4-D ones", path=path)
    assert head.orientation is not None and head.pixel_spacing is not None
    along_row, down_column = _unit(head.orientation[:3]), _unit(head.orientation[3:6])
    steps = np.linalg.norm(affine[:3, :3], axis=0)
    directions = affine[:3, :3] / steps
    column_axis, column_sign = _axis_along(directions, along_row, "row cosine", path)
    row_axis, row_sign = _axis_along(directions, down_column, "column cosine", path)
    if row_axis == column_axis:
        raise BackendReadError("dcm2niix's image has one axis for both cosines", path=path)
    slice_axis = 3 - row_axis - column_axis
    rows, columns, depth = shape[row_axis], shape[column_axis], shape[slice_axis]
    volumes = shape[3] if len(shape) == 4 else 1
    first_row = 0 if row_sign > 0 else rows - 1
    first_column = 0 if column_sign > 0 else columns - 1
    inverse = np.linalg.inv(affine)
    mosaic = _is_mosaic(head)
    notes: list[str] = []
    coordinates = []
    for frame in series.frames:
        fmt = frame.header.pixel
        assert fmt is not None and frame.position is not None
        assert frame.pixel_spacing is not None
        anchor = np.asarray(frame.position, dtype=np.float64)
        if mosaic:  # the first tile's corner, half the size difference further in
            anchor = anchor + ((fmt.columns - columns) / 2 * frame.pixel_spacing[1] * along_row
                               + (fmt.rows - rows) / 2 * frame.pixel_spacing[0] * down_column)
        elif (fmt.rows, fmt.columns) != (rows, columns):
            raise BackendReadError(
                f"dcm2niix's images are {rows} x {columns} pixels, the file's {fmt.rows} x "
                f"{fmt.columns}", path=frame.path)
        index = inverse[:3, :3] @ anchor + inverse[:3, 3]
        in_plane = max(abs(index[row_axis] - first_row), abs(index[column_axis] - first_column))
        if in_plane > 0.5:
            raise BackendReadError(
                f"dcm2niix puts the first pixel of this file at voxel "
                f"{np.round(index, 3).tolist()}, not at a corner of its slices: its in-plane "
                f"geometry is not the file's", path=frame.path)
        if in_plane > _ON_GRID:
            notes.append(f"dcm2niix's grid is {in_plane * min(steps):.3g} mm or more in-plane "
                         f"from {frame.path.name}'s position")
        coordinates.append(float(index[slice_axis]))
    if mosaic:
        places, tile_step = _mosaic_places(coordinates, depth, volumes, rows, columns, series,
                                           float(steps[slice_axis]), notes)
    else:
        places, tile_step = _slice_places(coordinates, depth, volumes, series,
                                          float(steps[slice_axis]), notes), 0
    order = list(dict.fromkeys(z for z, _ in places))
    slice_sign = tile_step or (1 if len(order) < 2 or order[-1] >= order[0] else -1)
    if len(order) > 2 and any((b - a) != slice_sign for a, b in pairwise(order)):
        notes.append(f"dicomio's slice order of the files is not dcm2niix's: they are its "
                     f"slices {order}")
    corner = np.zeros(3)
    corner[row_axis], corner[column_axis] = first_row, first_column
    origins: list[tuple[float, float, float]] = []
    for z in order:
        corner[slice_axis] = z
        x, y, w = (float(v) for v in affine[:3, :3] @ corner + affine[:3, 3])
        origins.append((x, y, w))
    axes = (slice_axis, row_axis, column_axis)
    signs = (slice_sign, row_sign, column_sign)
    reported = ReportedGeometry(
        origin=origins[0],
        spacing=(float(steps[slice_axis]), float(steps[row_axis]), float(steps[column_axis])),
        direction=tuple((float(a), float(b), float(c)) for a, b, c in np.column_stack(
            [sign * directions[:, axis] for axis, sign in zip(axes, signs, strict=True)])),
        positions=tuple(origins) if not mosaic else (),
        has_direction=True,
        source="dcm2niix: NIfTI sform (RAS → LPS), axes matched to the files' orientation",
    )
    fmt = head.header.pixel
    assert fmt is not None
    return NiftiLayout(axes, signs, tuple(places), tile_step,
                       (fmt.rows, fmt.columns) if mosaic else None, len(shape) == 4, reported,
                       tuple(dict.fromkeys(notes)))


def _clusters(coordinates: Sequence[float], step_mm: float) -> list[list[int]]:
    """The images (indices) at each position along the slice axis (``coordinates`` in slices
    of ``step_mm``), in ascending order."""
    order = sorted(range(len(coordinates)), key=lambda k: coordinates[k])
    same = _SAME_POSITION_MM / step_mm if step_mm > 0 else 0.0
    groups: list[list[int]] = []
    for k in order:
        if groups and coordinates[k] - coordinates[groups[-1][-1]] <= same:
            groups[-1].append(k)
        else:
            groups.append([k])
    return [sorted(group) for group in groups]  # each position's images in the series' order


def _dcm2niix_order(group: Sequence[int], series: SeriesInfo) -> list[int]:
    """The images of one position in the order dcm2niix gives them volumes: by SeriesNumber
    and InstanceNumber (then frame number), as its sort of the files does; in the series'
    order when an image has no InstanceNumber."""
    frames = series.frames
    if any(frames[k].header.instance_number is None for k in group):
        return list(group)
    return sorted(group, key=lambda k: (frames[k].header.series_number or 0,
                                        frames[k].header.instance_number or 0,
                                        frames[k].index, k))


_VOLUME_NOTE = "dcm2niix orders the images of each position by InstanceNumber"


def _volume_note(group: Sequence[int], ordered: Sequence[int], series: SeriesInfo) -> str:
    names = [f"{series.frames[k].path.name}#{series.frames[k].index}" for k in group]
    volumes = [ordered.index(k) for k in group]
    return (f"{_VOLUME_NOTE}, not as dicomio orders the volumes (at one position dicomio's "
            f"volumes {names} are dcm2niix's volumes {volumes}): they were matched by "
            f"InstanceNumber and are returned in dicomio's order")


def _slice_places(coordinates: Sequence[float], depth: int, volumes: int, series: SeriesInfo,
                  step_mm: float, notes: list[str]) -> list[tuple[int, int]]:
    """The NIfTI slice and volume of each image, by rank along the slice axis."""
    groups = _clusters(coordinates, step_mm)
    first = series.frames[0].path
    if len(groups) != depth:
        raise BackendReadError(
            f"dcm2niix wrote {depth} slice(s) where the {len(series.frames)} image(s) of series "
            f"{series.key} lie at {len(groups)} position(s): it dropped, merged or resampled "
            f"slices", path=first)
    places: list[tuple[int, int]] = [(0, 0)] * len(coordinates)
    worst, where = 0.0, first
    for z, group in enumerate(groups):
        if len(group) != volumes:
            raise BackendReadError(
                f"dcm2niix wrote {volumes} volume(s), but {len(group)} image(s) of series "
                f"{series.key} lie at its slice {z}", path=series.frames[group[0]].path)
        ordered = _dcm2niix_order(group, series)
        if ordered != group and not any(n.startswith(_VOLUME_NOTE) for n in notes):
            notes.append(_volume_note(group, ordered, series))
        for k in group:
            t = ordered.index(k)
            places[k] = (z, t)
            off = abs(coordinates[k] - z)
            if off > worst:
                worst, where = off, series.frames[k].path
    if worst > _ON_GRID:
        notes.append(f"dcm2niix's slice grid lies up to {worst * step_mm:.3g} mm from the "
                     f"files' positions (at {where.name}): its slice spacing or origin differs "
                     f"from theirs")
    return places


def _mosaic_places(coordinates: Sequence[float], depth: int, volumes: int, rows: int,
                   columns: int, series: SeriesInfo, step_mm: float, notes: list[str]
                   ) -> tuple[list[tuple[int, int]], int]:
    """The NIfTI slice of each mosaic's first tile and its volume; the step between tiles."""
    first = series.frames[0].path
    fmt = series.frames[0].header.pixel
    assert fmt is not None
    per_row, per_column = fmt.columns // columns, fmt.rows // rows
    if per_row * per_column < depth:
        raise BackendReadError(
            f"dcm2niix wrote {depth} slices of {rows} x {columns}, more than a {fmt.rows} x "
            f"{fmt.columns} mosaic holds", path=first)
    groups = _clusters(coordinates, step_mm)
    if len(groups) != 1 or len(groups[0]) != volumes:
        raise BackendReadError(
            f"dcm2niix wrote {volumes} volume(s) from {len(series.frames)} mosaic(s) whose "
            f"first tiles lie at {len(groups)} position(s)", path=first)
    z = float(np.mean(coordinates))
    if abs(z) <= 0.5:
        start, step = 0, 1
    elif abs(z - (depth - 1)) <= 0.5:
        start, step = depth - 1, -1
    else:
        raise BackendReadError(
            f"dcm2niix puts the mosaic's first tile at its slice {z:.3g}, neither its first "
            f"nor its last: it did not keep the tiles in order", path=first)
    ordered = _dcm2niix_order(groups[0], series)
    if ordered != groups[0]:
        notes.append(_volume_note(groups[0], ordered, series))
    places = [(0, 0)] * len(coordinates)
    for k in groups[0]:
        places[k] = (start, ordered.index(k))
    return places, step
