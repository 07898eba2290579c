"""The checks every loader must pass, written independently of dicomio's own code.

- :func:`stated_affine`: the affine a generated series' spec states, by plain arithmetic
  (never with :mod:`dicomio.geometry`, nor the writer's own truth).
- :func:`assert_affine_is` says which part of an affine differs: the origin, the slice step
  (and so the slice order), the row or the column axis.
- :func:`assert_slices_match_files`: the affine is the files' geometry, read with pydicom
  (origin at the first slice's own position, slices ascending along ``row cosine × column
  cosine``, columns PixelSpacing × cosines), and for every slice k, ``array[k]`` equals the
  pixels of the file at ``affine @ (k, 0, 0, 1)``, as pydicom decodes them (masked to
  BitsStored, rescaled).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pydicom

from dicomio.testing.synthetic import SeriesSpec
from tests.support.file_geometry import cross, file_stack, grid_distance

#: Two affines agree when every part is this close (mm): the writer rounds to 10 digits.
AFFINE_MM = 1e-4


def stated_affine(spec: SeriesSpec) -> np.ndarray:
    """The affine the contract states for a stack written from ``spec``.

    The writer puts instance ``k`` at ``origin + k × step``, with ``step = slice_spacing ×
    normal + tan(tilt) × |slice_spacing| × column cosine`` and ``normal = row cosine × column
    cosine``. The contract orders slices along the normal: with a negative spacing the first
    slice is the last instance, and column 0 is the step reversed. Column 1 is the column
    cosine × PixelSpacing[0], column 2 the row cosine × PixelSpacing[1], column 3 the first
    slice's position.
    """
    row, column = np.array(spec.orientation[:3]), np.array(spec.orientation[3:])
    tilt = math.tan(math.radians(spec.tilt_degrees)) * abs(spec.slice_spacing)
    step = spec.slice_spacing * cross(row, column) + tilt * column
    first = np.asarray(spec.origin, dtype=np.float64)
    if spec.slice_spacing < 0:
        first = first + (spec.shape[0] - 1) * step
        step = -step
    affine = np.eye(4)
    affine[:3, 0] = step
    affine[:3, 1] = spec.pixel_spacing[0] * column
    affine[:3, 2] = spec.pixel_spacing[1] * row
    affine[:3, 3] = first
    return affine


def assert_affine_is(affine: np.ndarray, expected: np.ndarray, *, atol: float = AFFINE_MM,
                     what: str = "the affine") -> None:
    """Raise AssertionError naming the first part of ``affine`` that is not ``expected``'s."""
    parts = {3: "origin (first slice's position)", 0: "slice step (column 0)",
             1: "row axis (column 1: column cosine × PixelSpacing[0])",
             2: "column axis (column 2: row cosine × PixelSpacing[1])"}
    for column, name in parts.items():
        got, want = np.asarray(affine)[:3, column], np.asarray(expected)[:3, column]
        assert np.abs(got - want).max() <= atol, f"{what}: {name} is {got}, not {want}"


def file_pixels(path: Any, rescale: bool, index: int | None = None) -> np.ndarray:
    """The pixels of a file (or of one of its frames) as pydicom decodes them, masked to
    BitsStored and sign-extended, rescaled when asked."""
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array if index is None else ds.pixel_array[index]
    pixels = pixels.astype(pixels.dtype.newbyteorder("="))
    if ds.SamplesPerPixel == 1 and ds.BitsStored < ds.BitsAllocated:
        bits = ds.BitsStored
        raw = pixels.astype(np.int64) & ((1 << bits) - 1)
        if ds.PixelRepresentation == 1:
            raw = np.where(raw >= 1 << (bits - 1), raw - (1 << bits), raw)
        pixels = raw
    if rescale and ds.SamplesPerPixel == 1:
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        return pixels.astype(np.float64) * slope + intercept
    return pixels


def assert_affine_is_the_files(volume: Any, *, atol: float = AFFINE_MM) -> None:
    """Raise AssertionError unless the volume's affine is its files' geometry, read with
    pydicom: origin at the first slice's position along the normal, slices ascending along it,
    the step from the first position to the last in equal parts (an accepted irregular stack's
    too), columns PixelSpacing × cosines."""
    files = file_stack(volume.provenance.files)
    affine = np.asarray(volume.affine)
    shape = volume.shape[:3]
    assert len(files.positions) == shape[0], \
        f"{len(files.positions)} slice positions in the files, {shape[0]} slices"
    expected = files.affine()
    if shape[0] == 1:  # one slice: no step to measure, only its direction
        expected[:3, 0] = affine[:3, 0]
        assert affine[:3, 0] @ files.normal > 0, "the slice step points against the normal"
    assert_affine_is(affine, expected, atol=atol, what="the affine against the files")
    distance = grid_distance(affine, expected, shape)
    assert distance <= atol, f"voxel centres {distance:.3g} mm from where the files put them"


def assert_slices_match_files(volume: Any, *, rescale: bool = True, atol: float = 0) -> None:
    """Raise AssertionError unless the affine is the files' geometry and each slice is the
    file found at the affine's position."""
    assert_affine_is_the_files(volume)
    files = volume.provenance.files
    positions = {}
    for path in files:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        positions[path] = np.array([float(v) for v in ds.ImagePositionPatient])
    for k in range(volume.shape[0]):
        where = (volume.affine @ [k, 0, 0, 1])[:3]
        if volume.slice_positions is not None:
            where = volume.slice_positions[k]
        path, distance = min(((p, float(np.linalg.norm(x - where))) for p, x in positions.items()),
                             key=lambda item: item[1])
        assert distance < 1e-3, f"no file at the position of slice {k} ({where})"
        expected = file_pixels(path, rescale)
        got = volume.array[k].astype(np.float64)
        if expected.dtype.kind == "f" and volume.array.dtype == np.float32:
            expected = expected.astype(np.float32).astype(np.float64)
        difference = np.abs(got - expected).max()
        assert difference <= atol, f"slice {k} differs from {path} by up to {difference}"
