"""The transfer-syntax table: named constants that are the UIDs pydicom knows, families that
partition the compressed syntaxes, and no UID spelled anywhere else in dicomio."""

from __future__ import annotations

import re
from pathlib import Path

import pydicom.uid
import pytest

import dicomio
from dicomio.dicom import transfer_syntax as ts

# Our name -> pydicom.uid's name for the same syntax (pydicom 3.0 lacks the JPEG XL ones,
# JPIP and deflated frames; those are checked against PS3.6 values below).
PYDICOM_NAMES = {
    "IMPLICIT_VR_LITTLE_ENDIAN": "ImplicitVRLittleEndian",
    "EXPLICIT_VR_LITTLE_ENDIAN": "ExplicitVRLittleEndian",
    "DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN": "DeflatedExplicitVRLittleEndian",
    "EXPLICIT_VR_BIG_ENDIAN": "ExplicitVRBigEndian",
    "JPEG_BASELINE_8BIT": "JPEGBaseline8Bit",
    "JPEG_EXTENDED_12BIT": "JPEGExtended12Bit",
    "JPEG_LOSSLESS": "JPEGLossless",
    "JPEG_LOSSLESS_SV1": "JPEGLosslessSV1",
    "JPEG_LS_LOSSLESS": "JPEGLSLossless",
    "JPEG_LS_NEAR_LOSSLESS": "JPEGLSNearLossless",
    "JPEG2000_LOSSLESS": "JPEG2000Lossless",
    "JPEG2000": "JPEG2000",
    "HTJ2K_LOSSLESS": "HTJ2KLossless",
    "HTJ2K_LOSSLESS_RPCL": "HTJ2KLosslessRPCL",
    "HTJ2K": "HTJ2K",
    "RLE_LOSSLESS": "RLELossless",
    "MPEG2_MPML": "MPEG2MPML",
    "MPEG2_MPHL": "MPEG2MPHL",
    "MPEG4_HP41": "MPEG4HP41",
    "MPEG4_HP41_BD": "MPEG4HP41BD",
    "MPEG4_HP42_2D": "MPEG4HP422D",
    "MPEG4_HP42_3D": "MPEG4HP423D",
    "MPEG4_HP42_STEREO": "MPEG4HP42STEREO",
    "HEVC_MP51": "HEVCMP51",
    "HEVC_M10P51": "HEVCM10P51",
    "JPEG2000_MC_LOSSLESS": "JPEG2000MCLossless",
    "JPEG2000_MC": "JPEG2000MC",
}
# PS3.6 Table A-1, for those pydicom 3.0 does not name.
PS36 = {
    "JPIP_REFERENCED": "1.2.840.10008.1.2.4.94",
    "JPIP_REFERENCED_DEFLATE": "1.2.840.10008.1.2.4.95",
    "JPEG_XL_LOSSLESS": "1.2.840.10008.1.2.4.110",
    "JPEG_XL_JPEG_RECOMPRESSION": "1.2.840.10008.1.2.4.111",
    "JPEG_XL": "1.2.840.10008.1.2.4.112",
    "DEFLATED_IMAGE_FRAME_COMPRESSION": "1.2.840.10008.1.2.8.1",
}
CONSTANTS = {name: getattr(ts, name) for name in ts.__all__
             if isinstance(getattr(ts, name), str)}


@pytest.mark.parametrize("name", sorted(PYDICOM_NAMES))
def test_each_constant_is_pydicoms_uid(name: str) -> None:
    assert CONSTANTS[name] == getattr(pydicom.uid, PYDICOM_NAMES[name])


@pytest.mark.parametrize("name", sorted(PS36))
def test_the_newer_constants_are_ps36s_uids(name: str) -> None:
    assert CONSTANTS[name] == PS36[name]


def test_every_constant_is_in_the_table_and_the_table_has_nothing_else() -> None:
    assert set(CONSTANTS) == set(PYDICOM_NAMES) | set(PS36)
    assert sorted(CONSTANTS.values()) == sorted(ts.TRANSFER_SYNTAXES)


def test_families_are_pydicoms() -> None:
    uid = pydicom.uid
    assert set(uid.JPEGTransferSyntaxes) == ts.JPEG_FAMILY
    assert set(uid.JPEGLSTransferSyntaxes) == ts.JPEG_LS_FAMILY
    # pydicom's JPEG 2000 list also holds Part 2 (refused here) and HTJ2K (its own family).
    part_1 = set(uid.JPEG2000TransferSyntaxes) - {uid.JPEG2000MCLossless, uid.JPEG2000MC}
    assert part_1 == ts.JPEG2000_FAMILY | ts.HTJ2K_FAMILY
    assert not ts.JPEG2000_FAMILY & ts.HTJ2K_FAMILY


def test_the_supported_syntaxes_are_native_or_in_a_family() -> None:
    uid = pydicom.uid
    supported = {u for u, syntax in ts.TRANSFER_SYNTAXES.items() if syntax.supported}
    families = ts.JPEG_FAMILY | ts.JPEG_LS_FAMILY | ts.JPEG2000_FAMILY | ts.HTJ2K_FAMILY
    native = {uid.ImplicitVRLittleEndian, uid.ExplicitVRLittleEndian,
              uid.DeflatedExplicitVRLittleEndian, uid.ExplicitVRBigEndian}
    assert native == ts.NATIVE_SYNTAXES
    assert supported == native | families | {uid.RLELossless}


def test_an_unknown_uid_is_unsupported_and_never_native() -> None:
    unknown = ts.lookup("1.2.3.4")
    assert not unknown.supported and not unknown.native
    assert ts.lookup(ts.JPEG2000) is ts.TRANSFER_SYNTAXES[ts.JPEG2000]


_UID_LITERAL = re.compile(r"""["']1\.2\.840\.10008\.1\.2(?:\.[0-9.]+)?["']""")


def _spelled() -> set[str]:
    """The modules of dicomio, other than the table, that spell a transfer syntax UID."""
    package = Path(dicomio.__file__).parent
    table = Path(ts.__file__)
    return {path.relative_to(package).as_posix() for path in package.rglob("*.py")
            if path != table and _UID_LITERAL.search(path.read_text(encoding="utf-8"))}


def test_the_uid_pattern_finds_a_quoted_transfer_syntax_uid_only() -> None:
    assert _UID_LITERAL.search('uid = "1.2.840.10008.1.2.4.50"')
    assert _UID_LITERAL.search("x = '1.2.840.10008.1.2'")
    assert not _UID_LITERAL.search('sop = "1.2.840.10008.5.1.4.1.1.2"')
    assert not _UID_LITERAL.search('other = "1.2.840.10008.1.20.1"')


def test_no_transfer_syntax_uid_is_spelled_outside_the_table() -> None:
    assert sorted(_spelled()) == []
