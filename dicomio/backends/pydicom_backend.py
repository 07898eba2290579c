"""The pydicom backend: ``pydicom.dcmread`` and ``pydicom.pixels``, one file after another.

It is the reference implementation of the contract: simple, and built only on pydicom 3's own
decoding (with the plugins it finds: pylibjpeg, gdcm, pyjpegls, pillow).
"""

from __future__ import annotations

import numpy as np

from dicomio.backends.base import BackendSpec, ReadOptions, ReadResult, slots_by_file, volume_dtype
from dicomio.pixels.decoders import choose_decoder, decodable_uids
from dicomio.pixels.pydicom_read import read_file_with_pydicom
from dicomio.series.info import SeriesInfo

__all__ = ["SPEC", "Reader"]


def _pydicom_unable(series: SeriesInfo) -> str | None:
    if series.pixel.bits_allocated == 1:  # segmentations: no stored dtype of 1 bit
        return "BitsAllocated 1 (bit-packed pixels, as in segmentations) is not supported"
    return None


SPEC = BackendSpec(
    name="pydicom",
    module="dicomio.backends.pydicom_backend",
    requires=("pydicom",),
    distribution="pydicom",
    extra=None,
    summary="pydicom.dcmread + pydicom.pixels, one file after another (plugins: pylibjpeg, "
            "gdcm, pyjpegls, pillow)",
    syntaxes=decodable_uids,
    unable=_pydicom_unable,
)


class Reader:
    """Read a series with pydicom."""

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        out = np.empty(series.shape, dtype=volume_dtype(series, options))
        used = set()
        for header, slots in slots_by_file(series):
            decoder = choose_decoder(header.transfer_syntax, header.pixel,
                                     prefer=_plugin_name(options.decoder), pydicom_only=True)
            plugin = (decoder.plugin or "") if decoder is not None else ""
            used.add(read_file_with_pydicom(header, slots, out, plugin,
                                            rescale=options.rescale,
                                            keep_high_bits=options.keep_high_bits))
        return ReadResult(out, decoders=tuple(sorted(used)))


def _plugin_name(decoder: str | None) -> str | None:
    """The pydicom backend only uses pydicom's plugins: ignore a request for imagecodecs."""
    if decoder is None or decoder == "imagecodecs":
        return None
    return decoder
