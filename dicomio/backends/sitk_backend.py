"""The SimpleITK backend: ITK's ``ImageSeriesReader`` (GDCM inside), fed dicomio's file list.

SimpleITK is given the files in dicomio's slice order (never a folder to scan) and GDCM decodes
them. GDCM then changes the values in ways the contract does not, and this module undoes each
one, so that every value and the dtype are exactly those of the pydicom backend:

- GDCM applies RescaleSlope/RescaleIntercept itself and picks its own output type from the
  *first* file; slices with other slopes or intercepts would be cast into that type and lose
  values. Such series are read as float64, and the stored values are recovered from each
  slice's own slope and intercept (checked to be integers) before :mod:`dicomio.pixels.values`
  applies the contract's rescale and dtype.
- GDCM inverts MONOCHROME1 (``max - value``); the contract returns stored values, so the
  inversion is undone.
- GDCM masks the bits above BitsStored and sign-extends; :func:`dicomio.pixels.values.to_stored`
  does it again, harmlessly.
- It applies a PALETTE COLOR lookup table (the contract returns the indices): such series are
  declared unreadable, as are multi-frame files (``ImageSeriesReader`` expects one image per
  file) and signed 12-bit MONOCHROME1, which GDCM refuses.

The geometry SimpleITK reports (origin, spacing, direction) is returned as
:class:`~dicomio.backends.base.ReportedGeometry`, converted to the contract's axis order.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from dicomio.dicom.frame import Frame
from dicomio.dicom.transfer_syntax import (
    HTJ2K_FAMILY,
    JPEG2000_FAMILY,
    JPEG_FAMILY,
    JPEG_LS_FAMILY,
    NATIVE_SYNTAXES,
    RLE_LOSSLESS,
)
from dicomio.dicom.types import PixelFormat
from dicomio.errors import BackendReadError
from dicomio.pixels.values import finish_frame
from dicomio.series.info import SeriesInfo

__all__ = ["DECODER_NAME", "SPEC", "Reader", "stored_from_gdcm"]

DECODER_NAME = "SimpleITK/GDCM"
# A recovered stored value further than this from an integer means GDCM did not apply the
# slope and intercept dicomio read (they are exact in float64 otherwise).
_INTEGRAL = 1e-3

# Native syntaxes, then every compressed one GDCM decoded in dicomio's tests (see
# tests/backends/test_sitk_backend.py and the conformance suite).
_SITK_SYNTAXES = (NATIVE_SYNTAXES | JPEG_FAMILY | JPEG_LS_FAMILY | JPEG2000_FAMILY | HTJ2K_FAMILY
                  | {RLE_LOSSLESS})


def _sitk_syntaxes() -> frozenset[str]:
    return _SITK_SYNTAXES


def _sitk_unable(series: SeriesInfo) -> str | None:
    fmt = series.pixel
    unnamed = unencodable_file_name(series, "SimpleITK")
    if unnamed is not None:
        return unnamed
    if has_multi_frame_files(series):
        return "multi-frame files (ImageSeriesReader reads one image per file)"
    if fmt.float_data:
        return "Float Pixel Data (not tested with GDCM)"
    if fmt.bits_allocated not in (8, 16, 32):
        return f"BitsAllocated {fmt.bits_allocated}"
    if fmt.bits_allocated == 8 and fmt.bits_stored < 8:
        return f"8-bit data with BitsStored {fmt.bits_stored} (GDCM requires 8)"
    if fmt.bits_allocated == 32 and fmt.bits_stored < 32:
        return f"32-bit data with BitsStored {fmt.bits_stored} (GDCM masks the wrong bits)"
    if fmt.photometric_interpretation == "PALETTE COLOR":
        return "GDCM applies the palette (RGB out); the contract returns the stored indices"
    if (fmt.photometric_interpretation == "MONOCHROME1" and fmt.signed
            and fmt.bits_stored == 12):
        return "GDCM fails on signed 12-bit MONOCHROME1"
    return None


SPEC = BackendSpec(
    name="sitk",
    module="dicomio.backends.sitk_backend",
    requires=("SimpleITK",),
    distribution="SimpleITK",
    extra="sitk",
    summary="SimpleITK ImageSeriesReader (GDCM) on dicomio's sorted file list; its rescale "
            "and MONOCHROME1 inversion undone",
    syntaxes=_sitk_syntaxes,
    unable=_sitk_unable,
    files_only=True,
)


class Reader:
    """Read a series with SimpleITK's ImageSeriesReader."""

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        import SimpleITK as sitk

        files = [str(path) for path in series.files]
        reader = sitk.ImageSeriesReader()
        reader.SetImageIO("GDCMImageIO")
        reader.SetFileNames(files)
        if len({(f.slope, f.intercept) for f in series.frames}) > 1:
            # GDCM would cast every slice into the type chosen for the first one.
            reader.SetOutputPixelType(sitk.sitkFloat64)
        try:
            image = reader.Execute()
        except RuntimeError as exc:
            failing = _first_unreadable(series.files)
            raise BackendReadError(f"SimpleITK cannot read the series: {_itk_message(exc)}",
                                   path=failing) from None

        values = sitk.GetArrayViewFromImage(image)
        if values.shape != series.shape:
            raise BackendReadError(
                f"SimpleITK returned an image of shape {values.shape}, expected "
                f"{series.shape}", path=series.frames[0].path)
        out = np.empty(series.shape, dtype=volume_dtype(series, options))
        for k, frame in enumerate(series.frames):
            fmt = frame.header.pixel
            assert fmt is not None
            stored = stored_from_gdcm(values[k], frame, fmt)
            finish_frame(stored, fmt, out[k], slope=frame.slope, intercept=frame.intercept,
                         rescale=options.rescale, keep_high_bits=options.keep_high_bits)
        geometry = ReportedGeometry.from_xyz(image.GetOrigin(), image.GetSpacing(),
                                             image.GetDirection(),
                                             source="SimpleITK: the Image's origin, spacing "
                                                    "and direction")
        return ReadResult(out, decoders=(DECODER_NAME,),
                          warnings=ignored_decoder(options, DECODER_NAME),
                          reported_geometry=geometry)


def stored_from_gdcm(values: NDArray[Any], frame: Frame, fmt: PixelFormat) -> NDArray[Any]:
    """Recover a frame's stored bit patterns from what GDCM returned for it.

    Parameters
    ----------
    values
        GDCM's output for the frame: ``stored * slope + intercept`` in GDCM's type, after
        inverting MONOCHROME1.
    frame
        The frame, with the slope and intercept of its file.
    fmt
        Its pixel format.

    Raises
    ------
    BackendReadError
        The values are not ``stored * slope + intercept`` for integer stored values.
    """
    stored = np.array(values)  # a writable copy: dicomio.pixels.values works in place
    if fmt.samples_per_pixel > 1 or fmt.float_data:  # GDCM never rescales these
        return stored
    if frame.slope != 1 or frame.intercept != 0 or stored.dtype.kind == "f":
        exact = (stored.astype(np.float64) - frame.intercept) / frame.slope
        rounded = np.rint(exact)
        if not np.all(np.abs(exact - rounded) <= _INTEGRAL):
            raise BackendReadError(
                f"SimpleITK's values are not stored × {frame.slope:g} + {frame.intercept:g}: "
                f"GDCM applied a rescale dicomio cannot undo", path=frame.path)
        stored = rounded.astype(np.int64)
    if fmt.photometric_interpretation == "MONOCHROME1":
        # GDCM returned the bitwise complement within BitsStored (max - v, or -v - 1).
        stored = ~stored.astype(np.int64)
    return stored


def _itk_message(exc: Exception) -> str:
    """The useful last line of an ITK exception (the rest is ITK's source location)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _first_unreadable(files: Sequence[Path]) -> Path:
    """The first file SimpleITK cannot read alone (the series' first file if none)."""
    import SimpleITK as sitk

    for path in files:
        try:
            sitk.ReadImage(str(path), imageIO="GDCMImageIO")
        except RuntimeError:
            return path
    return files[0]
