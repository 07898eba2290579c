"""Where the files put their slices, read with pydicom (and nibabel's Siemens mosaic reader),
never with dicomio: the truth that real-data comparisons hold dicomio's affine and the
reference converters' grids to.

- :func:`file_stack` reads every image (every frame of a multi-frame file, every tile of a
  Siemens mosaic) of some files and returns their distinct slice positions in ascending order
  along ``row cosine × column cosine`` (the cross product written out here), with the row and
  column cosines and PixelSpacing: the stack the contract's affine must describe.
- :func:`grid_distance` is how far apart two affines put the voxel centres of a grid.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

# Slices closer than this along the normal are one slice position (the volumes of a 4-D
# series repeat their positions).
SAME_SLICE_MM = 1e-3
# Images of one stack share their orientation to this much (direction cosines).
SAME_ORIENTATION = 1e-4


def cross(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """``a × b``, written out."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                     a[0] * b[1] - a[1] * b[0]], dtype=np.float64)


def unit_normal(orientation: Sequence[float]) -> np.ndarray:
    """The unit ``row cosine × column cosine`` of an ImageOrientationPatient value."""
    normal = cross(orientation[:3], orientation[3:6])
    return normal / float(np.sqrt(normal @ normal))


@dataclass(frozen=True)
class FileStack:
    """The slices of some files, as their headers place them.

    Attributes
    ----------
    row, column
        ImageOrientationPatient's row cosine (IOP[0:3]) and column cosine (IOP[3:6]).
    pixel_spacing
        PixelSpacing: (between rows, between columns), mm.
    positions
        The distinct slice positions (ImagePositionPatient), ascending along
        :attr:`normal`, shape (slices, 3).
    """

    row: np.ndarray
    column: np.ndarray
    pixel_spacing: tuple[float, float]
    positions: np.ndarray

    @property
    def normal(self) -> np.ndarray:
        """Unit ``row × column``: the direction the contract orders slices along."""
        return unit_normal([*self.row, *self.column])

    @property
    def first(self) -> np.ndarray:
        """The position of the first slice: the contract's origin."""
        return self.positions[0]

    @property
    def mean_step(self) -> np.ndarray:
        """``(last position - first position) / (slices - 1)`` (zero for a single slice: a
        grid of one slice has no step)."""
        if len(self.positions) < 2:
            return np.zeros(3)
        return (self.positions[-1] - self.positions[0]) / (len(self.positions) - 1)

    def affine(self, step: np.ndarray | None = None) -> np.ndarray:
        """The contract's affine of this stack: column 0 the slice step (default: the mean
        step), 1 the column cosine × PixelSpacing[0], 2 the row cosine × PixelSpacing[1],
        3 the first slice's position."""
        affine = np.eye(4)
        affine[:3, 0] = self.mean_step if step is None else step
        affine[:3, 1] = self.column * self.pixel_spacing[0]
        affine[:3, 2] = self.row * self.pixel_spacing[1]
        affine[:3, 3] = self.first
        return affine


@dataclass(frozen=True)
class _Image:
    position: np.ndarray
    orientation: np.ndarray
    pixel_spacing: tuple[float, float]


def _floats(values: Iterable[Any]) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)


def _frame_images(dataset: Any) -> list[_Image]:
    """One image per frame of an enhanced multi-frame data set (functional groups)."""
    shared = dataset.get("SharedFunctionalGroupsSequence", [None])[0]

    def group(frame: Any, name: str) -> Any:
        for source in (frame, shared):
            if source is not None and name in source:
                return source[name][0]
        raise AssertionError(f"no {name} for a frame of {dataset.filename}")

    images = []
    for frame in dataset.PerFrameFunctionalGroupsSequence:
        position = group(frame, "PlanePositionSequence").ImagePositionPatient
        orientation = group(frame, "PlaneOrientationSequence").ImageOrientationPatient
        spacing = group(frame, "PixelMeasuresSequence").PixelSpacing
        images.append(_Image(_floats(position), _floats(orientation),
                             (float(spacing[0]), float(spacing[1]))))
    return images


def _mosaic_images(dataset: Any) -> list[_Image]:
    """One image per tile of a Siemens mosaic: nibabel's tile-0 position (the mosaic's corner
    moved to the first tile), then SpacingBetweenSlices along the CSA slice normal."""
    import warnings

    with warnings.catch_warnings():  # "the DICOM readers are highly experimental"
        warnings.simplefilter("ignore", UserWarning)
        from nibabel.nicom import dicomwrappers

    wrapper = dicomwrappers.wrapper_from_data(dataset)
    assert isinstance(wrapper, dicomwrappers.MosaicWrapper), dataset.filename
    step = float(dataset.SpacingBetweenSlices) * np.asarray(wrapper.slice_normal, dtype=float)
    first = np.asarray(wrapper.image_position, dtype=np.float64)
    orientation = _floats(dataset.ImageOrientationPatient)
    spacing = (float(dataset.PixelSpacing[0]), float(dataset.PixelSpacing[1]))
    return [_Image(first + t * step, orientation, spacing) for t in range(wrapper.n_mosaic)]


def images_of(path: Path) -> list[_Image]:
    """Every image of one file as its header places it."""
    dataset = pydicom.dcmread(path, stop_before_pixels=True)
    if "PerFrameFunctionalGroupsSequence" in dataset:
        return _frame_images(dataset)
    if "MOSAIC" in [str(v).upper() for v in dataset.get("ImageType", [])]:
        return _mosaic_images(dataset)
    spacing = dataset.PixelSpacing
    return [_Image(_floats(dataset.ImagePositionPatient),
                   _floats(dataset.ImageOrientationPatient),
                   (float(spacing[0]), float(spacing[1])))]


def file_stack(paths: Iterable[Path]) -> FileStack:
    """The stack the images of ``paths`` make: distinct positions ascending along the normal."""
    images = [image for path in paths for image in images_of(Path(path))]
    orientation = images[0].orientation
    for image in images:
        assert np.abs(image.orientation - orientation).max() < SAME_ORIENTATION, \
            f"images of several orientations: {orientation} and {image.orientation}"
        assert image.pixel_spacing == images[0].pixel_spacing, "several pixel spacings"
    stack = FileStack(orientation[:3], orientation[3:], images[0].pixel_spacing, np.empty(0))
    points = np.array([image.position for image in images])
    depth = points @ stack.normal
    distinct: list[np.ndarray] = []
    for index in np.argsort(depth, kind="stable"):
        if not distinct or depth[index] - distinct[-1] @ stack.normal > SAME_SLICE_MM:
            distinct.append(points[index])
    return FileStack(stack.row, stack.column, stack.pixel_spacing, np.array(distinct))


def grid_distance(first: np.ndarray, second: np.ndarray, shape: Sequence[int]) -> float:
    """The largest distance (mm) between where two affines put a voxel centre of a grid of
    ``shape`` (the first three axes): an affine difference is largest at a corner."""
    corners = np.array(list(itertools.product(*[(0, n - 1) for n in shape[:3]])), dtype=float)
    difference = np.asarray(first)[:3, :3] - np.asarray(second)[:3, :3]
    offsets = corners @ difference.T + (np.asarray(first)[:3, 3] - np.asarray(second)[:3, 3])
    return float(np.sqrt((offsets**2).sum(axis=1)).max())
