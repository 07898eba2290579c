"""The check every loader must pass, written independently of dicomio's own code.

For every slice k, ``array[k]`` equals the pixels of the file whose ImagePositionPatient is
``affine @ (k, 0, 0, 1)``, as pydicom decodes them (masked to BitsStored, rescaled).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pydicom


def file_pixels(path: Any, rescale: bool, index: int | None = None) -> np.ndarray:
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array if index is None else ds.pixel_array[index]
    pixels = pixels.astype(pixels.dtype.newbyteorder("="))
    if ds.SamplesPerPixel == 1 and ds.BitsStored < ds.BitsAllocated:
        bits, spare = ds.BitsStored, ds.BitsAllocated - ds.BitsStored
        raw = pixels.astype(np.int64) & ((1 << bits) - 1)
        if ds.PixelRepresentation == 1:
            raw = np.where(raw >= 1 << (bits - 1), raw - (1 << bits), raw)
        pixels = raw
        del spare
    if rescale and ds.SamplesPerPixel == 1:
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        return pixels.astype(np.float64) * slope + intercept
    return pixels


def assert_slices_match_files(volume: Any, *, rescale: bool = True, atol: float = 0) -> None:
    """Raise AssertionError unless each slice is the file found at the affine's position."""
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
