"""A reference NIfTI (dcm2niix, dicom2nifti) in the contract's axes, found without dicomio.

The reference may store the volume in any axis order and direction: its sform says where each
voxel is. :func:`in_file_axes` permutes and flips it by the *files'* row and column cosines
(read with pydicom, :mod:`tests.support.file_geometry`), never through dicomio's affine, so a
slice order or origin that dicomio gets wrong shows up both in the voxels and in the affine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.file_geometry import FileStack

RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
# A reference axis is "along" a file direction when their cosine is above this (an oblique
# stack's axes are exactly along; a tilted stack's slice axis is along the normal too).
ALONG = 0.99


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


def in_file_axes(data: np.ndarray, affine_lps: np.ndarray,
                 stack: FileStack) -> tuple[np.ndarray, np.ndarray]:
    """A reference's array in the contract's (slice, row, column[, ...]) order, and its affine
    in that order, found from the files' cosines alone.

    The reference axis along the slice normal becomes the slices, the one along the column
    cosine the rows, the one along the row cosine the columns; an axis pointing the other way
    is flipped (its far end becomes index 0, and the origin moves there). Axes past the third
    (time, colour samples) stay where they are.
    """
    columns = affine_lps[:3, :3]
    units = columns / np.sqrt((columns**2).sum(axis=0))
    order, signs = [], []
    for target in (stack.normal, stack.column, stack.row):
        cosines = units.T @ target
        axis = int(np.argmax(np.abs(cosines)))
        assert abs(cosines[axis]) > ALONG, f"no reference axis along {target}:\n{affine_lps}"
        order.append(axis)
        signs.append(1.0 if cosines[axis] > 0 else -1.0)
    assert sorted(order) == [0, 1, 2], f"reference axes do not map onto the files':\n{affine_lps}"
    array = np.transpose(data, [*order, *range(3, data.ndim)])
    affine = np.eye(4)
    affine[:3, 3] = affine_lps[:3, 3]
    for axis, (source, sign) in enumerate(zip(order, signs, strict=True)):
        affine[:3, axis] = sign * columns[:, source]
        if sign < 0:
            array = np.flip(array, axis=axis)
            affine[:3, 3] += (data.shape[source] - 1) * columns[:, source]
    return array, affine
