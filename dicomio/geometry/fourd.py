"""4-D series: several images at every slice position — time points, diffusion directions,
echoes — split into volumes.

A stack whose slices repeat positions is not one volume. When every position holds the same
number ``T`` of images, it is ``T`` volumes of the same slices, and the images at each position
are put in order by the first of these keys that every image has and that tells the images of
each position apart:

1. ``TemporalPositionIndex`` (enhanced files) or ``TemporalPositionIdentifier`` (classic);
2. ``DimensionIndexValues`` (enhanced files), compared as tuples;
3. acquisition time: ``FrameAcquisitionDateTime`` (enhanced) or ``AcquisitionDateTime`` /
   ``AcquisitionTime`` (classic);
4. ``InstanceNumber`` (then the frame number inside the file);
5. the stored order: file path, frame number, then mosaic tile — always distinct.

Volume ``t`` holds the ``t``-th image of every position. The key used is reported
(:attr:`TimeLayout.rule`), so the order can be checked against the protocol.

The first two keys name a volume (a time point, a diffusion direction, an echo): every image of
one volume carries the same value of them, at every position — of ``DimensionIndexValues``, the
indices that tell apart the images of a position (the others, such as the in-stack position,
follow the slice). When a volume holds different values, its positions were ordered
differently, and the volumes mix images of different time points: the series is refused
(:class:`OrderConflict`). Acquisition time and InstanceNumber are only sort keys: both differ
from slice to slice of one volume in a 2-D acquisition, so they are not checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dicomio.dicom.frame import Frame
from dicomio.geometry.conventions import slice_normal
from dicomio.geometry.stack import GeometryTolerances

if TYPE_CHECKING:  # a series is only described here, never built
    from dicomio.series.info import SeriesInfo

__all__ = ["IDENTITIES", "RULES", "OrderConflict", "TimeLayout", "split_volumes"]

Key = Callable[[Frame], Any]


def _temporal(frame: Frame) -> Any:
    return frame.temporal_index


def _dimensions(frame: Frame) -> Any:
    return frame.dimension_index or None


def _time(frame: Frame) -> Any:
    return frame.acquisition_time


def _instance(frame: Frame) -> Any:
    number = frame.header.instance_number
    return None if number is None else (number, frame.index)


def _stored(frame: Frame) -> Any:
    return (str(frame.path), frame.index, -1 if frame.tile is None else frame.tile.number)


#: The ordering keys, tried in this order: (name, key of one image).
RULES: tuple[tuple[str, Key], ...] = (
    ("TemporalPositionIndex/Identifier", _temporal),
    ("DimensionIndexValues", _dimensions),
    ("AcquisitionTime", _time),
    ("InstanceNumber", _instance),
    ("stored order", _stored),
)

#: The rules whose key names a volume, so that it must be one value at every position.
IDENTITIES = frozenset({"TemporalPositionIndex/Identifier", "DimensionIndexValues"})


@dataclass(frozen=True)
class OrderConflict:
    """Volumes whose ordering key is not one value at every slice position.

    Attributes
    ----------
    rule
        The key that ordered the images of each position (one of :data:`IDENTITIES`).
    volume
        The first volume (from 0) holding several values.
    common
        The value (the part of the key naming a volume) most of its slices hold.
    odd
        Its other slices: (slice index from 0, value, image) of each.
    frames
        The images holding another value than most of their volume, in every volume.
    n_volumes
        How many volumes hold several values.
    """

    rule: str
    volume: int
    common: Any
    odd: tuple[tuple[int, Any, Frame], ...]
    frames: tuple[Frame, ...]
    n_volumes: int

    @property
    def files(self) -> tuple[Path, ...]:
        """The files of ``frames``, each once."""
        return tuple(dict.fromkeys(frame.path for frame in self.frames))

    def describe(self) -> str:
        """One sentence naming the slices and files that disagree."""
        shown = ", ".join(f"{value} at slice {k} ({_named(frame)})"
                          for k, value, frame in self.odd[:3])
        more = f" and at {len(self.odd) - 3} more slice(s)" if len(self.odd) > 3 else ""
        return (f"the images of each position are not ordered alike: {self.rule} names a "
                f"volume, but volume {self.volume} has {self.common} at most of its slices "
                f"and {shown}{more}; {self.n_volumes} volume(s) mix images of different "
                f"volumes ({len(self.frames)} image(s) out of place)")


def _named(frame: Frame) -> str:
    """A file's name, and the frame's number (from 1) in a multi-frame file."""
    if frame.header.pixel is not None and frame.header.pixel.number_of_frames > 1:
        return f"{frame.path.name}, frame {frame.index + 1}"
    return frame.path.name


@dataclass(frozen=True)
class TimeLayout:
    """How the images of a 4-D series form volumes.

    Attributes
    ----------
    volumes
        One tuple of frames per volume, each in slice order (empty when there is a
        ``problem``).
    rule
        The key that ordered the images of each position (see :data:`RULES`).
    keys
        That key's value for the first slice of each volume.
    problem
        Why the images do not form complete volumes of one key each.
    conflict
        When that is because a volume's key differs between positions: where.
    """

    volumes: tuple[tuple[Frame, ...], ...]
    rule: str
    keys: tuple[Any, ...]
    problem: str | None = None
    conflict: OrderConflict | None = None

    @property
    def n_volumes(self) -> int:
        return len(self.volumes)

    def describe(self) -> str:
        """One sentence for error messages."""
        if self.problem is not None:
            return self.problem
        return (f"{self.n_volumes} volumes of {len(self.volumes[0])} slices, ordered by "
                f"{self.rule}")


def _positions(frames: Sequence[Frame], series: SeriesInfo,
               tolerances: GeometryTolerances) -> list[list[Frame]]:
    """The frames grouped by slice position (frames are sorted along the normal already)."""
    assert series.orientation is not None
    normal = slice_normal(series.orientation)
    groups: list[list[Frame]] = []
    last = -np.inf
    for frame in frames:
        assert frame.position is not None
        depth = float(np.asarray(frame.position) @ normal)
        if groups and depth - last < tolerances.duplicate:
            groups[-1].append(frame)
        else:
            groups.append([frame])
        last = depth
    return groups


def split_volumes(
    series: SeriesInfo, tolerances: GeometryTolerances = GeometryTolerances()
) -> TimeLayout:
    """Split a stack with repeated positions into volumes (see the module's rule).

    Returns a layout whose ``problem`` says why when the images do not form complete volumes
    (positions holding different numbers of images), or when a volume's key names different
    volumes at different positions (then ``conflict`` says where). A stack without repeated
    positions, or without geometry, is one volume (rule ``"single volume"``).
    """
    if series.geometry is None:  # nothing to split by: the frames as one volume
        return TimeLayout((tuple(series.frames),), "single volume", (None,))
    groups = _positions(series.frames, series, tolerances)
    counts = sorted({len(g) for g in groups})
    if len(counts) > 1:
        fewest = min(groups, key=len)
        where = np.asarray(fewest[0].position)
        return TimeLayout((), "", (), (
            f"the {len(groups)} positions hold different numbers of images ({counts[0]} to "
            f"{counts[-1]}; e.g. {len(fewest)} at {np.round(where, 3).tolist()}): incomplete "
            f"volumes, or several acquisitions of different extent in one series"))
    if counts == [1]:
        return TimeLayout((tuple(series.frames),), "single volume", (None,))
    rule, key = _choose_rule(groups)
    ordered = [sorted(g, key=key) for g in groups]
    volumes = tuple(tuple(g[t] for g in ordered) for t in range(counts[0]))
    conflict = _conflict(rule, key, groups, volumes)
    if conflict is not None:
        return TimeLayout((), rule, (), conflict.describe(), conflict)
    return TimeLayout(volumes, rule, tuple(key(v[0]) for v in volumes))


def _choose_rule(groups: Sequence[Sequence[Frame]]) -> tuple[str, Key]:
    """The first rule whose key every image has and that tells the images of each position
    apart; the stored order (distinct for distinct images) when none does."""
    for name, key in RULES:
        values = [[key(f) for f in g] for g in groups]
        if all(v is not None for g in values for v in g) and \
                all(len(set(map(_hashable, g))) == len(g) for g in values):
            return name, key
    return RULES[-1]


def _conflict(rule: str, key: Key, groups: Sequence[Sequence[Frame]],
              volumes: Sequence[Sequence[Frame]]) -> OrderConflict | None:
    """Where a volume's key, if ``rule`` names volumes, differs between its positions."""
    if rule not in IDENTITIES:
        return None
    name = _naming_indices(groups) if rule == "DimensionIndexValues" else key
    mixed: list[tuple[int, Any, tuple[tuple[int, Any, Frame], ...]]] = []
    for t, volume in enumerate(volumes):
        values = [name(frame) for frame in volume]
        common = Counter(values).most_common(1)[0][0]
        odd = tuple((k, value, frame) for k, (value, frame)
                    in enumerate(zip(values, volume, strict=True)) if value != common)
        if odd:
            mixed.append((t, common, odd))
    if not mixed:
        return None
    first, common, odd = mixed[0]
    frames = tuple(frame for _, _, found in mixed for _, _, frame in found)
    return OrderConflict(rule, first, common, odd, frames, len(mixed))


def _naming_indices(groups: Sequence[Sequence[Frame]]) -> Key:
    """The part of DimensionIndexValues naming a volume: the indices that tell apart the
    images of some position (those following the slice, such as the in-stack position, are
    one value at each position)."""
    width = max(len(f.dimension_index) for g in groups for f in g)

    def index(frame: Frame, i: int) -> int | None:
        return frame.dimension_index[i] if i < len(frame.dimension_index) else None

    naming = [i for i in range(width) if any(len({index(f, i) for f in g}) > 1 for g in groups)]
    return lambda frame: tuple(index(frame, i) for i in naming)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def mixed_image_types(layout: TimeLayout) -> str | None:
    """Describe how the volumes differ in ImageType/FrameType, or None if they do not."""
    types = {v[0].image_type for v in layout.volumes}
    if len(types) <= 1:
        return None
    shown = ", ".join("\\".join(t) for t in sorted(types))
    return f"the volumes differ in ImageType ({shown})"
