"""The guard against zeros presented as an image.

VTK's DICOM reader returns an array of zeros for compressed data and only logs an error; any
decoder can fail the same way. Every volume a backend returns passes through
:func:`check_not_all_zero` before it reaches the user.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.errors import CorruptDataError
from dicomio.pixels.pydicom_read import read_file_with_pydicom
from dicomio.series.info import SeriesInfo

__all__ = ["check_not_all_zero"]


def check_not_all_zero(
    array: NDArray[Any], series: SeriesInfo, rescale: bool, backend: str
) -> str | None:
    """Never return zeros as if they were an image.

    An all-zero result is checked against pydicom's decoding of the middle slice, into the
    result's dtype with the same rescale: if that is not zero, the backend failed silently (VTK
    does this with compressed data) and this is an error; otherwise the data really is zero,
    which is only worth a warning.
    """
    n = array.shape[0]
    if any(array[k].any() for k in {n // 2, 0, n - 1}) or array.any():
        return None
    k = n // 2
    frame = series.frames[k]
    reference = np.empty((1, *array.shape[1:]), dtype=array.dtype)
    read_file_with_pydicom(frame.header, [(frame.index, 0, frame.slope, frame.intercept)],
                           reference, rescale=rescale)
    if reference.any():
        raise CorruptDataError(
            f"backend {backend!r} returned only zeros, but slice {k} decoded by pydicom is not "
            f"zero: the backend failed to decode the pixel data", path=frame.path)
    return "every voxel is zero (the stored pixel data is zero too)"
