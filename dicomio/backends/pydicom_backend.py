"""The pydicom backend: ``pydicom.dcmread`` and ``pydicom.pixels``, one file after another.

It is the reference implementation of the contract: simple, and built only on pydicom 3's own
decoding (with the plugins it finds: pylibjpeg, gdcm, pyjpegls, pillow).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.backends.base import ReadOptions, ReadResult, Slot, slots_by_file, volume_dtype
from dicomio.dicom.types import FileHeader
from dicomio.errors import CorruptDataError, DicomIOError
from dicomio.pixels.decoders import EncodedPixels, choose_decoder, is_decoder_failure
from dicomio.pixels.values import finish_frame
from dicomio.series.info import SeriesInfo

__all__ = ["Reader", "read_file_with_pydicom"]

def read_file_with_pydicom(
    header: FileHeader,
    slots: Sequence[Slot],
    out: NDArray[Any],
    options: ReadOptions,
    plugin: str = "",
) -> str:
    """Decode the frames of one file with pydicom into their slices of ``out``.

    Returns the name of the decoder used.
    """
    import pydicom
    from pydicom.pixels import pixel_array

    fmt = header.pixel
    assert fmt is not None
    try:
        dataset = pydicom.dcmread(header.path)
        # Damaged frames are refused before pydicom's plugins see them, as in the direct
        # backend: same checks, same errors.
        encoded = None if header.transfer_syntax.native or "PixelData" not in dataset \
            else EncodedPixels(header, dataset.PixelData)
        for index, k, slope, intercept in slots:
            if encoded is not None:
                encoded.checked_frame(index)
            # pydicom masks the bits above BitsStored too, unless told to keep them.
            raw: dict[str, Any] = {"correct_unused_bits": False} \
                if options.keep_high_bits else {}
            decoded = pixel_array(dataset, index=index, decoding_plugin=plugin, **raw)
            finish_frame(decoded, fmt, out[k], slope=slope, intercept=intercept,
                         rescale=options.rescale, keep_high_bits=options.keep_high_bits)
    except DicomIOError:
        raise
    except BaseException as exc:  # plugins raise many types; Rust ones a BaseException panic
        if not is_decoder_failure(exc):
            raise
        raise CorruptDataError(f"pydicom cannot read the pixel data: {type(exc).__name__}: {exc}",
                               path=header.path) from None
    return f"pydicom/{plugin or 'pydicom'}"


class Reader:
    """Read a series with pydicom."""

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        out = np.empty(series.shape, dtype=volume_dtype(series, options))
        used = set()
        for header, slots in slots_by_file(series):
            decoder = choose_decoder(header.transfer_syntax, header.pixel,
                                     prefer=_plugin_name(options.decoder), pydicom_only=True)
            plugin = decoder.name.removeprefix("pydicom/") if decoder else ""
            used.add(read_file_with_pydicom(header, slots, out, options, plugin))
        return ReadResult(out, decoders=tuple(sorted(used)))


def _plugin_name(decoder: str | None) -> str | None:
    """The pydicom backend only uses pydicom's plugins: ignore a request for imagecodecs."""
    if decoder is None or decoder == "imagecodecs":
        return None
    return decoder
