"""Compare a Volume with a reference NIfTI (dcm2niix, dicom2nifti) voxel by voxel.

The reference may store the volume in any axis order and direction: its sform says where each
voxel is. Mapping the reference's voxel indices through ``inv(volume.affine) @ LPS(sform)``
must give a signed permutation with integral offsets; the reference array is then permuted into
the contract's order and compared exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass
class Agreement:
    """How a volume and a reference compare."""

    geometry_mm: float  # largest distance between corresponding voxel centres
    max_abs_difference: float
    differing_voxels: int
    reference_shape: tuple[int, ...]


def load_reference(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The stored array (no scaling) and the LPS affine of a NIfTI file."""
    import nibabel as nib

    image = nib.load(str(path))
    data = np.asanyarray(image.dataobj)  # raw stored values, without scl_slope
    if hasattr(image.dataobj, "get_unscaled"):
        data = np.asarray(image.dataobj.get_unscaled())
    if data.dtype.names:  # RGB(A) voxels stored as a structured dtype
        data = np.stack([data[name] for name in data.dtype.names[:3]], axis=-1)
    affine = image.get_sform() if image.header["sform_code"] > 0 else image.get_qform()
    return data, RAS_TO_LPS @ affine


def reference_in_contract_order(
    data: np.ndarray, affine_lps: np.ndarray, volume_affine: np.ndarray, shape: tuple[int, ...]
) -> tuple[np.ndarray, float]:
    """Permute/flip a 3-D reference into (slice, row, column) of a volume; also return the
    largest geometric distance (mm) between corresponding voxel centres."""
    mapping = np.linalg.inv(volume_affine) @ affine_lps
    rotation = mapping[:3, :3]
    permutation = np.argmax(np.abs(rotation), axis=1)  # reference axis feeding each volume axis
    if sorted(permutation.tolist()) != [0, 1, 2]:
        raise AssertionError(f"reference axes do not map onto the volume's:\n{mapping}")
    samples = data.shape[3:]
    ordered = np.transpose(data, [*permutation, *range(3, data.ndim)])
    for axis in range(3):
        if rotation[axis, permutation[axis]] < 0:
            ordered = np.flip(ordered, axis=axis)
    # Where the reference's first voxel lands decides the offset.
    corners = np.array([[0, 0, 0], [s - 1 for s in data.shape[:3]]], dtype=float)
    ref_points = corners @ affine_lps[:3, :3].T + affine_lps[:3, 3]
    ours = ref_points @ np.linalg.inv(volume_affine)[:3, :3].T + np.linalg.inv(volume_affine)[:3, 3]
    rounded = np.rint(ours)
    back = rounded @ volume_affine[:3, :3].T + volume_affine[:3, 3]
    distance = float(np.max(np.linalg.norm(back - ref_points, axis=1)))
    if ordered.shape != tuple(shape):
        raise AssertionError(f"reference shape {ordered.shape} != volume shape {shape} "
                             f"(samples {samples})")
    return ordered, distance


def compare(volume: Any, reference: Path, time_index: int | None = None) -> Agreement:
    """Compare ``volume`` (loaded with ``rescale=False``) against a reference NIfTI."""
    data, affine = load_reference(reference)
    if data.ndim == 4 and time_index is not None:
        data = data[..., time_index]
    ordered, distance = reference_in_contract_order(data, affine, volume.affine, volume.shape)
    ours = volume.array
    difference = np.abs(ours.astype(np.float64) - ordered.astype(np.float64))
    return Agreement(distance, float(difference.max()), int(np.count_nonzero(difference)),
                     tuple(data.shape))
