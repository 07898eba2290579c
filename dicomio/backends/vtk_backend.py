"""The VTK backend: ``vtkDICOMImageReader``, one file at a time in dicomio's slice order.

``vtkDICOMImageReader`` reads a single file (``SetFileName``) or scans a folder
(``SetDirectoryName``) and sorts it its own way; it ignores ``SetFileNames`` (VTK 9.x reports
``NoFileNameError`` and returns a 1 x 1 x n image). dicomio never lets it scan a folder: it reads
each file of the sorted list with ``SetFileName`` and stacks the slices itself. What VTK does to
the pixels is undone:

- rows are stored bottom-up (DICOM's first row becomes VTK's last): flipped back, on the raw
  element stream, so planar colour data (which VTK does not understand) is recovered too;
- RescaleSlope/RescaleIntercept are applied by VTK, from single-precision copies of the values:
  into ``float32`` when either is not an integer, else into the stored width (``short`` or
  ``unsigned char``) with wrap-around. Both are inverted exactly (the float case only where
  float32 keeps every stored value apart; see :func:`vtk_cannot_invert`), then
  :mod:`dicomio.pixels.values` applies the contract's masking, rescale and dtype;
- high bits above BitsStored are not masked by VTK: :func:`dicomio.pixels.values.to_stored` does it.

What VTK cannot read at all (tested, see ``tests/backends/test_vtk_backend.py``): compressed data
(it logs an error and returns zeros), Explicit VR Big Endian and deflated files (empty output),
BitsAllocated other than 8 or 16, Float Pixel Data, colour other than RGB (YBR comes back as
one component) and multi-frame files (only the first frame is read). ``auto`` never picks VTK
for those and an explicit request raises :class:`~dicomio.BackendCannotReadError`.

Its geometry is reported as VTK states it, so ``compare`` can show how far off it is: origin
(0, 0, 0) at the bottom-left pixel, identity directions, and SliceThickness as the slice
spacing.

VTK's parser crashes the whole process (a segmentation fault, no exception) on some header
values: an InstanceNumber that is not a 32-bit integer (``2**32``, ``abc``, blanks), a
RescaleSlope, RescaleIntercept or GantryDetectorTilt that is not a single-precision number
(``4e38``, ``1e-50``, ``abc``, a RescaleSlope present but empty). Every file's values are checked
(:func:`vtk_unsafe_value`) before VTK sees it: such a series is declared unreadable by VTK, and
the reader refuses the file with :class:`~dicomio.BackendCannotReadError` should it get there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import (
    BackendSpec,
    ReadOptions,
    ReadResult,
    ReportedGeometry,
    has_multi_frame_files,
    ignored_decoder,
    unencodable_file_name,
    volume_dtype,
)
from dicomio.dicom.source import PathSource, read_dataset
from dicomio.dicom.transfer_syntax import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from dicomio.dicom.types import PixelFormat
from dicomio.errors import BackendCannotReadError, BackendReadError
from dicomio.pixels.values import finish_frame
from dicomio.series.info import SeriesInfo

__all__ = ["DECODER_NAME", "SPEC", "Reader", "raise_on_error", "stored_from_vtk",
           "vtk_cannot_invert", "vtk_unsafe_value"]

DECODER_NAME = "vtkDICOMImageReader"
# VTK keeps float32 values: recovery needs their rounding error below half a stored step.
_FLOAT32_EPSILON = float(np.finfo(np.float32).eps)
# vtkDICOMImageReader reads uncompressed little-endian data only: compressed data comes back
# as zeros, big endian and deflated files as an empty image.
_VTK_SYNTAXES = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN})

# The values VTK's parser converts with std::stoi (an int) or std::stof (a float), which throw
# on text they cannot convert, and the throw ends the process: tag -> (keyword, kind, whether
# an empty value is safe).
_PARSED = {
    0x00200013: ("InstanceNumber", "int", True),
    0x00281052: ("RescaleIntercept", "float", True),
    0x00281053: ("RescaleSlope", "float", False),
    0x00181120: ("GantryDetectorTilt", "float", True),
}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT32 = (-(2**31), 2**31 - 1)
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def _vtk_syntaxes() -> frozenset[str]:
    return _VTK_SYNTAXES


def _vtk_unable(series: SeriesInfo) -> str | None:
    fmt = series.pixel
    unnamed = unencodable_file_name(series, "VTK")
    if unnamed is not None:
        return unnamed
    for path in series.files:
        unsafe = vtk_unsafe_value(path)
        if unsafe is not None:
            return unsafe
    if has_multi_frame_files(series):
        return "multi-frame files (vtkDICOMImageReader reads the first frame only)"
    if fmt.float_data:
        return "Float Pixel Data"
    if fmt.bits_allocated not in (8, 16):
        return f"BitsAllocated {fmt.bits_allocated} (vtkDICOMImageReader reads 8 or 16)"
    if fmt.samples_per_pixel > 1 and fmt.photometric_interpretation != "RGB":
        return f"{fmt.photometric_interpretation} colour (VTK does not convert it to RGB)"
    for frame in series.frames:
        reason = vtk_cannot_invert(fmt, frame.slope, frame.intercept)
        if reason is not None:
            return reason
    return None


SPEC = BackendSpec(
    name="vtk",
    module="dicomio.backends.vtk_backend",
    requires=("vtk",),
    distribution="vtk",
    extra="vtk",
    summary="vtkDICOMImageReader, file by file in dicomio's order; bottom-up rows and rescale "
            "undone; uncompressed little-endian only",
    syntaxes=_vtk_syntaxes,
    unable=_vtk_unable,
    files_only=True,
)


class Reader:
    """Read a series with VTK's vtkDICOMImageReader, one file per slice."""

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        out = np.empty(series.shape, dtype=volume_dtype(series, options))
        geometry = None
        for k, frame in enumerate(series.frames):
            fmt = frame.header.pixel
            assert fmt is not None
            values, slope, offset, image = _read_file(frame.path, fmt)
            stored = stored_from_vtk(values, slope, offset)
            if fmt.samples_per_pixel > 1 and fmt.planar_configuration == 1:
                stored = stored.reshape(fmt.samples_per_pixel, fmt.rows, fmt.columns)
                stored = stored.transpose(1, 2, 0)
            else:
                stored = stored.reshape(fmt.frame_shape)
            finish_frame(stored, fmt, out[k], slope=frame.slope, intercept=frame.intercept,
                         rescale=options.rescale, keep_high_bits=options.keep_high_bits)
            if geometry is None:
                geometry = _reported_geometry(image)
        return ReadResult(out, decoders=(DECODER_NAME,),
                          warnings=ignored_decoder(options, DECODER_NAME),
                          reported_geometry=geometry)


def _read_file(path: Any, fmt: PixelFormat) -> tuple[NDArray[Any], float, float, Any]:
    """VTK's values of one file, back in file order; VTK's slope, offset and image."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOImage import vtkDICOMImageReader

    unsafe = vtk_unsafe_value(path)
    if unsafe is not None:
        raise BackendCannotReadError(unsafe, path=path)
    reader = vtkDICOMImageReader()
    reader.SetFileName(str(path))
    reader.Update()
    raise_on_error(reader.GetErrorCode(), path)
    image = reader.GetOutput()
    scalars = image.GetPointData().GetScalars()
    if scalars is None:
        raise BackendReadError("vtkDICOMImageReader returned no pixel data", path=path)
    values = vtk_to_numpy(scalars)
    expected = fmt.rows * fmt.columns * fmt.samples_per_pixel
    if values.size != expected:
        raise BackendReadError(
            f"vtkDICOMImageReader returned {values.size} values, expected {fmt.rows}x"
            f"{fmt.columns}x{fmt.samples_per_pixel}", path=path)
    # VTK copied the file's rows (of columns x samples values) last to first: undo it on the
    # raw element stream, before interpreting samples or planes.
    values = values.reshape(fmt.rows, -1)[::-1].reshape(-1)
    return values, reader.GetRescaleSlope(), reader.GetRescaleOffset(), image


def _unsafe(text: str, kind: str) -> bool:
    """Whether VTK's conversion of ``text`` (an int or a float) would throw."""
    value = text.split("\\")[0].strip(" \0")
    if kind == "int":
        return not _INTEGER.fullmatch(value) or not _INT32[0] <= int(value) <= _INT32[1]
    try:
        number = abs(float(value))
    except ValueError:
        return True
    return number != 0 and not _FLOAT32_TINY <= number <= _FLOAT32_MAX


def vtk_unsafe_value(path: str | Path) -> str | None:
    """The header value of ``path`` that would crash vtkDICOMImageReader, named, or None.

    Reads the raw text of InstanceNumber, RescaleSlope, RescaleIntercept and
    GantryDetectorTilt (with pydicom, the header only); a file pydicom cannot read is not
    given to VTK either.
    """
    try:
        dataset = read_dataset(PathSource(Path(path)), stop_before_pixels=True, force=True,
                               specific_tags=list(_PARSED))
        raws = {tag: dataset.get_item(tag) for tag in _PARSED if tag in dataset}
    except Exception as exc:  # not readable as VTK would need: not handed to it
        return f"{path}: its header cannot be checked before VTK reads it ({exc})"
    for tag, element in raws.items():
        keyword, kind, empty_safe = _PARSED[tag]
        raw = element.value if element is not None else None
        if not isinstance(raw, bytes):
            raw = b"" if raw is None else str(raw).encode("latin-1", "replace")
        if not raw and empty_safe:
            continue
        if _unsafe(raw.decode("latin-1"), kind):
            what = "a 32-bit integer" if kind == "int" else "a single-precision number"
            return (f"{path}: {keyword} {raw[:32].decode('latin-1')!r} is not "
                    f"{what} (vtkDICOMImageReader would crash on it)")
    return None


def raise_on_error(code: int, path: Any) -> None:
    """Raise :class:`BackendReadError` when VTK set an error code (it only logs errors).

    Compressed data is the classic case: VTK logs "There was a problem retrieving data",
    sets ``FileFormatError`` and returns zeros. (The all-zero guard of
    :func:`dicomio.load_volume` would catch those zeros too.)
    """
    if code:
        from vtkmodules.vtkCommonMisc import vtkErrorCode

        raise BackendReadError(
            f"vtkDICOMImageReader failed ({vtkErrorCode.GetStringFromErrorCode(code)})",
            path=path)


def stored_from_vtk(values: NDArray[Any], slope: float, offset: float) -> NDArray[Any]:
    """Recover the stored bit patterns from VTK's rescaled values.

    VTK computes ``slope * value + offset`` in double precision from its float copies of
    the attributes, then stores it as float32 when either is not an integer (``value`` read
    unsigned), or casts it to the stored width (``short``/``char``: value modulo 2**bits).
    Both are inverted here; the low bits that matter are exact (see :func:`vtk_cannot_invert`
    for when they cannot be).
    """
    if slope == 1 and offset == 0:
        return values
    if values.dtype.kind == "f":
        return np.rint((values.astype(np.float64) - offset) / slope).astype(np.int64)
    bits = values.dtype.itemsize * 8
    factor = int(slope)
    shift = (factor & -factor).bit_length() - 1  # slope = odd × 2**shift
    modulus = 1 << (bits - shift)
    inverse = pow(factor >> shift, -1, modulus)
    product = (values.astype(np.int64) - int(offset)) % (1 << bits)
    return ((product >> shift) * inverse) % modulus


def vtk_cannot_invert(fmt: PixelFormat, slope: float, intercept: float) -> str | None:
    """Why VTK's rescale of these values cannot be undone exactly, or None when it can."""
    slope32, offset32 = float(np.float32(slope)), float(np.float32(intercept))
    if slope32 == 0:
        return "RescaleSlope is 0"
    if slope32.is_integer() and offset32.is_integer():
        shift = (int(slope32) & -int(slope32)).bit_length() - 1
        if fmt.high_bit + 1 > fmt.bits_allocated - shift:
            return (f"VTK multiplies by RescaleSlope {slope:g} modulo 2**{fmt.bits_allocated}, "
                    f"losing the high bits of the stored values")
        if abs(slope32) * 2.0**fmt.bits_allocated + abs(offset32) >= 2.0**31:
            return "VTK's integer rescale overflows"
        return None
    largest = abs(slope32) * (2.0**fmt.bits_allocated - 1) + abs(offset32)
    if largest * _FLOAT32_EPSILON >= abs(slope32) / 2:
        return (f"VTK rounds slope × stored + intercept to float32, which merges stored "
                f"values at RescaleSlope {slope:g}, RescaleIntercept {intercept:g}")
    return None


def _reported_geometry(image: Any) -> ReportedGeometry:
    """What VTK states about the first file, in the contract's axes (rows flipped back).

    VTK's voxel (x, y, z) is the array's (k, rows - 1 - j, i) for z = k: the row axis runs
    the other way from VTK's origin, which sits at the last row.
    """
    matrix = image.GetDirectionMatrix()
    direction = np.array([[matrix.GetElement(r, c) for c in range(3)] for r in range(3)])
    spacing = np.asarray(image.GetSpacing())
    rows = image.GetDimensions()[1]
    origin = np.asarray(image.GetOrigin()) + direction[:, 1] * spacing[1] * (rows - 1)
    direction[:, 1] *= -1
    return ReportedGeometry.from_xyz(
        tuple(origin), tuple(spacing), direction.ravel().tolist(), has_direction=False,
        source="VTK: vtkDICOMImageReader's origin and spacing of the first file (no direction: "
               "identity)")
