"""The NIfTI image of a series as dcm2niix writes it: its voxel order, sform and qform.

dicomio's own NIfTI (:func:`dicomio.io.convert.to_nibabel`) keeps the array's order: voxel
``(i, j, k)`` is (column, row, slice), slices ascending along the normal. dcm2niix, the
reference converter of neuroimaging, writes the same voxels in another order, and
``dicomio convert`` writes its order so that the two files agree voxel for voxel:

- the rows reversed (``j`` runs from the last stored row to the first: NIfTI's first row is
  at the bottom of the screen, DICOM's at the top);
- the slices of a Siemens mosaic along whichever of the normal ``n`` and ``-n`` has a
  positive largest component in LPS (dcm2niix flips a mosaic whose slice direction points to
  the right, anterior or inferior: a sagittal mosaic runs from right to left, against ``n``;
  one stored head to foot is turned to run up); other slices ascending along the normal, as
  dicomio sorts them (the corpus' classic and enhanced references are all so);
- a 3-D acquisition (MRAcquisitionType ``3D``) written as one volume of several slices turned
  to the closest canonical orientation (axes along x, y, z of RAS, each pointing to its
  positive end): dcm2niix's ``nii_setOrtho`` (its ``-x i`` turns it off);
- several volumes along a fourth axis, time last.

The sform and qform follow :func:`dicomio.io.convert.nifti_image` (``scanner``; no qform for a
sheared grid); the voxel values are the volume's, untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dicomio.dicom.source import Source, read_dataset
from dicomio.geometry.conventions import nifti_affine, slice_normal
from dicomio.io.convert import nifti_image, set_nifti_geometry
from dicomio.volume import Volume, Volume4D

if TYPE_CHECKING:
    from dicomio.series.layout import SeriesLayout

__all__ = ["NiftiOrder", "dcm2niix_order", "ordered_image"]


@dataclass(frozen=True)
class NiftiOrder:
    """How the voxels of a written NIfTI run, from dicomio's (column, row, slice) order.

    Attributes
    ----------
    rows_reversed
        ``j`` runs from the last stored row to the first.
    slices_reversed
        ``k`` runs against the slice normal (from dicomio's last slice to its first).
    canonical
        Turned, after the flips, to the closest canonical (RAS) orientation.
    """

    rows_reversed: bool = False
    slices_reversed: bool = False
    canonical: bool = False


def dcm2niix_order(layout: SeriesLayout, volumes: int) -> NiftiOrder:
    """The order dcm2niix writes a series of ``layout`` in, written as ``volumes`` volumes
    (see the module's description)."""
    slices = layout.volumes[0]
    against = False
    if slices[0].tile is not None and slices[0].orientation is not None:
        normal = slice_normal(slices[0].orientation)
        against = bool(normal[int(np.argmax(np.abs(normal)))] < 0)
    canonical = (volumes == 1 and len(slices) > 1
                 and _acquisition_type(slices[0].header.origin) == "3D")
    return NiftiOrder(rows_reversed=True, slices_reversed=against, canonical=canonical)


def _acquisition_type(source: Source) -> str:
    """MRAcquisitionType (0018,0023) of a file, read with pydicom ("" when absent)."""
    try:
        dataset = read_dataset(source, stop_before_pixels=True,
                               specific_tags=[0x00180023])
    except Exception:  # the file was read before: a value that cannot be read is no value
        return ""
    return str(dataset.get("MRAcquisitionType", "") or "").strip().upper()


def ordered_image(volume: Volume | Volume4D, order: NiftiOrder = NiftiOrder()) -> Any:
    """``volume`` as a ``nibabel.Nifti1Image`` whose voxels run in ``order``; a
    :class:`~dicomio.Volume4D` with its volumes along the fourth axis.

    Raises
    ------
    ValueError
        Colour, which these images do not take (write it with :func:`dicomio.io.writers.
        write_volume`, as RGB24).
    """
    from nibabel.orientations import io_orientation

    array = np.asarray(volume.array)
    spatial = 4 if isinstance(volume, Volume4D) else 3
    if array.ndim != spatial:
        raise ValueError(f"colour ({array.shape[-1]} samples per voxel) is written in "
                         f"dicomio's order only")
    axes = (3, 2, 1, 0) if spatial == 4 else (2, 1, 0)
    image = nifti_image(array.transpose(axes), nifti_affine(volume.affine))
    flips = np.array([[0, 1], [1, -1 if order.rows_reversed else 1],
                      [2, -1 if order.slices_reversed else 1]], dtype=float)
    image = image.as_reoriented(flips)
    if order.canonical:
        image = image.as_reoriented(io_orientation(image.affine))
    set_nifti_geometry(image, np.asarray(image.affine, dtype=np.float64))
    return image
