"""Which codec library a decoder runs for a transfer syntax.

Decoders with different names often run the same library: imagecodecs, pylibjpeg-openjpeg and
GDCM all decode JPEG 2000 with OpenJPEG. Two backends that agree through one library have
checked that their wrappers agree, not that the compressed data is sound. The cross-check
(:mod:`dicomio.validate.checks`) names the libraries it really compared, from this table.
"""

from __future__ import annotations

from dicomio.dicom.transfer_syntax import (
    HTJ2K_FAMILY,
    JPEG2000,
    JPEG2000_LOSSLESS,
    JPEG_BASELINE_8BIT,
    JPEG_EXTENDED_12BIT,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    RLE_LOSSLESS,
    lookup,
)

__all__ = ["UNCOMPRESSED", "decoder_library"]

#: What "library" reads uncompressed pixel data: no decoder, only byte order and bit masks.
UNCOMPRESSED = "no codec (uncompressed)"

_FAMILY = {
    JPEG2000_LOSSLESS: "j2k", JPEG2000: "j2k", **{uid: "j2k" for uid in HTJ2K_FAMILY},
    JPEG_LS_LOSSLESS: "jls", JPEG_LS_NEAR_LOSSLESS: "jls",
    JPEG_LOSSLESS: "ljpeg", JPEG_LOSSLESS_SV1: "ljpeg",
    JPEG_BASELINE_8BIT: "jpeg", JPEG_EXTENDED_12BIT: "jpeg",
    RLE_LOSSLESS: "rle",
}

# (decoder, family) -> library. A decoder is named as in Provenance.decoders; pydicom's are
# "pydicom/<plugin>", dcm2niix's "dcm2niix <version>" (looked up as "dcm2niix"). dcm2niix's
# PyPI build says "(JP2:OpenJPEG) (JP-LS:CharLS)" in its help; lossless JPEG, lossy JPEG
# (without TurboJPEG: the bundled NanoJPEG) and RLE are decoded by its own sources.
_LIBRARIES = {
    ("imagecodecs", "j2k"): "OpenJPEG",
    ("imagecodecs", "jls"): "CharLS",
    ("imagecodecs", "ljpeg"): "libjpeg-turbo or liblj92 (imagecodecs)",
    ("imagecodecs", "rle"): "imagecodecs PackBits",
    ("pydicom/pylibjpeg", "j2k"): "OpenJPEG",
    ("pydicom/pylibjpeg", "jls"): "libjpeg (Thomas Richter)",
    ("pydicom/pylibjpeg", "ljpeg"): "libjpeg (Thomas Richter)",
    ("pydicom/pylibjpeg", "jpeg"): "libjpeg (Thomas Richter)",
    ("pydicom/pylibjpeg", "rle"): "pylibjpeg-rle",
    ("pydicom/pyjpegls", "jls"): "CharLS",
    ("pydicom/pillow", "j2k"): "OpenJPEG",
    ("pydicom/pillow", "jpeg"): "libjpeg-turbo (Pillow)",
    ("pydicom/pydicom", "rle"): "pydicom RLE (Python)",
    ("pydicom/gdcm", "j2k"): "OpenJPEG",
    ("pydicom/gdcm", "jls"): "CharLS",
    ("pydicom/gdcm", "ljpeg"): "IJG libjpeg (GDCM)",
    ("pydicom/gdcm", "jpeg"): "IJG libjpeg (GDCM)",
    ("pydicom/gdcm", "rle"): "GDCM RLE",
    ("SimpleITK/GDCM", "j2k"): "OpenJPEG",
    ("SimpleITK/GDCM", "jls"): "CharLS",
    ("SimpleITK/GDCM", "ljpeg"): "IJG libjpeg (GDCM)",
    ("SimpleITK/GDCM", "jpeg"): "IJG libjpeg (GDCM)",
    ("SimpleITK/GDCM", "rle"): "GDCM RLE",
    ("dcm2niix", "j2k"): "OpenJPEG",
    ("dcm2niix", "jls"): "CharLS",
    ("dcm2niix", "ljpeg"): "dcm2niix lossless JPEG (jpg_0XC3)",
    ("dcm2niix", "jpeg"): "NanoJPEG (dcm2niix)",
    ("dcm2niix", "rle"): "dcm2niix RLE",
}


def decoder_library(decoder: str, uid: str) -> str:
    """The library ``decoder`` runs for transfer syntax ``uid``.

    Uncompressed syntaxes give :data:`UNCOMPRESSED`; a pairing not in the table gives the
    decoder's own name (then it is counted as a library of its own).
    """
    if lookup(uid).native:
        return UNCOMPRESSED
    family = _FAMILY.get(uid)
    # A program's decoder carries its version ("dcm2niix v1.0.20240202"): its name is the key.
    name = "dcm2niix" if decoder.startswith("dcm2niix ") else decoder
    return _LIBRARIES.get((name, family), decoder) if family else decoder
