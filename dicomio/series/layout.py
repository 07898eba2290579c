"""What a series is, as loading sees it: one volume, a 4-D series, a single image, or none.

:func:`lay_out` is the one place that decides. :func:`dicomio.load_volume` and
:func:`dicomio.load_4d` load what it lays out (or refuse what it cannot), and
:mod:`dicomio.validate` judges each series by the same layout, so a series that loads correctly
has no error and one that would load wrong or not at all has one.

The kinds:

``"volume"``
    A stack of slices at distinct positions (its geometry may still be irregular: missing
    slices, tilt...).
``"4d"``
    Every position holds the same number of images, and every volume has the same slice
    positions: several volumes ordered by a rule (:mod:`dicomio.geometry.fourd`).
``"repeated"``
    Images share positions but do not form complete volumes of the same slices, or volumes
    whose key (TemporalPositionIndex, DimensionIndexValues) differs between positions
    (``conflict``).
``"image"``
    One image without a usable position or orientation (a radiograph, an ultrasound frame, a
    secondary capture), or the frames of one multi-frame file of a kind that has no patient
    geometry (an ultrasound or angiography cine, a multi-frame secondary capture): it loads in
    stored frame order with a nominal affine.
``"unplaced"``
    Two images or more without a usable geometry, or images of a mosaic or enhanced file that
    could not be placed as the file says (taken as stored): where each lies is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from dicomio.dicom.frame import Frame
from dicomio.errors import InconsistentVolumeOrderError, RepeatedPositionsError
from dicomio.geometry.fourd import OrderConflict, mixed_image_types, split_volumes
from dicomio.geometry.stack import GeometryTolerances, StackGeometry, analyse_stack
from dicomio.series.info import SeriesInfo

__all__ = ["SeriesKind", "SeriesLayout", "lay_out", "not_volumes_error"]

SeriesKind = Literal["volume", "4d", "repeated", "image", "unplaced"]

# Notes saying a file's frames could not be placed as the file says (taken as stored instead).
_FRAMES_NOT_PLACED = frozenset({"FRAMES_AS_STORED", "INTERNAL_ERROR"})

# SOP classes of multi-frame images that carry no patient geometry by definition (cines and
# captures): their frames are a sequence in the file, not slices to place in space.
_CINE_SOP_CLASSES = frozenset({
    "1.2.840.10008.5.1.4.1.1.3.1",    # Ultrasound Multi-frame Image
    "1.2.840.10008.5.1.4.1.1.7.1",    # Multi-frame Single Bit Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.2",    # Multi-frame Grayscale Byte Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.3",    # Multi-frame Grayscale Word Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.4",    # Multi-frame True Color Secondary Capture
    "1.2.840.10008.5.1.4.1.1.12.1",   # X-Ray Angiographic Image
    "1.2.840.10008.5.1.4.1.1.12.2",   # X-Ray Radiofluoroscopic Image
    "1.2.840.10008.5.1.4.1.1.77.1.1.1",  # Video Endoscopic Image
    "1.2.840.10008.5.1.4.1.1.77.1.2.1",  # Video Microscopic Image
    "1.2.840.10008.5.1.4.1.1.77.1.4.1",  # Video Photographic Image
})


@dataclass(frozen=True)
class SeriesLayout:
    """How the images of a series form volumes.

    Attributes
    ----------
    kind
        See the module's description.
    volumes
        The frames of each volume, in slice order (one volume unless ``kind`` is ``"4d"``; the
        series' frames as sorted when it is ``"repeated"``).
    geometry
        The geometry each volume shares (None without a usable one, and for ``"repeated"``:
        images forming no volumes have no geometry to check, the stack of all of them is no
        volume's).
    rule, keys
        For a 4-D series: the key that ordered the volumes and its value for each.
    problem
        For ``"repeated"``: why the images are not one 4-D series; for ``"unplaced"`` and
        ``"image"``: why they cannot be placed.
    mixed_types
        For a 4-D series whose volumes differ in ImageType: how.
    as_stored
        The series is unplaced because the frames of a mosaic or enhanced file could not be
        placed as the file says, and were taken as stored.
    conflict
        For ``"repeated"``: the volumes are complete, but a volume's key differs between its
        positions (:class:`~dicomio.geometry.fourd.OrderConflict`).
    """

    kind: SeriesKind
    volumes: tuple[tuple[Frame, ...], ...]
    geometry: StackGeometry | None
    rule: str | None = None
    keys: tuple[Any, ...] = ()
    problem: str | None = None
    mixed_types: str | None = None
    as_stored: bool = False
    conflict: OrderConflict | None = None

    @property
    def frames(self) -> tuple[Frame, ...]:
        """Every frame, volume after volume: the order the pixels are read in."""
        return tuple(frame for volume in self.volumes for frame in volume)

    @property
    def n_volumes(self) -> int:
        return len(self.volumes) if self.kind == "4d" else 1

    def describe(self) -> str:
        """One sentence: what the series is."""
        if self.kind == "4d":
            return (f"4-D: {self.n_volumes} volumes of {len(self.volumes[0])} slices, "
                    f"ordered by {self.rule}")
        if self.kind == "repeated":
            return f"images share positions but are not a 4-D series: {self.problem}"
        if self.kind == "image":
            count = len(self.volumes[0])
            return ("a single image without patient geometry" if count == 1 else
                    f"a multi-frame image of {count} frames without patient geometry")
        if self.kind == "unplaced":
            return f"{len(self.volumes[0])} images that cannot be placed: {self.problem}"
        return f"a volume of {len(self.volumes[0])} slices"


def lay_out(series: SeriesInfo,
            tolerances: GeometryTolerances = GeometryTolerances()) -> SeriesLayout:
    """Decide what ``series`` is (see the module's description), from its headers only."""
    frames = tuple(series.frames)
    unplaced = next((n for n in series.notes if n.code in _FRAMES_NOT_PLACED), None)
    if unplaced is not None:  # a mosaic or enhanced file whose frames were taken as stored
        return SeriesLayout("unplaced", (frames,), series.geometry, problem=unplaced.message,
                            as_stored=True)
    if series.geometry is None:
        kind: SeriesKind = "image" if series.n_slices == 1 or _one_cine(series) else "unplaced"
        return SeriesLayout(kind, (frames,), None, problem=series.geometry_problem)
    if not any(i.code == "DUPLICATE_POSITION" for i in series.geometry.errors):
        return SeriesLayout("volume", (frames,), series.geometry)
    split = split_volumes(series, tolerances)
    problem = split.problem if split.problem is not None else \
        _not_shared(split.volumes, tolerances)
    if problem is not None:
        return SeriesLayout("repeated", (frames,), None, problem=problem,
                            conflict=split.conflict)
    if split.n_volumes == 1:  # tolerances looser than the scan's: the repeats merge
        return SeriesLayout("volume", split.volumes, series.geometry)
    head = split.volumes[0][0]
    assert head.orientation is not None and head.pixel_spacing is not None
    geometry = analyse_stack([f.position for f in split.volumes[0]],  # type: ignore[misc]
                             head.orientation, head.pixel_spacing,
                             slice_thickness=head.slice_thickness, tolerances=tolerances)
    return SeriesLayout("4d", split.volumes, geometry, split.rule, split.keys,
                        mixed_types=mixed_image_types(split))


def not_volumes_error(series: SeriesInfo, layout: SeriesLayout) -> RepeatedPositionsError:
    """The error of :func:`dicomio.load_4d` for a ``"repeated"`` layout: the images cannot be
    split into volumes (:class:`~dicomio.errors.InconsistentVolumeOrderError` naming the files
    that disagree, when the volumes are complete but not ordered alike)."""
    message = f"series {series.key} cannot be split into volumes: {layout.problem}"
    if layout.conflict is not None:
        return InconsistentVolumeOrderError(
            message, path=layout.conflict.files, issues=series.issues)
    return RepeatedPositionsError(message, path=series.frames[0].path, issues=series.issues)


def _one_cine(series: SeriesInfo) -> bool:
    """The frames all come from one multi-frame file of a kind without patient geometry."""
    header = series.frames[0].header
    return (len(series.files) == 1 and header.sop_class_uid in _CINE_SOP_CLASSES
            and header.position is None and header.orientation is None)


def _not_shared(volumes: tuple[tuple[Frame, ...], ...],
                tolerances: GeometryTolerances) -> str | None:
    """Why the volumes do not share their slice positions, or None when they do."""
    reference = np.asarray([f.position for f in volumes[0]], dtype=np.float64)
    for t, volume in enumerate(volumes[1:], start=1):
        positions = np.asarray([f.position for f in volume], dtype=np.float64)
        distance = float(np.max(np.linalg.norm(positions - reference, axis=1)))
        if distance > max(tolerances.duplicate, 1e-3):
            return (f"volume {t} does not have the slice positions of volume 0 (up to "
                    f"{distance:.3g} mm apart)")
    return None
