"""The table of generated cases shared by the conformance suite and the load tests."""

from __future__ import annotations

from dataclasses import dataclass

from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec

OBLIQUE = (0.866025, 0.5, 0.0, -0.353553, 0.612372, 0.707107)
PRONE = (-1.0, 0.0, 0.0, 0.0, -1.0, 0.0)  # head first prone: rows and columns both reversed


@dataclass(frozen=True)
class Case:
    """One generated series and what the contract says of it."""

    id: str
    spec: SeriesSpec
    dtype: str            # dtype with rescale=True
    raw_dtype: str        # dtype with rescale=False
    tolerance: float = 0  # vs the truth: the codec's own error for lossy syntaxes
    naming: str = "uid"


BASE = SeriesSpec(shape=(7, 18, 26))

GEOMETRY_CASES = [
    Case("axial", BASE, "int16", "uint16"),
    Case("sagittal", BASE.with_(orientation=s.SAGITTAL), "int16", "uint16"),
    Case("coronal", BASE.with_(orientation=s.CORONAL), "int16", "uint16"),
    Case("oblique", BASE.with_(orientation=OBLIQUE), "int16", "uint16"),
    Case("reversed", BASE.with_(slice_spacing=-3.0), "int16", "uint16", naming="instance"),
    Case("non-square-anisotropic", BASE.with_(shape=(5, 9, 31), pixel_spacing=(0.4, 1.7)),
         "int16", "uint16"),
    Case("thick-slices-overlap", BASE.with_(slice_thickness=5.0, slice_spacing=2.0),
         "int16", "uint16"),
    Case("axial-prone", BASE.with_(orientation=PRONE), "int16", "uint16"),
    Case("oblique-reversed", BASE.with_(orientation=OBLIQUE, slice_spacing=-1.5),
         "int16", "uint16", naming="instance"),
    Case("single-slice", BASE.with_(shape=(1, 18, 26)), "int16", "uint16"),
]
PIXEL_CASES = [
    Case("signed", BASE.with_(signed=True, rescale_intercept=0), "int16", "int16"),
    Case("float-rescale", BASE.with_(rescale_slope=0.5, rescale_intercept=-100.25),
         "float32", "uint16"),
    Case("per-slice-rescale", BASE.with_(rescale_slope=[1, 2, 1, 0.5, 1, 3, 1],
                                         rescale_intercept=[0, -5, 3, 1, 0, 0, -1024]),
         "float32", "uint16"),
    Case("per-slice-intercepts", BASE.with_(rescale_intercept=[-1024, 0, -1024, 5, 0, 0, 1]),
         "int16", "uint16"),
    Case("per-slice-rescale-signed", BASE.with_(signed=True, rescale_slope=[1, 0.5, 1, 1, 2, 1, 1],
                                                rescale_intercept=[0, 0, -3, 0, 1, 0, 0]),
         "float32", "int16"),
    Case("8-bit", BASE.with_(bits_allocated=8, bits_stored=8, rescale_intercept=0),
         "uint8", "uint8"),
    Case("8-bit-signed", BASE.with_(bits_allocated=8, bits_stored=8, signed=True,
                                    rescale_intercept=0), "int8", "int8"),
    Case("12-bit-garbage-high-bits", BASE.with_(high_bit_garbage=True), "int16", "uint16"),
    Case("12-bit-signed-garbage", BASE.with_(high_bit_garbage=True, signed=True,
                                             rescale_intercept=0), "int16", "int16"),
    Case("16-bit", BASE.with_(bits_stored=16, rescale_intercept=0), "uint16", "uint16"),
    Case("16-bit-ct", BASE.with_(bits_stored=16, rescale_intercept=-1024), "int32", "uint16"),
    Case("16-bit-signed", BASE.with_(bits_stored=16, signed=True, rescale_intercept=-1024),
         "int32", "int16"),
    Case("ct-phantom", BASE.with_(content="ct", shape=(7, 40, 36)), "int16", "uint16"),
    Case("ct-phantom-jpeg-lossless", BASE.with_(content="ct", shape=(7, 40, 36),
                                                transfer_syntax=s.JPEG_LOSSLESS_SV1),
         "int16", "uint16"),
    Case("32-bit", BASE.with_(bits_allocated=32, bits_stored=32, rescale_intercept=0),
         "uint32", "uint32"),
    Case("24-bit-signed-garbage", BASE.with_(bits_allocated=32, bits_stored=24, signed=True,
                                             high_bit_garbage=True, rescale_intercept=-1024),
         "int32", "int32"),
    Case("rgb", BASE.with_(samples_per_pixel=3), "uint8", "uint8"),
    Case("rgb-planar", BASE.with_(samples_per_pixel=3, planar_configuration=1), "uint8", "uint8"),
]

# Lossy syntaxes: tolerance against the truth is the encoder's error (quality 92 JPEG, NEAR=2
# JPEG-LS, 40:1 JPEG 2000), not a decoder's.
_LOSSY_TOLERANCE = {s.JPEG_BASELINE: 24, s.JPEG_EXTENDED: 24, s.JPEG_LS_NEAR: 2, s.J2K: 300}
SYNTAX_CASES = []
for _syntax in s.ENCODABLE_SYNTAXES:
    _tolerance = _LOSSY_TOLERANCE.get(_syntax, 0)
    _name = _syntax.removeprefix("1.2.840.10008.")
    if _syntax == s.JPEG_BASELINE:
        SYNTAX_CASES.append(Case(f"ts-{_name}-8bit", BASE.with_(
            transfer_syntax=_syntax, bits_allocated=8, bits_stored=8, rescale_intercept=0),
            "uint8", "uint8", _tolerance))
        continue
    SYNTAX_CASES.append(Case(f"ts-{_name}", BASE.with_(transfer_syntax=_syntax),
                             "int16", "uint16", _tolerance))
    if _syntax not in (s.JPEG_EXTENDED,):
        SYNTAX_CASES.append(Case(f"ts-{_name}-signed", BASE.with_(
            transfer_syntax=_syntax, signed=True, rescale_intercept=0), "int16", "int16",
            _tolerance))
# The lossless codecs over their whole range: 16-bit signed (every bit used) and 8-bit.
for _syntax in (s.RLE, s.JPEG_LOSSLESS, s.JPEG_LOSSLESS_SV1, s.JPEG_LS, s.J2K_LOSSLESS,
                s.HTJ2K_LOSSLESS):
    _name = _syntax.removeprefix("1.2.840.10008.")
    SYNTAX_CASES += [
        Case(f"ts-{_name}-16bit-signed", BASE.with_(
            transfer_syntax=_syntax, bits_stored=16, signed=True, rescale_intercept=0),
            "int16", "int16"),
        Case(f"ts-{_name}-8bit", BASE.with_(
            transfer_syntax=_syntax, bits_allocated=8, bits_stored=8, rescale_intercept=0),
            "uint8", "uint8"),
    ]
SYNTAX_CASES += [
    Case("ts-rle-rgb", BASE.with_(transfer_syntax=s.RLE, samples_per_pixel=3), "uint8", "uint8"),
    Case("ts-j2k-rgb", BASE.with_(transfer_syntax=s.J2K_LOSSLESS, samples_per_pixel=3),
         "uint8", "uint8"),
    Case("ts-jpeg-baseline-rgb", BASE.with_(transfer_syntax=s.JPEG_BASELINE, samples_per_pixel=3),
         "uint8", "uint8", 24),
]

ALL_CASES = GEOMETRY_CASES + PIXEL_CASES + SYNTAX_CASES
