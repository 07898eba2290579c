"""A volume judged against the oracle's expectation: right, silently zero, or wrong but
plausible.

The values are compared slice by slice with what pydicom decoded. Where they differ on a
compressed frame, the frame is decoded again with every other decoder pydicom has for its
transfer syntax: damage inside entropy-coded data leaves every structure valid, and decoders
then disagree, each returning its own guess. A slice equal to any of them is accepted (no
reader can tell which guess is right); a slice equal to none is wrong. Lossy syntaxes are
compared within a tolerance, since their decoders legitimately differ by a few levels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tests.support.fuzz_oracle import FAILED, Expectation, Plane, stored_values

Verdict = tuple[str, str]
OK, SILENT_ZERO, WRONG, UNJUDGED = "ok", "silent zero", "wrong-but-plausible", "unjudged"


class _Alternatives:
    """Each plane as every other pydicom decoding plugin decodes it (computed when needed)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], NDArray[Any] | None] = {}

    def of(self, plane: Plane) -> list[NDArray[Any]]:
        import pydicom
        from pydicom.pixels import get_decoder, pixel_array

        if plane.path is None or plane.syntax in ("", pydicom.uid.ExplicitVRLittleEndian):
            return []
        try:
            plugins = get_decoder(plane.syntax).available_plugins
        except FAILED:
            return []
        found = []
        for plugin in plugins:
            key = (str(plane.path), plugin)
            if key not in self.cache:
                try:
                    dataset = pydicom.dcmread(plane.path)
                    frames = int(dataset.get("NumberOfFrames") or 1)
                    array = pixel_array(plane.path, decoding_plugin=plugin)
                    self.cache[key] = stored_values(dataset, array, frames)
                except FAILED:
                    self.cache[key] = None
            decoded = self.cache[key]
            if decoded is None or plane.frame >= len(decoded):
                continue
            frame = decoded[plane.frame]
            if plane.region is not None:
                top, bottom, left, right = plane.region
                frame = frame[top:bottom, left:right]
            found.append(frame)
        return found


def _same(actual: NDArray[Any], expected: NDArray[Any], lossy: bool) -> bool:
    if actual.shape != expected.shape:
        return False
    if not lossy:
        return bool(np.array_equal(actual, expected))
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    span = float(np.ptp(expected)) if expected.size else 0.0
    return bool(difference.mean() <= 1 + 0.01 * span and difference.max() <= 4 + 0.1 * span)


def _matches(actual: NDArray[Any], plane: Plane, lossy: bool, others: _Alternatives) -> bool:
    if _same(actual, plane.values, lossy):
        return True
    return any(_same(actual, candidate, lossy) for candidate in others.of(plane))


def judge(array: NDArray[Any], affine: NDArray[Any] | None, expectation: Expectation,
          *, four_d: bool) -> Verdict:
    """Judge what ``load_volume`` (``four_d`` False) or ``load_4d`` returned."""
    if not expectation.sure:
        return UNJUDGED, expectation.reason
    slices = expectation.slices
    if not four_d and expectation.volumes > 1:
        return WRONG, (f"a volume of shape {array.shape} from a series whose {len(slices)} "
                       f"positions each hold {expectation.volumes} images (4-D)")
    plane_shape = slices[0][0].values.shape
    shape = ((expectation.volumes,) if four_d else ()) + (len(slices), *plane_shape)
    if array.shape != shape:
        return _wrong_or_zero(array, expectation, f"shape {array.shape}, expected {shape}")
    if expectation.dtype is not None and array.dtype != expectation.dtype:
        return WRONG, f"dtype {array.dtype}, expected {expectation.dtype}"
    others = _Alternatives()
    lossy = expectation.lossy
    for z, planes in enumerate(slices):
        if four_d and expectation.order_rule is not None:
            for t, plane in enumerate(planes):
                if not _matches(array[t, z], plane, lossy, others):
                    found = _same_images([array[t, z]], planes, lossy, others)
                    return _wrong_or_zero(array, expectation, (
                        f"volume {t}, slice {z} ({plane.file}, frame {plane.frame}): "
                        + ("an image of another volume: volumes out of order (by "
                           f"{expectation.order_rule})" if found else
                           "differs from every image at its position")))
        elif four_d:
            if not _same_images([array[t, z] for t in range(len(planes))], planes, lossy,
                                others):
                return _wrong_or_zero(array, expectation, f"slice {z}: the images differ from "
                                      f"those at its position ({planes[0].file})")
        elif not _matches(array[z], planes[0], lossy, others):
            return _wrong_or_zero(array, expectation, _describe(array, z, slices, lossy))
    problem = _affine_problem(affine, expectation)
    if problem is not None:
        return WRONG, problem
    if expectation.unplaced_refused:
        return UNJUDGED, ("right values, but a correct reader refuses images it cannot place "
                          "(MissingGeometryError) unless irregular='accept'")
    return OK, expectation.reason


def _same_images(actual: list[NDArray[Any]], planes: list[Plane], lossy: bool,
                 others: _Alternatives) -> bool:
    """Whether ``actual`` holds each plane once, in any order."""
    left = list(planes)
    for image in actual:
        found = next((p for p in left if _matches(image, p, lossy, others)), None)
        if found is None:
            return False
        left.remove(found)
    return True


def _describe(array: NDArray[Any], z: int, slices: list[list[Plane]], lossy: bool) -> str:
    plane = slices[z][0]
    where = f"slice {z} ({plane.file}, frame {plane.frame}" + (
        f", tile {plane.tile})" if plane.tile is not None else ")")
    elsewhere = [k for k, other in enumerate(slices) if _same(array[z], other[0].values, lossy)]
    if elsewhere:
        return f"{where} holds the image of slice {elsewhere[0]}: slices out of order"
    difference = array[z].astype(np.float64) - plane.values.astype(np.float64)
    return (f"{where} differs from pydicom's reading in {int(np.count_nonzero(difference))} "
            f"voxels (largest difference {float(np.abs(difference).max()):g})")


def _wrong_or_zero(array: NDArray[Any], expectation: Expectation, detail: str) -> Verdict:
    expected_nonzero = any(p.values.any() for s in expectation.slices for p in s)
    if array.size and not array.any() and expected_nonzero:
        return SILENT_ZERO, f"every voxel is zero; pydicom reads non-zero values ({detail})"
    return WRONG, detail


def _affine_problem(affine: NDArray[Any] | None, expectation: Expectation) -> str | None:
    """Where the affine disagrees with the oracle's positions (placed stacks only)."""
    if affine is None or not expectation.placed:
        return None
    slices = expectation.slices
    first = slices[0][0]
    if first.position is None or first.orientation is None or first.spacing is None:
        return None
    with np.errstate(all="ignore"):
        origin = first.position
        columns = [first.orientation[3:] * first.spacing[0],
                   first.orientation[:3] * first.spacing[1]]
        step = None
        if len(slices) > 1:
            last = slices[-1][0].position
            assert last is not None
            step = (last - origin) / (len(slices) - 1)
        if not all(np.isfinite(v).all() for v in (origin, *columns)) or (
                step is not None and not np.isfinite(step).all()):
            return None
        if not np.allclose(affine[:3, 3], origin, rtol=1e-6, atol=1e-3):
            return f"affine origin {affine[:3, 3]}, expected {origin}"
        # Orientations differing within the grouping tolerance make one stack, and which
        # file's cosines a reader takes is its choice: the columns may differ by that much.
        spread = max(float(np.abs(p.orientation - first.orientation).max())
                     for s in slices for p in s if p.orientation is not None)
        atol = 1e-5 + spread * max(first.spacing)
        for axis, column in ((1, columns[0]), (2, columns[1])):
            if not np.allclose(affine[:3, axis], column, rtol=1e-4, atol=atol):
                return f"affine column {axis} {affine[:3, axis]}, expected {column}"
        if step is not None and not np.allclose(affine[:3, 0], step, rtol=1e-2, atol=1e-2):
            return f"affine slice step {affine[:3, 0]}, expected {step}"
    return None
