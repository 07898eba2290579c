"""One 2-D image of a series: a single-frame file, a frame of a multi-frame file, or a tile of a
Siemens mosaic — with the geometry, rescale and timing that belong to that image alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from dicomio.dicom.types import FileHeader

__all__ = ["Frame", "Tile", "seconds"]


@dataclass(frozen=True)
class Tile:
    """Where one slice lies inside a Siemens mosaic.

    The mosaic is a grid of ``per_row`` × ``per_row`` tiles of ``rows`` × ``columns`` pixels,
    filled row by row; this slice is tile ``number`` (0-based).
    """

    number: int
    per_row: int
    rows: int
    columns: int

    def region(self) -> tuple[slice, slice]:
        """The (row, column) slices of the mosaic image that hold this tile."""
        top = (self.number // self.per_row) * self.rows
        left = (self.number % self.per_row) * self.columns
        return slice(top, top + self.rows), slice(left, left + self.columns)


@dataclass(frozen=True)
class Frame:
    """One 2-D image, as a backend reads it (``header``, ``index``) and as geometry sees it.

    Attributes
    ----------
    header
        The file holding the image.
    index
        Frame number in that file (0 for a single-frame file).
    position, orientation, pixel_spacing, slice_thickness
        ImagePositionPatient, ImageOrientationPatient, PixelSpacing and SliceThickness of this
        image (from the per-frame functional groups of an enhanced file, or corrected for the
        tile of a mosaic).
    rescale_slope, rescale_intercept
        This image's modality rescale (None: absent).
    frame_type
        The per-frame FrameType of an enhanced file (``()`` for classic images, whose ImageType
        is in ``header.image_type``).
    temporal_index
        TemporalPositionIndex (enhanced) or TemporalPositionIdentifier (classic), when present.
    acquisition_time
        FrameAcquisitionDateTime or AcquisitionDateTime/AcquisitionTime in seconds, for ordering.
    dimension_index
        DimensionIndexValues of an enhanced frame.
    tile
        Where the image lies inside a Siemens mosaic; None for ordinary images.
    rows_reversed
        The stored rows run against the column direction the header gives: a vendor
        convention says so where no standard attribute does (GE ``epi_pepolar``, see
        :mod:`dicomio.series.vendor`). The read stage flips them back.
    scale_slope
        Philips' private MRScaleSlope (2005,100E) of this image (None: absent), from which
        Philips' floating-point values are computed on request.
    diffusion_directionality
        DiffusionDirectionality (0018,9075) of this image (an enhanced frame's own), or "".
    """

    header: FileHeader
    index: int = 0
    position: tuple[float, ...] | None = None
    orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, ...] | None = None
    rescale_slope: float | None = None
    rescale_intercept: float | None = None
    slice_thickness: float | None = None
    frame_type: tuple[str, ...] = ()
    temporal_index: int | None = None
    acquisition_time: float | None = None
    dimension_index: tuple[int, ...] = ()
    tile: Tile | None = None
    rows_reversed: bool = False
    scale_slope: float | None = None
    diffusion_directionality: str = ""

    @property
    def path(self) -> Path:
        return self.header.path

    @property
    def slope(self) -> float:
        return 1.0 if self.rescale_slope is None else self.rescale_slope

    @property
    def intercept(self) -> float:
        return 0.0 if self.rescale_intercept is None else self.rescale_intercept

    @property
    def image_type(self) -> tuple[str, ...]:
        """FrameType of an enhanced frame, else the file's ImageType."""
        return self.frame_type or self.header.image_type

    @property
    def shape(self) -> tuple[int, ...]:
        """(rows, columns[, samples]) of this image (a tile's, for a mosaic)."""
        fmt = self.header.pixel
        assert fmt is not None  # images without a pixel module never become frames
        if self.tile is None:
            return fmt.frame_shape
        return (self.tile.rows, self.tile.columns, *fmt.frame_shape[2:])

    @property
    def stored(self) -> tuple[int, int]:
        """Identity of the stored image a backend decodes: (id of the header, frame index)."""
        return (id(self.header), self.index)

    @classmethod
    def single(cls, header: FileHeader) -> Frame:
        """The frame of a classic single-frame image, described by its file header."""
        return cls(header, 0, header.position, header.orientation, header.pixel_spacing,
                   header.rescale_slope, header.rescale_intercept, header.slice_thickness,
                   temporal_index=header.temporal_position,
                   acquisition_time=seconds(header.acquisition_time),
                   scale_slope=header.philips_scale_slope,
                   diffusion_directionality=header.diffusion_directionality)


def seconds(value: str | None) -> float | None:
    """A DICOM TM (``HHMMSS.ffffff``) or DT (``YYYYMMDDHHMMSS.ffffff``) value in seconds.

    TM values count from midnight, DT values from the epoch: compare like with like. Returns
    None for an empty or malformed value.
    """
    text = (value or "").strip().split("+")[0].split("-")[0]
    if not text:
        return None
    whole, _, fraction = text.partition(".")
    try:
        if fraction and not fraction.isdigit():
            raise ValueError(fraction)
        extra = float(f"0.{fraction}") if fraction else 0.0
        if len(whole) > 6:  # a DT: date then time, each part optional after the year
            stamp = dt.datetime.strptime(whole[:14].ljust(14, "0"), "%Y%m%d%H%M%S")
            return stamp.replace(tzinfo=dt.timezone.utc).timestamp() + extra
        whole = whole.ljust(6, "0")
        hours, minutes, secs = int(whole[:2]), int(whole[2:4]), int(whole[4:6])
    except (ValueError, OverflowError):  # not a time, or a date beyond the calendar
        return None
    return hours * 3600.0 + minutes * 60.0 + secs + extra
