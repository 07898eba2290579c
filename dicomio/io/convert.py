"""Converters between :class:`~dicomio.Volume` and SimpleITK, VTK and nibabel images.

Every toolkit is imported only when its converter runs. Each converter keeps every voxel (same
values, same dtype) and the geometry; ``Volume.from_*(volume.to_*())`` gives the volume back (its
metadata and provenance aside). The ``array_from_*`` functions return ``(array, affine)`` in the
contract's conventions, which ``Volume.from_*`` wraps; the axis and LPS/RAS arithmetic is that
of :mod:`dicomio.geometry.conventions`. The conventions they translate between:

``Volume``
    ``array[k, j, i]`` = (slice, row, column); ``affine`` maps ``(k, j, i)`` to LPS mm.
SimpleITK and VTK
    Index ``(x, y, z) = (i, j, k)``, LPS. The NumPy array SimpleITK exchanges is already
    ``[k, j, i]``, as is the point order of ``vtkImageData`` (x fastest), so only spacing,
    origin and direction are translated (direction columns reversed). Colour becomes a vector
    image / a 3-component array.
NIfTI (nibabel)
    The data array is ``[i, j, k]`` (x fastest in the file, the layout NIfTI tools expect) and
    the affine is RAS: ``diag(-1, -1, 1, 1) @ affine`` with its first three columns reversed.
    It is written as the sform (code 1, scanner) and, when the axes are orthogonal, as the same
    qform; a sheared affine (gantry tilt) cannot be a qform, whose code is then 0 (unknown).
    This one policy serves ``to_nibabel`` and ``write_volume``. NIfTI stores the affine in
    float32, so positions survive to about 1e-5 mm. 8-bit RGB becomes NIfTI's RGB24.

A sheared affine (gantry tilt accepted with ``irregular="accept"``) converts exactly to
SimpleITK, VTK and the NIfTI sform.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dicomio.extras import pip_install
from dicomio.geometry.conventions import (
    affine_from_nifti,
    affine_from_xyz,
    is_orthogonal,
    nifti_affine,
    xyz_geometry,
)

if TYPE_CHECKING:
    from dicomio.volume import Volume

__all__ = ["array_from_nibabel", "array_from_sitk", "array_from_vtk", "nifti_image",
           "set_nifti_geometry", "to_nibabel", "to_sitk", "to_vtk"]

_RGB24 = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])


def _require(module: str, extra: str) -> Any:
    """Import a toolkit, or say which dicomio extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{module} is not installed: {pip_install(extra)}") from exc


def _xyz_geometry(volume: Volume) -> tuple[list[float], list[float], list[float]]:
    """Origin, spacing (x, y, z) and row-major direction (columns x, y, z) of a volume."""
    origin, spacing, direction = xyz_geometry(volume.affine)
    return origin.tolist(), spacing.tolist(), direction.ravel().tolist()


def _checked(array: NDArray[Any], affine: NDArray[np.float64]
             ) -> tuple[NDArray[Any], NDArray[np.float64]]:
    if array.ndim not in (3, 4):
        raise ValueError(f"a Volume needs a 3-D image (with an optional trailing colour axis); "
                         f"this one has array shape {array.shape}")
    return array, affine


# --- SimpleITK -------------------------------------------------------------------------------

def to_sitk(volume: Volume) -> Any:
    """The volume as a ``SimpleITK.Image`` (a vector image for colour), LPS geometry.

    ``image[i, j, k]`` (SimpleITK's x, y, z indexing) is ``volume.array[k, j, i]``.
    """
    sitk = _require("SimpleITK", "sitk")

    image = sitk.GetImageFromArray(volume.array, isVector=volume.array.ndim == 4)
    origin, spacing, direction = _xyz_geometry(volume)
    image.SetOrigin(origin)
    image.SetSpacing(spacing)
    image.SetDirection(direction)
    return image


def array_from_sitk(image: Any) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Array and affine of a 3-D ``SimpleITK.Image`` (vector pixels become the colour axis)."""
    sitk = _require("SimpleITK", "sitk")

    if image.GetDimension() != 3:
        raise ValueError(f"need a 3-D SimpleITK image, not {image.GetDimension()}-D")
    affine = affine_from_xyz(image.GetOrigin(), image.GetSpacing(), image.GetDirection())
    return _checked(sitk.GetArrayFromImage(image), affine)


# --- VTK -------------------------------------------------------------------------------------

def to_vtk(volume: Volume) -> Any:
    """The volume as a ``vtkImageData`` with its direction matrix (VTK >= 9), LPS geometry.

    Point ``(i, j, k)`` of the image holds ``volume.array[k, j, i]``; colour is a 3-component
    scalar array. The scalars are a copy.
    """
    _require("vtkmodules", "vtk")
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    image = vtkImageData()
    if not hasattr(image, "SetDirectionMatrix"):
        raise ImportError("VTK >= 9 is needed: older vtkImageData has no direction matrix")
    slices, rows, columns = volume.shape[:3]
    image.SetDimensions(columns, rows, slices)
    origin, spacing, direction = _xyz_geometry(volume)
    image.SetOrigin(origin)
    image.SetSpacing(spacing)
    image.SetDirectionMatrix(direction)
    values = np.ascontiguousarray(volume.array).reshape(slices * rows * columns, -1)
    scalars = numpy_to_vtk(values if values.shape[1] > 1 else values[:, 0], deep=True)
    scalars.SetName("values")
    image.GetPointData().SetScalars(scalars)
    return image


def array_from_vtk(image: Any) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Array and affine of a 3-D ``vtkImageData`` (its extent, spacing, origin and
    direction)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    scalars = image.GetPointData().GetScalars()
    if scalars is None:
        raise ValueError("the vtkImageData has no point scalars")
    columns, rows, slices = image.GetDimensions()
    matrix = image.GetDirectionMatrix()
    direction = [matrix.GetElement(r, c) for r in range(3) for c in range(3)]
    spacing = np.asarray(image.GetSpacing())
    first = np.asarray(image.GetExtent()[::2], dtype=np.float64)  # index of the first point
    origin = np.asarray(image.GetOrigin()) \
        + np.asarray(direction).reshape(3, 3) @ (spacing * first)
    components = scalars.GetNumberOfComponents()
    shape = (slices, rows, columns) + ((components,) if components > 1 else ())
    array = np.array(vtk_to_numpy(scalars)).reshape(shape)
    return _checked(array, affine_from_xyz(origin, spacing, direction))


# --- nibabel (NIfTI) -------------------------------------------------------------------------

def to_nibabel(volume: Volume) -> Any:
    """The volume as a ``nibabel.Nifti1Image`` (RAS affine, data ``[i, j, k]``).

    Save it with ``nibabel.save(image, "volume.nii.gz")``. Values and dtype are kept (no
    scaling); 8-bit RGB is stored as RGB24.

    Raises
    ------
    ValueError
        Colour other than 8-bit RGB, which NIfTI cannot store as such.
    """
    data = np.asarray(volume.array)
    if data.ndim == 4:
        if data.shape[3] != 3 or data.dtype != np.uint8:
            raise ValueError(f"NIfTI stores colour as 8-bit RGB; this volume has "
                             f"{data.shape[3]} {data.dtype} samples per voxel")
        data = np.ascontiguousarray(data).view(_RGB24)[..., 0]
    return nifti_image(data.transpose(2, 1, 0), nifti_affine(volume.affine))


def nifti_image(data: NDArray[Any], affine: NDArray[np.float64]) -> Any:
    """A ``nibabel.Nifti1Image`` of ``data`` (voxel ``[i, j, k, ...]``) placed by the RAS
    ``affine``: the one NIfTI header policy (mm and seconds; sform ``scanner``, and the qform
    too unless the axes are sheared by gantry tilt, which a qform cannot say)."""
    nib = _require("nibabel", "nifti")
    image = nib.Nifti1Image(data, affine, dtype=data.dtype)
    set_nifti_geometry(image, affine)
    return image


def set_nifti_geometry(image: Any, affine: NDArray[np.float64]) -> None:
    """Give ``image`` the sform and qform of :func:`nifti_image` for ``affine``."""
    image.header.set_xyzt_units("mm", "sec")
    image.set_sform(affine, code="scanner")
    if is_orthogonal(affine):
        image.set_qform(affine, code="scanner")  # rounding-level shear is stripped
    else:  # sheared (gantry tilt): a qform cannot say it, only the sform
        image.set_qform(None, code="unknown")


def array_from_nibabel(image: Any) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Array and affine of a 3-D nibabel image (scaled values if it has scl_slope; RGB24 →
    colour).

    The image's third axis becomes the slice axis: ``array[k, j, i] = data[i, j, k]``.
    """
    data = np.asanyarray(image.dataobj)
    if data.dtype.names:  # RGB24 / RGBA32
        data = np.stack([data[name] for name in data.dtype.names[:3]], axis=-1)
    elif data.ndim != 3:
        raise ValueError(f"need a 3-D NIfTI image, not shape {data.shape}")
    order = (2, 1, 0, 3) if data.ndim == 4 else (2, 1, 0)
    return _checked(np.ascontiguousarray(data.transpose(order)),
                    affine_from_nifti(np.asarray(image.affine, dtype=np.float64)))
