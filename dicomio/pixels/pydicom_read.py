"""One file's frames decoded by pydicom (``pydicom.dcmread`` + ``pydicom.pixels``) into the
slices of an output array.

The pydicom backend reads every file this way; the direct backend reads what it does not decode
itself (deflated data sets, colour needing YBR conversion) this way; and the all-zero guard
(:mod:`dicomio.pixels.zero_guard`) decodes its reference slice this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numpy.typing import NDArray

from dicomio.dicom.source import read_dataset
from dicomio.dicom.types import FileHeader
from dicomio.errors import CorruptDataError, DecoderFailedError, DicomIOError
from dicomio.pixels.encapsulated import EncodedPixels, is_decoder_failure
from dicomio.pixels.values import finish_frame

__all__ = ["Slot", "read_file_with_pydicom"]

#: Where one frame of a file goes: (frame index in its file, slice index in the output,
#: RescaleSlope, RescaleIntercept).
Slot = tuple[int, int, float, float]


def read_file_with_pydicom(
    header: FileHeader,
    slots: Sequence[Slot],
    out: NDArray[Any],
    plugin: str = "",
    *,
    rescale: bool,
    keep_high_bits: bool = False,
) -> str:
    """Decode the frames of one file with pydicom into their slices of ``out``.

    Parameters
    ----------
    plugin
        pydicom's decoding plugin (``""``: pydicom chooses).
    rescale, keep_high_bits
        As for :func:`~dicomio.pixels.values.finish_frame`, as the caller's read options say.

    Returns
    -------
    str
        The name of the decoder used.

    Raises
    ------
    CorruptDataError
        A frame is damaged, or pydicom cannot read the file.
    DecoderFailedError
        pydicom's plugin cannot decode a sound frame (another plugin may).
    """
    from pydicom.pixels import pixel_array

    fmt = header.pixel
    assert fmt is not None
    try:
        dataset = read_dataset(header.origin)
        # Damaged frames are refused before pydicom's plugins see them, as in the direct
        # backend: same checks, same errors.
        encoded = None if header.transfer_syntax.native or "PixelData" not in dataset \
            else EncodedPixels(header, dataset.PixelData)
        # pydicom masks the bits above BitsStored of some syntaxes, unless told not to.
        keep: dict[str, Any] = {"correct_unused_bits": False} if keep_high_bits else {}
        for index, k, slope, intercept in slots:
            if encoded is not None:
                encoded.checked_frame(index)
            try:
                decoded = pixel_array(dataset, index=index, decoding_plugin=plugin, **keep)
            except BaseException as exc:  # a sound frame (checked) this plugin cannot decode
                if not is_decoder_failure(exc):
                    raise
                raise DecoderFailedError(
                    f"cannot decode frame {index} with pydicom/{plugin or 'pydicom'}: "
                    f"{type(exc).__name__}: {exc}", path=header.path) from None
            finish_frame(decoded, fmt, out[k], slope=slope, intercept=intercept,
                         rescale=rescale, keep_high_bits=keep_high_bits)
    except DicomIOError:
        raise
    except BaseException as exc:  # plugins raise many types; Rust ones a BaseException panic
        if not is_decoder_failure(exc):
            raise
        raise CorruptDataError(f"pydicom cannot read the pixel data: {type(exc).__name__}: {exc}",
                               path=header.path) from None
    return f"pydicom/{plugin or 'pydicom'}"
