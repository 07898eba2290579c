"""Write synthetic DICOM series whose truth is known: pixels, positions and affine.

Used by dicomio's tests and by ``dicomio sample``; useful for your own tests too::

    from dicomio.testing.synthetic import SeriesSpec, write_series
    written = write_series("phantom/", SeriesSpec(shape=(20, 64, 48)))
    written.stored      # the stored values, in slice order
    written.affine      # the affine dicomio must return

Uncompressed syntaxes need only pydicom. Compressed ones need the encoders of the ``test``
extra: imagecodecs (JPEG baseline/extended, JPEG-LS, JPEG 2000, HTJ2K), python-gdcm (lossless
JPEG with the predictors DICOM requires) and pydicom's own RLE encoder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom import transfer_syntax as ts
from dicomio.testing._dataset import ENCODERS, image_dataset, per_slice, save, slice_geometry

__all__ = [
    "AXIAL",
    "CORONAL",
    "ENCODABLE_SYNTAXES",
    "LOSSY_SYNTAXES",
    "SAGITTAL",
    "SeriesSpec",
    "WrittenSeries",
    "missing_encoder",
    "phantom",
    "write_series",
]

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)

# Short names for the syntaxes written here (the UIDs live in dicomio.dicom.transfer_syntax).
EXPLICIT_LE = ts.EXPLICIT_VR_LITTLE_ENDIAN
IMPLICIT_LE = ts.IMPLICIT_VR_LITTLE_ENDIAN
EXPLICIT_BE = ts.EXPLICIT_VR_BIG_ENDIAN
DEFLATED = ts.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
RLE = ts.RLE_LOSSLESS
JPEG_BASELINE = ts.JPEG_BASELINE_8BIT
JPEG_EXTENDED = ts.JPEG_EXTENDED_12BIT
JPEG_LOSSLESS = ts.JPEG_LOSSLESS
JPEG_LOSSLESS_SV1 = ts.JPEG_LOSSLESS_SV1
JPEG_LS = ts.JPEG_LS_LOSSLESS
JPEG_LS_NEAR = ts.JPEG_LS_NEAR_LOSSLESS
J2K_LOSSLESS = ts.JPEG2000_LOSSLESS
J2K = ts.JPEG2000
HTJ2K_LOSSLESS = ts.HTJ2K_LOSSLESS

#: Every transfer syntax this module can write.
ENCODABLE_SYNTAXES = tuple(ENCODERS)
#: The lossy ones: decoded values differ from ``stored`` (within the codec's error).
LOSSY_SYNTAXES = (JPEG_BASELINE, JPEG_EXTENDED, JPEG_LS_NEAR, J2K)

Naming = Literal["position", "uid", "instance"]
Content = Literal["pattern", "ct"]


@dataclass(frozen=True)
class SeriesSpec:
    """What to write. The defaults make a small non-square, anisotropic 12-bit CT.

    Attributes
    ----------
    shape
        (slices, rows, columns).
    orientation
        ImageOrientationPatient (row cosine, column cosine).
    pixel_spacing
        PixelSpacing: (between rows, between columns), mm.
    slice_spacing
        Distance between slices along the normal, mm. Negative: slice k+1 lies *below* slice k
        along the normal while InstanceNumber still increases.
    slice_thickness
        SliceThickness written (None: ``abs(slice_spacing)``). It never defines geometry.
    tilt_degrees
        Shear the stack along the column direction (gantry tilt).
    bits_allocated, bits_stored, signed
        Pixel format; values fill most of the BitsStored range.
    rescale_slope, rescale_intercept
        One value, or one per slice.
    high_bit_garbage
        Set the bits above BitsStored to noise (readers must mask them).
    uid_seed
        Derive every UID from this text, so writing again overwrites the same files (default:
        fresh random UIDs each time).
    samples_per_pixel, planar_configuration
        3 writes RGB colour (8-bit).
    content
        ``"pattern"`` (a test pattern over the whole BitsStored range) or ``"ct"`` (a body
        phantom in Hounsfield units that compresses like a real CT); see :func:`phantom`.
    """

    shape: tuple[int, int, int] = (6, 20, 28)
    orientation: tuple[float, ...] = AXIAL
    pixel_spacing: tuple[float, float] = (0.7, 0.9)
    slice_spacing: float = 2.5
    slice_thickness: float | None = None
    origin: tuple[float, float, float] = (-80.0, -60.0, 40.0)
    tilt_degrees: float = 0.0
    bits_allocated: int = 16
    bits_stored: int = 12
    signed: bool = False
    rescale_slope: float | Sequence[float] = 1.0
    rescale_intercept: float | Sequence[float] = -1024.0
    modality: str = "CT"
    transfer_syntax: str = EXPLICIT_LE
    samples_per_pixel: int = 1
    planar_configuration: int = 0
    high_bit_garbage: bool = False
    series_uid: str | None = None
    study_uid: str | None = None
    series_number: int = 1
    description: str = "dicomio synthetic phantom"
    seed: int = 0
    content: Content = "pattern"
    uid_seed: str | None = None

    def with_(self, **changes: Any) -> SeriesSpec:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass
class WrittenSeries:
    """A written series and its truth, in slice order (ascending position along the normal).

    Attributes
    ----------
    files
        The files, in slice order (the order dicomio must return).
    stored
        Stored values in slice order, shape (slices, rows, columns[, 3]).
    positions
        ImagePositionPatient of each slice, in slice order.
    affine
        The affine of the contract.
    slopes, intercepts
        Per slice, in slice order.
    """

    spec: SeriesSpec
    folder: Path
    files: list[Path]
    stored: NDArray[Any]
    positions: NDArray[np.float64]
    affine: NDArray[np.float64]
    slopes: NDArray[np.float64]
    intercepts: NDArray[np.float64]
    series_uid: str
    sop_instance_uids: list[str] = field(default_factory=list)

    def modality_values(self) -> NDArray[np.float64]:
        """``stored * slope + intercept`` per slice, in float64."""
        shape = (-1,) + (1,) * (self.stored.ndim - 1)
        return self.stored * self.slopes.reshape(shape) + self.intercepts.reshape(shape)


def phantom(spec: SeriesSpec) -> NDArray[Any]:
    """Stored values for ``spec``, in instance order.

    ``content="pattern"``: smooth structure, a slice-specific pattern and noise over most of the
    BitsStored range, so any flip, transpose or misordering of slices changes the values.
    ``content="ct"``: a body section in Hounsfield units (air, fat, soft tissue, lungs, spine,
    a table) with scanner-like noise, converted to stored values with the slice's rescale: it
    compresses like a real CT. Both carry a per-slice signature in the corner pixel.
    """
    n, rows, cols = spec.shape
    rng = np.random.default_rng(spec.seed)
    low, high = _stored_limits(spec)
    dtype = np.dtype(f"{'int' if spec.signed else 'uint'}{spec.bits_allocated}")
    stored = np.empty((n, rows, cols), dtype=dtype)
    make = _ct_slice if spec.content == "ct" else _pattern_slice
    slopes = per_slice(spec.rescale_slope, n)
    intercepts = per_slice(spec.rescale_intercept, n)
    for k in range(n):
        values = make(spec, k, rng, slopes[k], intercepts[k])
        values[0, 0] = low + (k * 7919) % (high - low + 1)  # a per-slice signature
        if spec.transfer_syntax in LOSSY_SYNTAXES:
            # Near-lossless JPEG-LS reconstructs modulo the range: a value at the very top can
            # come back at the bottom. Real images rarely touch the ends: keep off them.
            margin = max(4, (high - low) // 256)
            np.clip(values, low + margin, high - margin, out=values)
        np.rint(values, out=values)
        stored[k] = values
    if spec.samples_per_pixel == 3:
        rgb = np.stack([stored, np.flip(stored, axis=2), (stored // 2)], axis=-1)
        return rgb.astype(np.uint8)
    return stored


def _stored_limits(spec: SeriesSpec) -> tuple[int, int]:
    if spec.signed:
        return -(1 << (spec.bits_stored - 1)), (1 << (spec.bits_stored - 1)) - 1
    return 0, (1 << spec.bits_stored) - 1


def _pattern_slice(
    spec: SeriesSpec, k: int, rng: np.random.Generator, slope: float, intercept: float
) -> NDArray[np.float64]:
    _, rows, cols = spec.shape
    low, high = _stored_limits(spec)
    j = np.arange(rows, dtype=np.float64)[:, None]
    i = np.arange(cols, dtype=np.float64)[None, :]
    centre = ((j - rows / 2) / rows) ** 2 + ((i - cols / 3) / cols) ** 2
    smooth = 0.45 * np.cos(6 * centre + k / 3) + 0.1 * (i / cols) - 0.05 * (j / rows)
    noise = rng.normal(0, 0.04, size=smooth.shape)
    values = low + (high - low) * np.clip(0.5 + smooth + noise, 0, 1)
    values[-1, 0] = low
    values[0, -1] = high
    return values


def _ct_slice(
    spec: SeriesSpec, k: int, rng: np.random.Generator, slope: float, intercept: float
) -> NDArray[np.float64]:
    """One axial section of a body phantom, as stored values (HU through the rescale)."""
    n, rows, cols = spec.shape
    z = k / max(n - 1, 1)  # 0 at the first slice, 1 at the last
    y = (np.arange(rows, dtype=np.float64)[:, None] - rows / 2) / (rows / 2)
    x = (np.arange(cols, dtype=np.float64)[None, :] - cols / 2) / (cols / 2)

    def ellipse(cx: float, cy: float, ax: float, ay: float) -> NDArray[np.bool_]:
        result: NDArray[np.bool_] = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 <= 1
        return result

    width = 0.72 + 0.06 * math.sin(math.pi * z)  # the body widens towards the middle
    hu = np.full((rows, cols), -1000.0)  # air
    hu[ellipse(0, 0, width, 0.55)] = -95.0  # subcutaneous fat
    hu[ellipse(0, 0, width - 0.05, 0.50)] = 40.0  # soft tissue
    lung = 0.22 * max(0.0, math.sin(math.pi * min(1.0, 1.3 * z)))  # lungs fade in and out
    if lung > 0.02:
        for side in (-1, 1):
            hu[ellipse(side * 0.33, -0.08, lung * 1.2, lung * 1.5)] = -850.0
    hu[ellipse(0, 0.34, 0.09, 0.08)] = 700.0  # vertebral body
    hu[ellipse(0, 0.34, 0.06, 0.05)] = 250.0  # its marrow
    hu[(y > 0.62) & (y < 0.66) & (np.abs(x) < 0.85)] = 150.0  # the table
    noise = rng.standard_normal((rows, cols)) * np.where(hu > -990, 12.0, 6.0)
    hu += noise
    low, high = _stored_limits(spec)
    values = np.clip((hu - intercept) / slope, low, high)
    values[x**2 + y**2 > 1] = low  # outside the reconstruction circle: padding
    return values


def missing_encoder(syntax: str) -> str | None:
    """Why ``syntax`` cannot be written here, or None when :func:`write_series` can write it.

    >>> missing_encoder(EXPLICIT_LE) is None
    True
    >>> missing_encoder("1.2.3")  # doctest: +ELLIPSIS
    '1.2.3 is not a transfer syntax dicomio.testing writes; it writes ...'
    """
    import importlib

    if syntax not in ENCODERS:
        listed = ", ".join(f"{ts.lookup(uid).name} ({uid})" for uid in ENCODABLE_SYNTAXES)
        return f"{syntax} is not a transfer syntax dicomio.testing writes; it writes {listed}"
    encoder = ENCODERS[syntax]
    if encoder is None:
        return None
    module, package, codec = encoder
    name = ts.lookup(syntax).name
    try:
        imported = importlib.import_module(module)
    except ImportError:
        return f"writing {name} needs {package}, which is not installed"
    if codec is not None and not getattr(getattr(imported, codec, None), "available", False):
        return f"writing {name} needs the {codec} codec, which this build of {package} lacks"
    return None


def write_series(
    folder: str | os.PathLike[str],
    spec: SeriesSpec = SeriesSpec(),
    *,
    naming: Naming = "position",
    skip: Sequence[int] = (),
    stored: NDArray[Any] | None = None,
    positions: NDArray[np.float64] | None = None,
) -> WrittenSeries:
    """Write ``spec`` as one file per slice into ``folder`` (created if needed).

    Parameters
    ----------
    naming
        ``"position"``: ``slice_000.dcm``... in instance order; ``"uid"``: the SOPInstanceUID
        (random order); ``"instance"``: ``IM1``, ``IM2``... without extension (name order is
        wrong past 9).
    skip
        Instance indices not to write (a missing slice).
    stored, positions
        Write these stored values (shape ``spec.shape``) and ImagePositionPatient values
        (shape (slices, 3)) instead of the phantom and the regular positions of ``spec``, in
        instance order (uneven spacing, values known as a function of position...).

    Returns
    -------
    WrittenSeries
        The truth, in slice order (ascending along the normal), without the skipped slices.
    """
    from pydicom.uid import generate_uid

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = spec.shape[0]
    regular, normal, _ = slice_geometry(spec)
    stored = phantom(spec) if stored is None else np.asarray(stored)
    positions = regular if positions is None else np.asarray(positions, dtype=np.float64)
    slopes = per_slice(spec.rescale_slope, n)
    intercepts = per_slice(spec.rescale_intercept, n)
    def new_uid(*parts: object) -> str:
        if spec.uid_seed is None:
            return str(generate_uid())
        return str(generate_uid(entropy_srcs=[spec.uid_seed, *map(str, parts)]))

    series_uid = spec.series_uid or new_uid("series")
    study_uid = spec.study_uid or new_uid("study")
    frame_of_reference = new_uid("frame of reference")

    written: list[tuple[float, Path, int, str]] = []
    for index in range(n):
        if index in skip:
            continue
        sop_uid = new_uid("instance", index)
        dataset = image_dataset(spec, stored[index], positions[index], index, slopes[index],
                                intercepts[index], series_uid, study_uid, frame_of_reference,
                                sop_uid)
        name = {"position": f"slice_{index:03d}.dcm", "uid": f"{sop_uid}.dcm",
                "instance": f"IM{index + 1}"}[naming]
        path = folder / name
        save(dataset, path, spec, stored[index])
        written.append((float(positions[index] @ normal), path, index, sop_uid))

    written.sort()
    order = [index for _, _, index, _ in written]
    kept = positions[order]
    iop = np.asarray(spec.orientation)
    affine = np.eye(4)
    if len(order) > 1:
        affine[:3, 0] = (kept[-1] - kept[0]) / (len(order) - 1)
    else:
        affine[:3, 0] = normal * abs(spec.slice_spacing)
    affine[:3, 1] = iop[3:] * spec.pixel_spacing[0]
    affine[:3, 2] = iop[:3] * spec.pixel_spacing[1]
    affine[:3, 3] = kept[0]
    return WrittenSeries(spec, folder, [p for _, p, _, _ in written], stored[order], kept,
                         affine, slopes[order], intercepts[order], series_uid,
                         [u for _, _, _, u in written])
