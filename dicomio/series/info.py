"""SeriesInfo: one stack of slices that can become one volume."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dicomio.dicom.frame import Frame
from dicomio.dicom.types import FileHeader, PixelFormat
from dicomio.geometry.stack import GeometryIssue, StackGeometry, orientation_label

__all__ = ["SeriesInfo", "SeriesNote"]


@dataclass(frozen=True)
class SeriesNote:
    """Something noticed while grouping the files of a series.

    Attributes
    ----------
    code
        What kind of thing: a finding code of :mod:`dicomio.validate.findings`
        (``DUPLICATE_FILE``, ``SHARED_SOP_INSTANCE_UID``, ``FRAMES_AS_STORED``,
        ``INTERNAL_ERROR``).
    message
        What was noticed, naming the files.
    files
        The files concerned.
    """

    code: str
    message: str
    files: tuple[Path, ...] = ()


@dataclass(frozen=True, eq=False)
class SeriesInfo:
    """One stack of slices that can become one volume.

    Attributes
    ----------
    uid, number, description, modality
        SeriesInstanceUID, SeriesNumber, SeriesDescription and Modality.
    frames
        The slices (a file's frame, or a mosaic's tile), sorted along the slice normal
        (duplicates removed).
    geometry
        Sorted positions, affine and geometric issues; ``None`` when the stack has no usable
        geometry (see ``geometry_problem``).
    stack, n_stacks
        Index of this stack among the stacks of its series, and how many there are.
    notes
        What was noticed while grouping (copies of a file dropped, ...), and the vendor
        conventions applied (:mod:`dicomio.series.vendor`).
    image_kind
        What kind of image the stack holds, when something says: ``"magnitude"``,
        ``"phase"``, ``"real"``, ``"imaginary"``, ``"fieldmap_hz"``, ``"trace"``, ``"adc"``,
        ``"fa"`` (see :data:`dicomio.series.vendor.KIND_NAMES`).
    polarity
        ``"forward"`` or ``"reversed"`` for the stacks of a GE ``epi_pepolar`` series (the
        reversed ones have their rows flipped back when read); else None.
    """

    uid: str
    number: int | None
    description: str
    modality: str
    frames: tuple[Frame, ...]
    geometry: StackGeometry | None
    geometry_problem: str | None = None
    stack: int = 0
    n_stacks: int = 1
    notes: tuple[SeriesNote, ...] = ()
    image_kind: str | None = None
    polarity: str | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """The messages of :attr:`notes` (what loading the series warns about)."""
        return tuple(note.message for note in self.notes)

    @property
    def key(self) -> str:
        """UID, with ``#stack`` appended when the series holds several stacks."""
        return self.uid if self.n_stacks == 1 else f"{self.uid}#{self.stack}"

    @property
    def pixel(self) -> PixelFormat:
        fmt = self.frames[0].header.pixel
        assert fmt is not None  # images without a pixel module are skipped in discover()
        return fmt

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """(rows, columns[, samples]) of one slice (a tile's, for a Siemens mosaic)."""
        return self.frames[0].shape

    @property
    def rows(self) -> int:
        return self.frame_shape[0]

    @property
    def columns(self) -> int:
        return self.frame_shape[1]

    @property
    def n_slices(self) -> int:
        return len(self.frames)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the volume: (slices, rows, columns[, samples])."""
        return (self.n_slices, *self.frame_shape)

    @property
    def image_type(self) -> tuple[str, ...]:
        """ImageType of the first image (its FrameType, for an enhanced frame)."""
        return self.frames[0].image_type

    @property
    def is_mosaic(self) -> bool:
        """The slices are tiles of Siemens mosaics (read whole, then cut)."""
        return self.frames[0].tile is not None

    @property
    def files(self) -> tuple[Path, ...]:
        """The files of the stack, in slice order, each once."""
        return tuple(dict.fromkeys(f.path for f in self.frames))

    @property
    def headers(self) -> tuple[FileHeader, ...]:
        return tuple({id(f.header): f.header for f in self.frames}.values())

    @property
    def transfer_syntaxes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.transfer_syntax.uid for h in self.headers))

    @property
    def orientation(self) -> tuple[float, ...] | None:
        return self.frames[0].orientation

    @property
    def orientation_label(self) -> str:
        return orientation_label(self.orientation)

    @property
    def spacing(self) -> tuple[float, float, float] | None:
        """Voxel spacing (slice, row, column) in mm, or None without geometry."""
        if self.geometry is None:
            return None
        return tuple(float(v) for v in np.linalg.norm(self.geometry.affine[:3, :3], axis=0))  # type: ignore[return-value]

    @property
    def issues(self) -> tuple[GeometryIssue, ...]:
        return self.geometry.issues if self.geometry is not None else ()

    @property
    def names(self) -> tuple[str, ...]:
        """What else selects this stack besides its key: ``uid#<image kind>`` and
        ``uid#<polarity>`` (``uid#fieldmap_hz``, ``uid#reversed``), when known."""
        return tuple(f"{self.uid}#{name}" for name in (self.image_kind, self.polarity) if name)

    def __repr__(self) -> str:
        named = "".join(f", {field}={value!r}" for field, value in (
            ("image_kind", self.image_kind), ("polarity", self.polarity)) if value)
        return (f"SeriesInfo(key={self.key!r}, number={self.number}, "
                f"description={self.description!r}, modality={self.modality!r}, "
                f"shape={self.shape}{named})")
