"""The transfer syntaxes dicomio knows, as data."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IMPLICIT_VR_LITTLE_ENDIAN", "TRANSFER_SYNTAXES", "TransferSyntax", "lookup"]

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"


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
        return f"{self.name} ({self.uid})"


def _syntaxes() -> dict[str, TransferSyntax]:
    ts = TransferSyntax
    table = [
        ts(IMPLICIT_VR_LITTLE_ENDIAN, "Implicit VR Little Endian", implicit_vr=True),
        ts("1.2.840.10008.1.2.1", "Explicit VR Little Endian"),
        ts("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", deflated=True),
        ts("1.2.840.10008.1.2.2", "Explicit VR Big Endian", little_endian=False),
        ts("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", True, lossy=True),
        ts("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", True, lossy=True),
        ts("1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)", True),
        ts("1.2.840.10008.1.2.4.70", "JPEG Lossless SV1 (Process 14, Selection Value 1)", True),
        ts("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", True),
        ts("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", True, lossy=True),
        ts("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless", True),
        ts("1.2.840.10008.1.2.4.91", "JPEG 2000", True, lossy=True),
        ts("1.2.840.10008.1.2.4.201", "HTJ2K Lossless", True),
        ts("1.2.840.10008.1.2.4.202", "HTJ2K Lossless RPCL", True),
        ts("1.2.840.10008.1.2.4.203", "HTJ2K", True, lossy=True),
        ts("1.2.840.10008.1.2.5", "RLE Lossless", True),
    ]
    refused = [
        ("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
        ("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level"),
        ("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
        ("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile"),
        ("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile For 2D Video"),
        ("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile For 3D Video"),
        ("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile"),
        ("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile"),
        ("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile"),
        ("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)"),
        ("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component"),
        ("1.2.840.10008.1.2.4.94", "JPIP Referenced"),
        ("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate"),
        ("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
        ("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
        ("1.2.840.10008.1.2.4.112", "JPEG XL"),
        ("1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression"),
    ]
    table += [ts(uid, name, True, supported=False) for uid, name in refused]
    return {t.uid: t for t in table}


TRANSFER_SYNTAXES: dict[str, TransferSyntax] = _syntaxes()


def lookup(uid: str) -> TransferSyntax:
    """Return the :class:`TransferSyntax` for ``uid``; unknown UIDs are marked unsupported.

    An unknown UID is assumed to be encapsulated (as every syntax defined since 2000 is), so it is
    never read as native pixel data.
    """
    found = TRANSFER_SYNTAXES.get(uid)
    if found is None:
        return TransferSyntax(uid, f"unknown transfer syntax {uid}", True, supported=False)
    return found
