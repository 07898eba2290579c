"""The attributes dicomio reads from a header, and what each becomes in a :class:`FileHeader`.

:data:`WANTED` is the table: each tag the header walk (:mod:`dicomio.dicom.header`) keeps, with
the :class:`FileHeader` attribute it fills and the function converting its raw bytes. Every
other element is skipped unparsed. :func:`fill_header` converts the kept values.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dicomio.dicom.types import FileHeader, PixelFormat
from dicomio.errors import InvalidDicomError

__all__ = ["DOUBLE_FLOAT_PIXEL_DATA", "FLOAT_PIXEL_DATA", "NUMBER_OF_FRAMES", "PIXEL_DATA",
           "PIXEL_DATA_TAGS", "WANTED", "declared_frames", "fill_header", "text"]

PIXEL_DATA = 0x7FE00010
NUMBER_OF_FRAMES = 0x00280008
FLOAT_PIXEL_DATA = 0x7FE00008
DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009
#: Where a header walk stops: the pixel data, of integers or of floats.
PIXEL_DATA_TAGS = (PIXEL_DATA, FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA)


def text(raw: bytes, little: bool = True) -> str:
    """A text value: UTF-8 (or Latin-1), without its padding."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.strip(" \x00")


def _texts(raw: bytes, little: bool) -> tuple[str, ...]:
    return tuple(v.strip() for v in text(raw, little).split("\\"))


def _decimals(raw: bytes, little: bool) -> tuple[float, ...] | None:
    value = text(raw, little)
    if not value:
        return None
    # float() accepts "nan" and "inf": they are kept, and geometry checks report them.
    return tuple(map(float, value.split("\\")))


def _decimal(raw: bytes, little: bool) -> float | None:
    values = _decimals(raw, little)
    return values[0] if values else None


def _one_decimal(raw: bytes, little: bool) -> float | None:
    """A decimal whose value multiplicity is 1: several values are damage, not a choice
    (taking the first of them placed garbage mosaics 1 mm apart)."""
    values = _decimals(raw, little)
    return values[0] if values and len(values) == 1 else None


def _integer(raw: bytes, little: bool) -> int | None:
    value = _decimal(raw, little)
    return int(value) if value is not None and math.isfinite(value) else None


def declared_frames(raw: bytes) -> int:
    """The NumberOfFrames an IS value declares, as :func:`fill_header` reads it; 1 when it
    is invalid or below 1 (where ``fill_header`` refuses the file)."""
    try:
        return max(_integer(raw, True) or 1, 1)
    except ValueError:
        return 1


def _ushort(raw: bytes, little: bool) -> int | None:
    if len(raw) < 2:
        return None
    return int(struct.unpack_from("<H" if little else ">H", raw)[0])


def _present(raw: bytes, little: bool) -> bool:
    return True


def _short(raw: bytes, little: bool) -> int | None:
    """A signed short (SS), or its text where a converter wrote it as IS (two bytes that are
    digits, a sign or padding are text: no SS value the conventions read looks like that)."""
    if len(raw) == 2 and raw.strip(b" +-0123456789") != b"":
        return int(struct.unpack_from("<h" if little else ">h", raw)[0])
    return _integer(raw, little)


def _single_float(raw: bytes, little: bool) -> float | None:
    """An FL value (FD where 8 bytes long), or its text where a converter wrote it as DS; a
    value that is not finite is no value."""
    value: float | None
    if len(raw) in (4, 8):
        value = float(struct.unpack_from(("<" if little else ">") + ("f" if len(raw) == 4
                                                                    else "d"), raw)[0])
    else:
        value = _one_decimal(raw, little)
    return value if value is not None and math.isfinite(value) else None


_Converter = Callable[[bytes, bool], Any]


#: tag -> (FileHeader attribute, converter). Everything else in the header is skipped unparsed.
WANTED: dict[int, tuple[str, _Converter]] = {
    0x00080008: ("image_type", _texts),
    0x00080016: ("sop_class_uid", text),
    0x00080018: ("sop_instance_uid", text),
    0x00080032: ("acquisition_time", text),
    0x00080033: ("content_time", text),
    0x00080060: ("modality", text),
    0x00080070: ("manufacturer", text),
    0x0008103E: ("series_description", text),
    0x00180050: ("slice_thickness", _one_decimal),
    0x00180088: ("spacing_between_slices", _one_decimal),
    0x00181120: ("gantry_tilt", _decimal),
    0x00189075: ("diffusion_directionality", text),
    0x0020000D: ("study_uid", text),
    0x0020000E: ("series_uid", text),
    0x00200011: ("series_number", _integer),
    0x00200012: ("acquisition_number", _integer),
    0x00200013: ("instance_number", _integer),
    0x00200032: ("position", _decimals),
    0x00200037: ("orientation", _decimals),
    0x00200052: ("frame_of_reference_uid", text),
    0x00200100: ("temporal_position", _integer),
    0x00280002: ("samples_per_pixel", _ushort),
    0x00280004: ("photometric_interpretation", text),
    0x00280006: ("planar_configuration", _ushort),
    0x00280008: ("number_of_frames", _integer),
    0x00280010: ("rows", _ushort),
    0x00280011: ("columns", _ushort),
    0x00280030: ("pixel_spacing", _decimals),
    0x00280100: ("bits_allocated", _ushort),
    0x00280101: ("bits_stored", _ushort),
    0x00280102: ("high_bit", _ushort),
    0x00280103: ("pixel_representation", _ushort),
    0x00281050: ("window_center", _decimal),
    0x00281051: ("window_width", _decimal),
    0x00281052: ("rescale_intercept", _decimal),
    0x00281053: ("rescale_slope", _decimal),
    0x00281054: ("rescale_type", text),
    0x00283000: ("has_modality_lut", _present),
    0x52009229: ("has_functional_groups", _present),
    0x52009230: ("has_functional_groups", _present),
    # Vendor-private values the conventions of dicomio.series.vendor need (each vendor's
    # block is where that vendor writes it; the conventions check the Manufacturer).
    0x0019109C: ("ge_pulse_sequence", text),
    0x0019109E: ("ge_internal_sequence", text),
    0x001910B3: ("ge_user_data_12", _one_decimal),
    0x0043102F: ("ge_image_type", _short),
    0x20011004: ("philips_diffusion_direction", text),
    0x2005100E: ("philips_scale_slope", _single_float),
    0x00651050: ("uih_grid_slices", _integer),
}


_PIXEL_FORMAT_KEYS = frozenset({
    "rows", "columns", "bits_allocated", "bits_stored", "high_bit", "pixel_representation",
    "samples_per_pixel", "photometric_interpretation", "planar_configuration", "number_of_frames"})


def fill_header(header: FileHeader, raw: dict[int, bytes], little: bool, path: Path) -> None:
    """Set the attributes of ``header`` from the raw values of :data:`WANTED` tags.

    Raises
    ------
    InvalidDicomError
        A position, orientation, spacing or pixel-format value does not parse.
    """
    pixel_values: dict[str, Any] = {}
    for tag, value in raw.items():
        name, convert = WANTED[tag]
        try:
            converted = convert(value, little)
        except (ValueError, struct.error) as exc:
            if name in ("position", "orientation", "pixel_spacing") or name in _PIXEL_FORMAT_KEYS:
                raise InvalidDicomError(f"cannot parse {name} value {value[:64]!r}: {exc}",
                                        path=path) from None
            continue  # a malformed optional value is as good as absent
        if name in _PIXEL_FORMAT_KEYS:
            pixel_values[name] = converted
        elif converted is not None:
            setattr(header, name, converted)
    header.pixel = _pixel_format(pixel_values, header.pixel_data_tag)


def _pixel_format(values: dict[str, Any], pixel_tag: int | None) -> PixelFormat | None:
    rows, columns, bits = values.get("rows"), values.get("columns"), values.get("bits_allocated")
    if pixel_tag in (FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA):
        bits = 32 if pixel_tag == FLOAT_PIXEL_DATA else 64
        values = {**values, "bits_stored": bits, "high_bit": bits - 1, "pixel_representation": 0}
    if not rows or not columns or not bits:
        return None
    stored = values.get("bits_stored") or bits
    return PixelFormat(
        rows=rows,
        columns=columns,
        bits_allocated=bits,
        bits_stored=stored,
        # An absent HighBit is taken as the standard's layout (BitsStored - 1), not a conflict.
        high_bit=int(values["high_bit"]) if values.get("high_bit") is not None else stored - 1,
        pixel_representation=values.get("pixel_representation") or 0,
        samples_per_pixel=values.get("samples_per_pixel") or 1,
        photometric_interpretation=values.get("photometric_interpretation") or "MONOCHROME2",
        planar_configuration=values.get("planar_configuration") or 0,
        number_of_frames=max(values.get("number_of_frames") or 1, 1),
        float_data=pixel_tag in (FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA),
    )
