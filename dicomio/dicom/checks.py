"""Sanity checks on headers, before any pixel is read or any memory allocated.

A damaged or forged header can declare anything: 16 bits stored in 8 allocated, a rescale slope
of NaN, 65535 × 65535 pixels in a 2 MiB file. These checks turn each such contradiction into a
clear reason, so that discovery reports the file and loading refuses it instead of computing
garbage or allocating terabytes.
"""

from __future__ import annotations

import math

from dicomio.dicom.budgets import MAX_FRAMES, MIN_FRAME_BYTES, SMALL_FRAME_COUNT
from dicomio.dicom.types import FileHeader, PixelFormat, stored_range
from dicomio.errors import CorruptDataError

__all__ = ["check_pixel_data_size", "frames_problem", "header_problem", "pixel_data_excess",
           "pixel_format_problem"]

_BITS_ALLOCATED = (1, 8, 16, 32, 64)
# No real compressed frame shrinks below 1/2000 of its decoded size plus a small constant; a
# header declaring more than that is forged or damaged, and would make us allocate for nothing.
_MAX_COMPRESSION_RATIO = 2000
_SMALL_VOLUME = 64 << 20
_FLOAT64_MAX = 1.7976931348623157e308


def pixel_format_problem(fmt: PixelFormat) -> str | None:
    """Describe what is impossible in a pixel format, or return None."""
    if fmt.bits_allocated not in _BITS_ALLOCATED:
        return f"BitsAllocated {fmt.bits_allocated} is not one of {_BITS_ALLOCATED}"
    if not 1 <= fmt.bits_stored <= fmt.bits_allocated:
        return f"BitsStored {fmt.bits_stored} does not fit BitsAllocated {fmt.bits_allocated}"
    if fmt.bits_stored < fmt.bits_allocated and fmt.high_bit != fmt.bits_stored - 1:
        # Values are the low BitsStored bits only when HighBit is BitsStored - 1 (the one layout
        # the standard keeps): otherwise masking would keep bits the header does not vouch for.
        return (f"HighBit {fmt.high_bit} contradicts BitsStored {fmt.bits_stored} (the "
                f"standard requires HighBit = BitsStored - 1): which of the "
                f"{fmt.bits_allocated} allocated bits hold each value cannot be told")
    if fmt.pixel_representation not in (0, 1):
        return f"PixelRepresentation {fmt.pixel_representation} is neither 0 nor 1"
    if fmt.samples_per_pixel not in (1, 3, 4):
        return f"SamplesPerPixel {fmt.samples_per_pixel} is not 1, 3 or 4"
    if fmt.samples_per_pixel > 1 and fmt.planar_configuration not in (0, 1):
        return f"PlanarConfiguration {fmt.planar_configuration} is neither 0 nor 1"
    if fmt.samples_per_pixel > 1 and fmt.bits_allocated not in (8, 16):
        return f"colour with BitsAllocated {fmt.bits_allocated} is not supported"
    return None


def header_problem(header: FileHeader) -> str | None:
    """Describe what makes an image header unusable, or return None."""
    if header.pixel is not None:
        problem = pixel_format_problem(header.pixel)
        if problem:
            return problem
    for name in ("rescale_slope", "rescale_intercept"):
        value = getattr(header, name)
        if value is not None and not math.isfinite(value):
            return f"{name.replace('_', ' ').title().replace(' ', '')} is not finite: {value}"
    if header.rescale_slope == 0:
        return "RescaleSlope is 0: every value would be the intercept"
    frames = frames_problem(header)
    if frames:
        return frames
    if header.pixel is not None and not header.pixel.float_data:
        low, high = stored_range(header.pixel)
        slope = abs(header.rescale_slope or 1.0)
        if max(-low, high) * slope + abs(header.rescale_intercept or 0.0) > _FLOAT64_MAX:
            return (f"RescaleSlope {header.rescale_slope} and RescaleIntercept "
                    f"{header.rescale_intercept} overflow a float64 for {header.pixel.bits_stored}"
                    f"-bit values")
    return None


def frames_problem(header: FileHeader) -> str | None:
    """Describe a NumberOfFrames beyond what the file holds or what dicomio reads, or return None.

    NumberOfFrames must fit in the pixel data: each native frame needs its bytes, each
    encapsulated frame at least one 8-byte item (a forged count would otherwise make millions of
    frames). It is at most :data:`~dicomio.dicom.budgets.MAX_FRAMES`, and beyond
    :data:`~dicomio.dicom.budgets.SMALL_FRAME_COUNT` frames each needs at least
    :data:`~dicomio.dicom.budgets.MIN_FRAME_BYTES` of pixel data, so that the work on the frames
    stays in proportion to the file. The pixel data of a deflated file is the length its
    header read found inflated (see :mod:`dicomio.dicom.deflate`).
    """
    fmt = header.pixel
    if fmt is None or fmt.number_of_frames <= 1:
        return None
    frames = fmt.number_of_frames
    if frames > MAX_FRAMES:
        return (f"NumberOfFrames {frames} is more than the {MAX_FRAMES} frames dicomio reads "
                f"from one file (MAX_FRAMES)")
    if header.pixel_data_offset is not None:
        available = max(header.file_size - header.pixel_data_offset, 0)
    elif header.transfer_syntax.deflated:
        available = header.pixel_data_length or 0
    else:
        return None
    least = fmt.frame_nbytes if header.transfer_syntax.native else 8
    if frames * least > available:
        return (f"NumberOfFrames {frames} cannot fit in the {available} bytes of "
                f"pixel data the file holds")
    if frames > SMALL_FRAME_COUNT and frames * MIN_FRAME_BYTES > available:
        return (f"NumberOfFrames {frames} in {available} bytes of pixel data: beyond "
                f"{SMALL_FRAME_COUNT} frames dicomio needs at least {MIN_FRAME_BYTES} bytes "
                f"per frame (MIN_FRAME_BYTES)")
    return None


def pixel_data_excess(header: FileHeader) -> str | None:
    """Describe native pixel data longer than its declared frames need (beyond the one byte
    that pads an odd length), or return None.

    Such data is read as declared, the excess ignored; but the header is likely wrong (Rows,
    Columns, BitsAllocated or NumberOfFrames too small), and every frame after the first of a
    multi-frame file is then read from the wrong offset.
    """
    fmt = header.pixel
    if fmt is None or header.pixel_data_offset is None or not header.transfer_syntax.native:
        return None
    needed = fmt.frame_nbytes * fmt.number_of_frames
    declared = header.pixel_data_length or 0
    if declared - needed <= 1:
        return None
    return (f"{header.path}: pixel data is {declared} bytes, {declared - needed} more than its "
            f"{fmt.number_of_frames} frame(s) of {fmt.rows}x{fmt.columns}x"
            f"{fmt.samples_per_pixel} at {fmt.bits_allocated} bits need; the excess is ignored "
            f"(Rows, Columns, BitsAllocated or NumberOfFrames is likely wrong)")


def check_pixel_data_size(header: FileHeader) -> str | None:
    """Refuse pixel data that cannot hold what the header declares, before allocating for it.

    Returns a warning when native pixel data is longer than its frames need (the excess is
    ignored, as every toolkit does).

    Raises
    ------
    CorruptDataError
        Native pixel data shorter than Rows × Columns × frames (the element or the file), or
        encapsulated data implausibly small for the declared image.
    """
    fmt = header.pixel
    if fmt is None or header.pixel_data_offset is None:
        return None
    needed = fmt.frame_nbytes * fmt.number_of_frames
    available = max(header.file_size - header.pixel_data_offset, 0)
    if header.transfer_syntax.native:
        declared = header.pixel_data_length or 0
        if declared < needed:
            raise CorruptDataError(
                f"pixel data is {declared} bytes but {fmt.number_of_frames} frame(s) of "
                f"{fmt.rows}x{fmt.columns}x{fmt.samples_per_pixel} at {fmt.bits_allocated} "
                f"bits need {needed}", path=header.path)
        if available < needed:
            raise CorruptDataError(
                f"pixel data truncated: the file holds {available} of {needed} bytes",
                path=header.path)
        if declared > available:
            raise CorruptDataError(
                f"pixel data truncated or its length forged: the element declares {declared} "
                f"bytes, the file holds {available}", path=header.path)
        return pixel_data_excess(header)
    if needed > _SMALL_VOLUME and needed > available * _MAX_COMPRESSION_RATIO:
        raise CorruptDataError(
            f"the header declares {needed / 2**30:.1f} GiB of pixels but the file holds only "
            f"{available} bytes of compressed data: Rows, Columns or NumberOfFrames is wrong",
            path=header.path)
    return None
