"""What a correct reader must return for a folder, from pydicom's own reading of the bytes.

The oracle shares nothing with dicomio's header, grouping or geometry code: it reads each file
with ``pydicom.dcmread`` and ``pixel_array``, places every 2-D image itself (classic files,
enhanced functional groups, RT dose offsets, Siemens mosaic tiles from nibabel's CSA reader),
groups and sorts them with NumPy by the rules of docs/contract.md, and says either what a volume
must be — its shape, dtype, stored values slice by slice and where its slices lie — or that it
cannot tell (``sure`` False, with the reason). Refusing is always allowed; when the oracle is
sure, any volume returned must match it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.datadict import dictionary_VR

LOSSY = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                   "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91",
                   "1.2.840.10008.1.2.4.203"})
#: Geometry tolerances of the contract (GeometryTolerances' defaults), and a margin around
#: them where the oracle does not judge (dicomio may round either way).
ORIENTATION, DUPLICATE = 1e-3, 1e-3
#: Positions and spacings beyond a kilometre describe no patient: dicomio refuses them as it
#: refuses non-finite ones (``dicomio.geometry.stack.MAX_COORDINATE_MM``).
KILOMETRE = 1e6
MAX_IMAGES = 20_000


#: What a library may raise on damaged data: any exception, and the ``PanicException`` of a
#: Rust decoder (pylibjpeg-rle), which is not an ``Exception``.
FAILED = (Exception, BaseException)


# Elements that order the images (their VR is text: IS, TM, DT, DA).
_ORDERING = ("InstanceNumber", "TemporalPositionIdentifier", "AcquisitionTime",
             "AcquisitionDateTime", "AcquisitionDate", "SeriesNumber", "NumberOfFrames")

# Geometry elements whose value is text (DS): under another VR, pydicom reads their bytes as
# that VR (numbers, a person's name) while a lenient reader reads the text.
_GEOMETRY_DS = ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing",
                "SliceThickness", "SpacingBetweenSlices")

# Text that decides what the images are (a Siemens mosaic, kinds of image): the same.
_LAYOUT_TEXT = ("ImageType",)


class Unsure(Exception):
    """The oracle cannot say what a correct result is (the reason is the message)."""


@dataclass
class Plane:
    """One 2-D image as pydicom reads it, placed by the oracle."""

    file: str
    frame: int
    tile: int | None
    values: NDArray[Any]
    position: NDArray[np.float64] | None
    orientation: NDArray[np.float64] | None
    spacing: tuple[float, float] | None
    key: tuple[Any, ...]
    sop_uid: str
    instance: int | None
    syntax: str
    dtype: np.dtype[Any]
    path: Path | None = None
    region: tuple[int, int, int, int] | None = None  # a mosaic tile: rows, then columns
    order: dict[str, Any] = field(default_factory=dict)  # keys of the 4-D volume order

    @property
    def normal(self) -> NDArray[np.float64]:
        assert self.orientation is not None
        return np.cross(self.orientation[:3], self.orientation[3:])


@dataclass
class Expectation:
    """What ``load_volume`` (``volumes`` 1) or ``load_4d`` must return, when ``sure``.

    ``slices[z]`` holds the planes at slice position ``z`` (several for a 4-D series, in no
    particular order); ``placed`` says whether the slices have positions (else stored order
    and a nominal affine).
    """

    sure: bool
    reason: str
    slices: list[list[Plane]] = field(default_factory=list)
    dtype: np.dtype[Any] | None = None
    placed: bool = True
    lossy: bool = False
    unplaced_refused: bool = False
    order_rule: str | None = None

    @property
    def volumes(self) -> int:
        return len(self.slices[0]) if self.slices else 0


def _floats(value: Any, count: int) -> NDArray[np.float64] | None:
    try:
        numbers = np.asarray([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        return None
    if numbers.shape != (count,) or not np.isfinite(numbers).all():
        return None
    return numbers


def _first(items: list[Any], sequence: str, attribute: str) -> Any:
    """``attribute`` of the first item of ``sequence`` in the first of ``items`` having it."""
    for item in items:
        if item is None:
            continue
        inner = item.get(sequence)
        if inner and attribute in inner[0]:
            return inner[0].get(attribute)
    return None


def _orientation(value: Any) -> NDArray[np.float64] | None:
    cosines = _floats(value, 6) if value is not None else None
    if cosines is None:
        return None
    row, column = cosines[:3], cosines[3:]
    error = max(abs(np.linalg.norm(row) - 1), abs(np.linalg.norm(column) - 1),
                abs(float(row @ column)))
    if ORIENTATION / 4 < error < ORIENTATION * 4:
        raise Unsure(f"orientation {cosines} is near the orthonormality tolerance")
    return cosines if error <= ORIENTATION else None


def _within_a_kilometre(numbers: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
    if numbers is None:
        return None
    largest = float(np.abs(numbers).max())
    if KILOMETRE / 2 < largest < KILOMETRE * 2:
        raise Unsure(f"a coordinate or spacing of {largest:g} mm, near dicomio's limit")
    return numbers if largest <= KILOMETRE else None


def _spacing(value: Any) -> tuple[float, float] | None:
    numbers = _within_a_kilometre(_floats(value, 2) if value is not None else None)
    if numbers is None or (numbers <= 0).any():
        return None
    return float(numbers[0]), float(numbers[1])


def stored_values(dataset: Any, array: NDArray[Any], frames: int) -> NDArray[Any]:
    """pydicom's array as ``(frames, rows, columns[, samples])`` stored values: the bits above
    BitsStored masked off, the sign extended from the high bit when PixelRepresentation is 1."""
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    if frames == 1:
        array = array[np.newaxis]
    if array.ndim != (4 if samples > 1 else 3):
        raise Unsure(f"pydicom's array has shape {array.shape}")
    array = array.astype(array.dtype.newbyteorder("="), copy=False)
    if array.dtype.kind in "iu" and samples == 1:
        stored = int(dataset.BitsStored)
        bits = array.dtype.itemsize * 8
        if stored < bits:
            unsigned = array.view(f"u{array.dtype.itemsize}") & ((1 << stored) - 1)
            if int(dataset.PixelRepresentation):
                sign = 1 << (stored - 1)
                signed = unsigned.astype(np.int64)
                array = ((signed ^ sign) - sign).astype(f"i{array.dtype.itemsize}")
            else:
                array = unsigned
    return array


def expected_dtype(dataset: Any) -> np.dtype[Any]:
    """The dtype ``rescale=False`` returns: that of BitsAllocated and PixelRepresentation."""
    if "FloatPixelData" in dataset:
        return np.dtype(np.float32)
    if "DoubleFloatPixelData" in dataset:
        return np.dtype(np.float64)
    allocated = int(dataset.BitsAllocated)
    if allocated not in (8, 16, 32):
        raise Unsure(f"BitsAllocated {allocated}")
    signed = int(dataset.PixelRepresentation) == 1 and int(dataset.SamplesPerPixel) == 1
    return np.dtype(f"{'i' if signed else 'u'}{allocated // 8}")


def _holds_pixel_data(path: Path) -> bool:
    """Whether the bytes of ``path`` hold the tag of (7FE0,0010), little or big endian: a
    damaged image, that pydicom reads as something else."""
    data = path.read_bytes()
    return b"\xe0\x7f\x10\x00" in data or b"\x7f\xe0\x00\x10" in data


def _check_order(path: Path, name: str, dataset: Any) -> None:
    """Unsure when an element the oracle reads lies after the pixel data in the file (elements
    out of order): pydicom, reading the whole file, finds it; a reader that stops at the pixel
    data, as the standard's order allows, does not."""
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except FAILED:
        return
    late = [k for k in (*_GEOMETRY_DS, *_ORDERING, "PerFrameFunctionalGroupsSequence",
                        "SharedFunctionalGroupsSequence") if k in dataset and k not in header]
    if late:
        raise Unsure(f"{name}: {', '.join(late)} after the pixel data (elements out of order)")


def _check_offsets(name: str, dataset: Any) -> None:
    """Unsure when an Extended Offset Table does not fit the fragment items: pydicom cuts the
    frames where the table says (and decodes what it cut, to zeros if need be), a reader that
    finds the frames in the items decodes them whole. Neither reading is the file's."""
    if "ExtendedOffsetTable" not in dataset or "PixelData" not in dataset:
        return
    data = dataset.PixelData
    items: set[tuple[int, int]] = set()
    try:
        start = pos = 8 + struct.unpack_from("<L", data, 4)[0]  # after the basic table
        while pos + 8 <= len(data):
            length = struct.unpack_from("<L", data, pos + 4)[0]
            items.add((pos - start, length))
            pos += 8 + length
        offsets = np.frombuffer(dataset.ExtendedOffsetTable, "<u8").tolist()
        lengths = np.frombuffer(dataset.get("ExtendedOffsetTableLengths", b""), "<u8").tolist()
    except (struct.error, ValueError, TypeError):
        offsets, lengths = [], []
    if not offsets or len(offsets) != len(lengths) or \
            not items.issuperset(zip(offsets, lengths, strict=True)):
        raise Unsure(f"{name}: an extended offset table that does not fit the fragments")


def read_planes(path: Path, name: str) -> list[Plane] | None:
    """Every image of one file, placed; None when the file is not an image (not DICOM for
    pydicom, or no pixel data). Raises :class:`Unsure` when pydicom fails on it."""
    try:
        dataset = pydicom.dcmread(path)
    except pydicom.errors.InvalidDicomError:
        dataset = None
    except FAILED as exc:
        raise Unsure(f"pydicom cannot read {name}: {type(exc).__name__}: {exc}"[:300]) from exc
    if dataset is None or not any(
            k in dataset for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        if _holds_pixel_data(path):
            raise Unsure(f"{name} holds a pixel data element pydicom does not find")
        return None
    _check_order(path, name, dataset)
    _check_offsets(name, dataset)
    try:
        frames = int(dataset.get("NumberOfFrames") or 1)
        if frames > MAX_IMAGES:
            raise Unsure(f"{name} holds {frames} frames (beyond what the oracle places)")
        values = stored_values(dataset, dataset.pixel_array, frames)
        dtype = expected_dtype(dataset)
        return [replace(p, path=path) for p in _place(dataset, name, values, frames, dtype)]
    except Unsure:
        raise
    except FAILED as exc:
        raise Unsure(f"pydicom cannot decode {name}: {type(exc).__name__}: {exc}"[:300]) from exc


def _place(dataset: Any, name: str, values: NDArray[Any], frames: int,
           dtype: np.dtype[Any]) -> list[Plane]:
    from tests.support.fuzz_mosaic import mosaic_tiles
    from tests.support.fuzz_order import order_values

    syntax = str(dataset.file_meta.get("TransferSyntaxUID", ""))
    uid = str(dataset.get("SeriesInstanceUID", ""))
    number = dataset.get("SeriesNumber")
    series = (uid, None if number is None or number == "" else int(number))
    instance = dataset.get("InstanceNumber")
    instance = None if instance is None or instance == "" else int(instance)
    sop = str(dataset.get("SOPInstanceUID", ""))
    shared = (dataset.get("SharedFunctionalGroupsSequence") or [None])[0]
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and len(per_frame) != frames:
        raise Unsure(f"{name}: {len(per_frame)} per-frame groups for {frames} frames")
    # An element under a VR other than the standard's has no single reading.
    for element in (dataset[k] for k in (*_GEOMETRY_DS, *_ORDERING, *_LAYOUT_TEXT)
                    if k in dataset):
        if dictionary_VR(element.tag) != element.VR:
            raise Unsure(f"{name}: {element.keyword} has VR {element.VR}, not "
                         f"{dictionary_VR(element.tag)}")
    planes = []
    top_position = dataset.get("ImagePositionPatient")
    offsets = dataset.get("GridFrameOffsetVector")
    for index in range(frames):
        own = per_frame[index] if per_frame is not None else None
        position = _first([own, shared], "PlanePositionSequence", "ImagePositionPatient")
        orientation = _first([own, shared], "PlaneOrientationSequence", "ImageOrientationPatient")
        spacing = _first([own, shared], "PixelMeasuresSequence", "PixelSpacing")
        frame_type = _frame_type([own, shared])
        position = _within_a_kilometre(
            _floats(position if position is not None else top_position, 3)
            if (position is not None or top_position is not None) else None)
        cosines = _orientation(orientation if orientation is not None
                               else dataset.get("ImageOrientationPatient"))
        pixel_spacing = _spacing(spacing if spacing is not None else dataset.get("PixelSpacing"))
        if frames > 1 and per_frame is None:
            position = _dose_position(position, cosines, offsets, index, name)
        key = (*series, values.shape[1:], dtype.itemsize, dtype.kind == "f",
               _rounded(pixel_spacing), frame_type)
        order = order_values(dataset, [own, shared] if per_frame is not None else [], index,
                             instance, name)
        planes.append(Plane(name, index, None, values[index], position, cosines, pixel_spacing,
                            key, sop, instance, syntax, dtype, order=order))
    if frames == 1 and "MOSAIC" in _values(dataset.get("ImageType")):
        return mosaic_tiles(dataset, planes[0])
    return planes


def _values(value: Any) -> tuple[str, ...]:
    """The values of a text element: pydicom gives one value as a string, several as a list
    (iterating the string would give its characters)."""
    if value is None:
        return ()
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


def _frame_type(items: list[Any]) -> tuple[str, ...] | None:
    for item in items:
        if item is None:
            continue
        for element in item:
            if element.keyword.endswith("FrameTypeSequence") and element.value:
                found = element.value[0].get("FrameType")
                if found is not None:
                    return _values(found)
    return None


def _dose_position(position: NDArray[np.float64] | None, cosines: NDArray[np.float64] | None,
                   offsets: Any, index: int, name: str) -> NDArray[np.float64] | None:
    """An RT dose frame lies GridFrameOffsetVector[k] - [0] along the normal; frames of any
    other classic multi-frame file share one position (they cannot be placed)."""
    if offsets is None:
        return None
    values = _floats(offsets, len(offsets)) if not isinstance(offsets, (int, float)) else None
    if position is None or cosines is None or values is None or index >= len(values):
        raise Unsure(f"{name}: RT dose offsets that cannot be used")
    normal = np.cross(cosines[:3], cosines[3:])
    return np.asarray(position + (values[index] - values[0]) * normal, dtype=float)


def _rounded(spacing: tuple[float, float] | None) -> tuple[float, ...] | None:
    return None if spacing is None else tuple(round(v, 4) for v in spacing)


def read_folder(folder: Path) -> tuple[list[Plane], list[str]]:
    """Every image under ``folder`` (regular files only, links and special files are left
    out), and the names of the files that are not images."""
    planes: list[Plane] = []
    others = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        found = read_planes(path, name)
        if found is None:
            others.append(name)
        else:
            planes += found
        if len(planes) > MAX_IMAGES:
            raise Unsure(f"more than {MAX_IMAGES} images")
    return planes, others

