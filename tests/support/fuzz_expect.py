"""The oracle's stack: the images pydicom read, grouped, deduplicated, sorted and laid out.

The rules are those of docs/contract.md, docs/4d.md and docs/multiframe.md, written again with
NumPy: one stack per SeriesInstanceUID, SeriesNumber, image size, bit depth, pixel spacing,
FrameType and orientation (cosines within 1e-3); exact copies (same SOPInstanceUID, frame,
InstanceNumber and position) dropped; slices sorted by ascending ``position · normal``; images
sharing a position make a 4-D series when every position holds as many; without usable
geometry, stored order (InstanceNumber, path, frame, tile). Where the oracle's answer hangs on a
tolerance it is not sure of, it says so instead of guessing.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.fuzz_oracle import (
    DUPLICATE,
    LOSSY,
    ORIENTATION,
    Expectation,
    Plane,
    Unsure,
    read_folder,
)
from tests.support.fuzz_order import volume_order

Irregular = str  # "raise", "accept" or "resample"


def expect(folder: Path, irregular: Irregular = "accept") -> Expectation:
    """What a correct ``load_volume``/``load_4d`` of ``folder`` returns (or why unsure)."""
    try:
        planes, _ = read_folder(folder)
        return _stack(planes, irregular)
    except Unsure as exc:
        return Expectation(False, str(exc))
    except RecursionError:
        return Expectation(False, "pydicom recursed too deep")
    except MemoryError:
        return Expectation(False, "pydicom ran out of memory")


def _stack(planes: list[Plane], irregular: Irregular) -> Expectation:
    if not planes:
        raise Unsure("no image pydicom reads: a correct reader refuses")
    stacks = _split(_without_copies(planes))
    if len(stacks) > 1:
        raise Unsure(f"{len(stacks)} stacks: a correct reader refuses (MultipleSeriesError)")
    stack = stacks[0]
    dtypes = {p.dtype for p in stack}
    dtype = dtypes.pop() if len(dtypes) == 1 else None
    lossy = any(p.syntax in LOSSY for p in stack)
    placed = all(p.position is not None and p.orientation is not None
                 and p.spacing is not None for p in stack)
    if len(stack) == 1:
        return Expectation(True, "one image", [stack], dtype, placed, lossy)
    if not placed:
        ordered = sorted(stack, key=lambda p: (p.instance is None, p.instance or 0, p.file,
                                               p.frame, p.tile or 0))
        return Expectation(True, "no usable geometry: stored order", [[p] for p in ordered],
                           dtype, False, lossy, unplaced_refused=irregular != "accept")
    slices = _positions(stack)
    counts = {len(s) for s in slices}
    if len(counts) > 1:
        raise Unsure("positions holding different numbers of images: a correct reader refuses")
    if counts != {1} and irregular == "resample":
        raise Unsure("a 4-D series resampled")
    if irregular == "resample" and _irregular([s[0] for s in slices]):
        raise Unsure("an irregular stack, resampled")
    if counts == {1}:
        return Expectation(True, "one volume", slices, dtype, True, lossy)
    rule = volume_order(slices)
    reason = f"4-D, volumes ordered by {rule}" if rule else "4-D, volume order not judged"
    return Expectation(True, reason, slices, dtype, True, lossy, order_rule=rule)


def _without_copies(planes: list[Plane]) -> list[Plane]:
    kept: dict[tuple[Any, ...], list[Plane]] = defaultdict(list)
    unique = []
    for plane in planes:
        if not plane.sop_uid:
            unique.append(plane)
            continue
        same = kept[(plane.key[1], plane.sop_uid, plane.frame, plane.tile)]
        if any(_copy(other, plane) for other in same):
            continue
        same.append(plane)
        unique.append(plane)
    return unique


def _copy(first: Plane, other: Plane) -> bool:
    if first.values.shape != other.values.shape or first.instance != other.instance:
        return False
    if first.position is None or other.position is None:
        return first.position is None and other.position is None
    distance = float(np.max(np.abs(first.position - other.position)))
    if DUPLICATE / 2 < distance < DUPLICATE * 2:
        raise Unsure("copies of one image at positions near the duplicate tolerance")
    return distance <= DUPLICATE


def _split(planes: list[Plane]) -> list[list[Plane]]:
    """Stacks: same key, then orientation clusters (cosines within the tolerance)."""
    by_key: dict[tuple[Any, ...], list[Plane]] = defaultdict(list)
    for plane in planes:
        by_key[plane.key].append(plane)
    stacks = []
    for members in by_key.values():
        clusters: list[tuple[np.ndarray | None, list[Plane]]] = []
        for plane in members:
            for reference, cluster in clusters:
                if _same_orientation(reference, plane.orientation):
                    cluster.append(plane)
                    break
            else:
                clusters.append((plane.orientation, [plane]))
        stacks += [cluster for _, cluster in clusters]
    return stacks


def _same_orientation(first: np.ndarray | None, other: np.ndarray | None) -> bool:
    if first is None or other is None:
        return first is None and other is None
    difference = float(np.max(np.abs(first - other)))
    if ORIENTATION / 2 < difference < ORIENTATION * 2:
        raise Unsure("orientations that differ by about the tolerance")
    return difference <= ORIENTATION


def _positions(stack: list[Plane]) -> list[list[Plane]]:
    """The planes grouped by position, positions sorted along the normal."""
    normal = stack[0].normal
    depth = {id(p): float(p.position @ normal) for p in stack}  # type: ignore[operator]
    ordered = sorted(stack, key=lambda p: depth[id(p)])
    slices: list[list[Plane]] = [[ordered[0]]]
    for plane in ordered[1:]:
        previous = slices[-1][0]
        gap = depth[id(plane)] - depth[id(previous)]
        assert plane.position is not None and previous.position is not None
        apart = float(np.linalg.norm(plane.position - previous.position))
        if DUPLICATE / 2 < gap < DUPLICATE * 2 or DUPLICATE / 2 < apart < DUPLICATE * 2:
            raise Unsure("slices about the duplicate tolerance apart")
        if gap <= DUPLICATE:
            if apart > DUPLICATE:
                raise Unsure("images at one depth but different in-plane positions")
            slices[-1].append(plane)
        else:
            slices.append([plane])
    return slices


def _irregular(planes: list[Plane]) -> bool:
    """Gaps differing from their median by more than 1 % (and 0.01 mm), or positions drifting
    in plane by more than 0.1 pixel: what resampling changes. Near the limits: unsure."""
    if len(planes) < 2:
        return False
    points = np.asarray([p.position for p in planes], dtype=float)
    normal = planes[0].normal
    gaps = np.diff(points @ normal)
    spacing = float(np.median(gaps))
    off = np.abs(gaps - spacing) / max(spacing * 0.01, 0.01)
    drift = points - points[0] - np.outer(points @ normal - points[0] @ normal, normal)
    assert planes[0].spacing is not None
    pixels = float(np.max(np.linalg.norm(drift, axis=1))) / min(planes[0].spacing)
    measure = max(float(off.max()), pixels / 0.1)
    if 0.5 < measure < 2:
        raise Unsure("a stack near the irregularity tolerances, resampled")
    return measure >= 2
