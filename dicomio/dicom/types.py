"""What dicomio knows of a file after one header read: plain data types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dicomio.dicom.source import MetadataSource, PathSource, Source
from dicomio.dicom.transfer_syntax import TransferSyntax, lookup

__all__ = ["FileHeader", "PixelFormat", "from_metadata", "stored_range"]

_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"


@dataclass(frozen=True, slots=True)
class PixelFormat:
    """The Image Pixel module: how one frame's stored values are laid out."""

    rows: int
    columns: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    pixel_representation: int
    samples_per_pixel: int = 1
    photometric_interpretation: str = "MONOCHROME2"
    planar_configuration: int = 0
    number_of_frames: int = 1
    float_data: bool = False

    @property
    def signed(self) -> bool:
        return self.pixel_representation == 1

    @property
    def stored_dtype(self) -> np.dtype[Any]:
        """NumPy dtype of the stored values (before masking), native byte order."""
        if self.float_data:
            return np.dtype(f"float{self.bits_allocated}")
        kind = "int" if self.signed else "uint"
        return np.dtype(f"{kind}{self.bits_allocated}")

    @property
    def frame_shape(self) -> tuple[int, ...]:
        if self.samples_per_pixel == 1:
            return (self.rows, self.columns)
        return (self.rows, self.columns, self.samples_per_pixel)

    @property
    def frame_nbytes(self) -> int:
        return self.rows * self.columns * self.samples_per_pixel * self.bits_allocated // 8


@dataclass(slots=True)
class FileHeader:
    """What dicomio knows about one file after reading its header once.

    Attribute values are already typed (floats, ints, tuples); absent attributes are ``None``
    or empty. The ``ge_*``, ``philips_*`` and ``uih_*`` attributes are the vendor-private
    values the conventions of :mod:`dicomio.series.vendor` read: GE PulseSequenceName
    (0019,109C), InternalPulseSequenceName (0019,109E), UserData12 (0019,10B3) and private
    image type (0043,102F); Philips DiffusionDirection (2001,1004) and MRScaleSlope
    (2005,100E); UIH NumberOfSliceInVolume (0065,1050). ``pixel_data_offset`` is the byte
    offset of the pixel data value in the file, and ``pixel_data_length`` its length (``None``
    for encapsulated data of undefined length). ``path`` names the file (for a member of an
    archive or a buffer in memory, the name its :class:`~dicomio.dicom.source.Source` gives);
    ``source`` is where its bytes are read from (None: the file ``path`` on disk), and
    :attr:`origin` gives it either way. A header read from metadata (:attr:`headers_only`)
    has no pixel data at hand: see :func:`from_metadata`.
    """

    path: Path
    transfer_syntax: TransferSyntax
    has_preamble: bool = True
    sop_class_uid: str = ""
    sop_instance_uid: str = ""
    study_uid: str = ""
    series_uid: str = ""
    frame_of_reference_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    modality: str = ""
    manufacturer: str = ""
    image_type: tuple[str, ...] = ()
    instance_number: int | None = None
    acquisition_number: int | None = None
    acquisition_time: str = ""
    content_time: str = ""
    temporal_position: int | None = None
    position: tuple[float, ...] | None = None
    orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, ...] | None = None
    slice_thickness: float | None = None
    spacing_between_slices: float | None = None
    gantry_tilt: float | None = None
    rescale_slope: float | None = None
    rescale_intercept: float | None = None
    rescale_type: str = ""
    window_center: float | None = None
    window_width: float | None = None
    pixel: PixelFormat | None = None
    pixel_data_tag: int | None = None
    pixel_data_offset: int | None = None
    pixel_data_length: int | None = None
    has_modality_lut: bool = False
    has_functional_groups: bool = False
    diffusion_directionality: str = ""
    ge_pulse_sequence: str = ""
    ge_internal_sequence: str = ""
    ge_user_data_12: float | None = None
    ge_image_type: int | None = None
    philips_diffusion_direction: str = ""
    philips_scale_slope: float | None = None
    uih_grid_slices: int | None = None
    file_size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    source: Source | None = None

    @property
    def origin(self) -> Source:
        """Where the file's bytes are read from."""
        return self.source if self.source is not None else PathSource(self.path)

    @property
    def on_disk(self) -> bool:
        """Whether the file is a file on disk that a toolkit can open by its name."""
        return self.source is None or self.source.on_disk

    @property
    def headers_only(self) -> bool:
        """Whether the header came from metadata, the pixel data not retrieved yet (a
        :class:`~dicomio.dicom.source.MetadataSource`): checks that need the pixel bytes
        (their length, the codec, the file's damage) skip such headers, and reading the
        pixels retrieves the instance first (:func:`dicomio.series.retrieve.with_pixel_data`).
        """
        return isinstance(self.source, MetadataSource)

    @property
    def is_dicomdir(self) -> bool:
        return self.sop_class_uid == _DICOMDIR_SOP_CLASS

    @property
    def has_pixel_data(self) -> bool:
        return self.pixel_data_tag is not None

    @property
    def encapsulated(self) -> bool:
        return self.pixel_data_length is None


#: The Pixel Data tag a header from metadata declares (its length and offset unknown).
_PIXEL_DATA = 0x7FE00010


def from_metadata(header: FileHeader, stored_syntax: str) -> FileHeader:
    """``header``, read from a data set built from metadata without its pixel data, saying
    what is known before the instance is retrieved.

    Its transfer syntax is ``stored_syntax`` when the metadata gave it, else
    :data:`~dicomio.dicom.transfer_syntax.NOT_RETRIEVED` (not the encoding of the bytes built
    here); an image (Rows, Columns and BitsAllocated present) has pixel data, of a length and
    at an offset not known yet (None): a compressed instance's metadata may hold no Pixel
    Data element at all, an uncompressed one's only a reference to it.
    """
    header.transfer_syntax = lookup(stored_syntax)
    if header.pixel is not None:
        header.pixel_data_tag = header.pixel_data_tag or _PIXEL_DATA
    header.pixel_data_offset = header.pixel_data_length = None
    return header


def stored_range(fmt: PixelFormat) -> tuple[int, int]:
    """Smallest and largest stored value that BitsStored and PixelRepresentation allow."""
    bits = fmt.bits_stored
    if fmt.signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1
