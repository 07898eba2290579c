"""The transfer syntaxes dicomio knows, as data: every UID a named constant, and one table.

The names follow :mod:`pydicom.uid` (``JPEGLosslessSV1`` is :data:`JPEG_LOSSLESS_SV1` here).
No other module of dicomio spells a transfer syntax UID: they use these constants, the
families below, or :data:`TRANSFER_SYNTAXES`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN",
    "DEFLATED_IMAGE_FRAME_COMPRESSION",
    "EXPLICIT_VR_BIG_ENDIAN",
    "EXPLICIT_VR_LITTLE_ENDIAN",
    "HEVC_M10P51",
    "HEVC_MP51",
    "HTJ2K",
    "HTJ2K_FAMILY",
    "HTJ2K_LOSSLESS",
    "HTJ2K_LOSSLESS_RPCL",
    "IMPLICIT_VR_LITTLE_ENDIAN",
    "JPEG2000",
    "JPEG2000_FAMILY",
    "JPEG2000_LOSSLESS",
    "JPEG2000_MC",
    "JPEG2000_MC_LOSSLESS",
    "JPEG_BASELINE_8BIT",
    "JPEG_EXTENDED_12BIT",
    "JPEG_FAMILY",
    "JPEG_LOSSLESS",
    "JPEG_LOSSLESS_SV1",
    "JPEG_LS_FAMILY",
    "JPEG_LS_LOSSLESS",
    "JPEG_LS_NEAR_LOSSLESS",
    "JPEG_XL",
    "JPEG_XL_JPEG_RECOMPRESSION",
    "JPEG_XL_LOSSLESS",
    "JPIP_REFERENCED",
    "JPIP_REFERENCED_DEFLATE",
    "MPEG2_MPHL",
    "MPEG2_MPML",
    "MPEG4_HP41",
    "MPEG4_HP41_BD",
    "MPEG4_HP42_2D",
    "MPEG4_HP42_3D",
    "MPEG4_HP42_STEREO",
    "NATIVE_SYNTAXES",
    "NOT_RETRIEVED",
    "RLE_LOSSLESS",
    "TRANSFER_SYNTAXES",
    "TransferSyntax",
    "lookup",
]

# Uncompressed (native) pixel data.
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
# Compressed image syntaxes dicomio decodes.
JPEG_BASELINE_8BIT = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED_12BIT = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_LS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81"
JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG2000 = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_LOSSLESS_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
# Known, and refused: video, JPEG 2000 Part 2, JPIP references, JPEG XL, deflated frames.
MPEG2_MPML = "1.2.840.10008.1.2.4.100"
MPEG2_MPHL = "1.2.840.10008.1.2.4.101"
MPEG4_HP41 = "1.2.840.10008.1.2.4.102"
MPEG4_HP41_BD = "1.2.840.10008.1.2.4.103"
MPEG4_HP42_2D = "1.2.840.10008.1.2.4.104"
MPEG4_HP42_3D = "1.2.840.10008.1.2.4.105"
MPEG4_HP42_STEREO = "1.2.840.10008.1.2.4.106"
HEVC_MP51 = "1.2.840.10008.1.2.4.107"
HEVC_M10P51 = "1.2.840.10008.1.2.4.108"
JPEG2000_MC_LOSSLESS = "1.2.840.10008.1.2.4.92"
JPEG2000_MC = "1.2.840.10008.1.2.4.93"
JPIP_REFERENCED = "1.2.840.10008.1.2.4.94"
JPIP_REFERENCED_DEFLATE = "1.2.840.10008.1.2.4.95"
JPEG_XL_LOSSLESS = "1.2.840.10008.1.2.4.110"
JPEG_XL_JPEG_RECOMPRESSION = "1.2.840.10008.1.2.4.111"
JPEG_XL = "1.2.840.10008.1.2.4.112"
DEFLATED_IMAGE_FRAME_COMPRESSION = "1.2.840.10008.1.2.8.1"

#: ISO 10918 JPEG: DCT (lossy) and lossless (Process 14) streams.
JPEG_FAMILY = frozenset({JPEG_BASELINE_8BIT, JPEG_EXTENDED_12BIT, JPEG_LOSSLESS,
                         JPEG_LOSSLESS_SV1})
#: JPEG-LS (ISO 14495): JPEG markers, its own frame header (SOF55).
JPEG_LS_FAMILY = frozenset({JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS})
#: JPEG 2000 Part 1 (ISO 15444-1) codestreams.
JPEG2000_FAMILY = frozenset({JPEG2000_LOSSLESS, JPEG2000})
#: High-Throughput JPEG 2000 (ISO 15444-15): a JPEG 2000 codestream with HT code-blocks.
HTJ2K_FAMILY = frozenset({HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL, HTJ2K})


@dataclass(frozen=True)
class TransferSyntax:
    """How a DICOM data set and its pixel data are encoded.

    Attributes
    ----------
    uid, name
        The UID and its name in PS3.6.
    encapsulated
        Pixel data is a sequence of compressed fragments.
    lossy
        The compression may lose information, so decoders may legitimately disagree.
    supported
        dicomio can decode it (video and other image codecs are known but refused).
    little_endian, implicit_vr, deflated
        How the data set itself is encoded.
    """

    uid: str
    name: str
    encapsulated: bool = False
    lossy: bool = False
    supported: bool = True
    little_endian: bool = True
    implicit_vr: bool = False
    deflated: bool = False

    @property
    def native(self) -> bool:
        """Pixel data is stored uncompressed."""
        return not self.encapsulated

    def __str__(self) -> str:
        return f"{self.name} ({self.uid})" if self.uid else self.name


def _syntaxes() -> dict[str, TransferSyntax]:
    ts = TransferSyntax
    table = [
        ts(IMPLICIT_VR_LITTLE_ENDIAN, "Implicit VR Little Endian", implicit_vr=True),
        ts(EXPLICIT_VR_LITTLE_ENDIAN, "Explicit VR Little Endian"),
        ts(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, "Deflated Explicit VR Little Endian",
           deflated=True),
        ts(EXPLICIT_VR_BIG_ENDIAN, "Explicit VR Big Endian", little_endian=False),
        ts(JPEG_BASELINE_8BIT, "JPEG Baseline (Process 1)", True, lossy=True),
        ts(JPEG_EXTENDED_12BIT, "JPEG Extended (Process 2 & 4)", True, lossy=True),
        ts(JPEG_LOSSLESS, "JPEG Lossless (Process 14)", True),
        ts(JPEG_LOSSLESS_SV1, "JPEG Lossless SV1 (Process 14, Selection Value 1)", True),
        ts(JPEG_LS_LOSSLESS, "JPEG-LS Lossless", True),
        ts(JPEG_LS_NEAR_LOSSLESS, "JPEG-LS Near-Lossless", True, lossy=True),
        ts(JPEG2000_LOSSLESS, "JPEG 2000 Lossless", True),
        ts(JPEG2000, "JPEG 2000", True, lossy=True),
        ts(HTJ2K_LOSSLESS, "HTJ2K Lossless", True),
        ts(HTJ2K_LOSSLESS_RPCL, "HTJ2K Lossless RPCL", True),
        ts(HTJ2K, "HTJ2K", True, lossy=True),
        ts(RLE_LOSSLESS, "RLE Lossless", True),
    ]
    refused = [
        (MPEG2_MPML, "MPEG2 Main Profile / Main Level"),
        (MPEG2_MPHL, "MPEG2 Main Profile / High Level"),
        (MPEG4_HP41, "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
        (MPEG4_HP41_BD, "MPEG-4 AVC/H.264 BD-compatible High Profile"),
        (MPEG4_HP42_2D, "MPEG-4 AVC/H.264 High Profile For 2D Video"),
        (MPEG4_HP42_3D, "MPEG-4 AVC/H.264 High Profile For 3D Video"),
        (MPEG4_HP42_STEREO, "MPEG-4 AVC/H.264 Stereo High Profile"),
        (HEVC_MP51, "HEVC/H.265 Main Profile"),
        (HEVC_M10P51, "HEVC/H.265 Main 10 Profile"),
        (JPEG2000_MC_LOSSLESS, "JPEG 2000 Part 2 Multi-component (Lossless Only)"),
        (JPEG2000_MC, "JPEG 2000 Part 2 Multi-component"),
        (JPIP_REFERENCED, "JPIP Referenced"),
        (JPIP_REFERENCED_DEFLATE, "JPIP Referenced Deflate"),
        (JPEG_XL_LOSSLESS, "JPEG XL Lossless"),
        (JPEG_XL_JPEG_RECOMPRESSION, "JPEG XL JPEG Recompression"),
        (JPEG_XL, "JPEG XL"),
        (DEFLATED_IMAGE_FRAME_COMPRESSION, "Deflated Image Frame Compression"),
    ]
    table += [ts(uid, name, True, supported=False) for uid, name in refused]
    return {t.uid: t for t in table}


TRANSFER_SYNTAXES: dict[str, TransferSyntax] = _syntaxes()
#: The supported syntaxes whose pixel data is stored uncompressed.
NATIVE_SYNTAXES = frozenset(uid for uid, ts in TRANSFER_SYNTAXES.items()
                            if ts.supported and ts.native)


#: The transfer syntax of an instance whose header came from metadata (a DICOMweb service's
#: WADO-RS metadata) that does not say it: known only once the instance is retrieved. Its UID
#: is empty; nothing decodes it (its pixel data is not at hand either).
NOT_RETRIEVED = TransferSyntax("", "not known before retrieval", encapsulated=True,
                               supported=False)


def lookup(uid: str) -> TransferSyntax:
    """Return the :class:`TransferSyntax` for ``uid``; unknown UIDs are marked unsupported.

    An unknown UID is assumed to be encapsulated (as every syntax defined since 2000 is), so it is
    never read as native pixel data. The empty UID is :data:`NOT_RETRIEVED` (a file's header
    walk never gives it: a file without (0002,0010) is read as the bytes show).
    """
    if not uid:
        return NOT_RETRIEVED
    found = TRANSFER_SYNTAXES.get(uid)
    if found is None:
        return TransferSyntax(uid, f"unknown transfer syntax {uid}", True, supported=False)
    return found
