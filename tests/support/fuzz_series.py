"""Mutations of a whole series: positions and orientations across files and frames, duplicated,
missing and extra files, split series, hostile names, damaged mosaic and enhanced headers.

A series is a mapping of relative file name → bytes (or a special file: ``"fifo"``,
``"symlink:<target>"``). Each mutation takes it and a :class:`random.Random` and returns a new
mapping; the files are edited through pydicom, so the structure stays valid and only the
meaning changes.
"""

from __future__ import annotations

import logging
import random
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.uid import generate_uid

from tests.support.fuzz_elements import NotApplicable

Files = dict[str, "bytes | str"]
SeriesMutation = Callable[[Files, random.Random], Files]

FUNNY_POSITIONS: list[list[Any]] = [
    [1.5e308, 0, 0], [float("nan"), 0, 0], [float("inf"), 1, 2], [1e6, -1e6, 1e6],
    [0.0, 0.0], ["1", "x", "3"], [1e-300, 0, 0], [-0.0, -0.0, -0.0]]
NAMES = ["with space.dcm", "ünïcødé.dcm", "\x1b[31mred\x1b[0m.dcm", "[/x].dcm", "-f.dcm",
         "x" * 200 + ".dcm", ".hidden.dcm", "new\nline.dcm", "noextension", "a;b&c|d.dcm"]


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Let pydicom read and write hostile values without a warning or a log line each."""
    from pydicom import config

    modes = config.settings.reading_validation_mode, config.settings.writing_validation_mode
    logger = logging.getLogger("pydicom")
    level = logger.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config.settings.reading_validation_mode = config.IGNORE
        config.settings.writing_validation_mode = config.IGNORE
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            config.settings.reading_validation_mode, config.settings.writing_validation_mode \
                = modes
            logger.setLevel(level)


def read(data: bytes | str) -> Dataset | None:
    if not isinstance(data, bytes):
        return None
    try:
        return pydicom.dcmread(DicomBytesIO(data), force=True)
    except Exception:
        return None


def write(dataset: Dataset) -> bytes:
    out = DicomBytesIO()
    try:
        dataset.save_as(out)
    except Exception as exc:  # a data set pydicom cannot write back (an unknown syntax)
        raise NotApplicable from exc
    return bytes(out.getvalue())


def _images(files: Files) -> list[str]:
    """The names of the regular, non-empty files."""
    return sorted(name for name, data in files.items() if isinstance(data, bytes) and data)


class _Planes:
    """Every image plane of a series: (file, dataset, the item holding its position and
    the item holding its orientation), across single-frame and enhanced files."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.datasets = {n: d for n in _images(files) if (d := read(files[n])) is not None}

    def planes(self) -> Iterator[tuple[str, Dataset, Dataset]]:
        for name, dataset in self.datasets.items():
            frames = dataset.get("PerFrameFunctionalGroupsSequence")
            if frames:
                for item in frames:
                    if item.get("PlanePositionSequence"):
                        yield name, dataset, item.PlanePositionSequence[0]
            elif "ImagePositionPatient" in dataset:
                yield name, dataset, dataset

    def orientations(self) -> Iterator[tuple[str, Dataset]]:
        for name, dataset in self.datasets.items():
            shared = dataset.get("SharedFunctionalGroupsSequence")
            if shared and shared[0].get("PlaneOrientationSequence"):
                yield name, shared[0].PlaneOrientationSequence[0]
            for item in dataset.get("PerFrameFunctionalGroupsSequence") or []:
                if item.get("PlaneOrientationSequence"):
                    yield name, item.PlaneOrientationSequence[0]
            if "ImageOrientationPatient" in dataset:
                yield name, dataset

    def done(self, touched: set[str]) -> Files:
        result = dict(self.files)
        for name in touched:
            result[name] = write(self.datasets[name])
        return result


def _step(planes: list[tuple[str, Dataset, Dataset]]) -> np.ndarray:
    """A vector from one slice to the next (the smallest non-zero gap between positions)."""
    points = []
    for _, _, item in planes:
        try:
            points.append(np.asarray([float(v) for v in item.ImagePositionPatient]))
        except (TypeError, ValueError):
            continue
    points = [p for p in points if p.shape == (3,) and np.isfinite(p).all()]
    gaps = [b - a for i, a in enumerate(points[:100]) for b in points[i + 1:100]
            if np.linalg.norm(b - a) > 1e-6]
    return min(gaps, key=lambda g: float(np.linalg.norm(g))) if gaps else np.array([0, 0, 1.0])


def positions(files: Files, rng: random.Random) -> Files:
    """Swap, repeat, shift along the normal or in plane, delete, or make absurd the position
    of one slice (a file or an enhanced frame)."""
    series = _Planes(files)
    planes = list(series.planes())
    if not planes:
        raise NotApplicable
    name, _, item = rng.choice(planes)
    touched = {name}
    action = rng.choice(["swap", "repeat", "shift", "tilt", "absurd", "delete"])
    if action in ("swap", "repeat") and len(planes) > 1:
        other_name, _, other = rng.choice([p for p in planes if p[2] is not item])
        touched.add(other_name)
        mine, theirs = list(item.ImagePositionPatient), list(other.ImagePositionPatient)
        item.ImagePositionPatient = theirs
        if action == "swap":
            other.ImagePositionPatient = mine
    elif action in ("shift", "tilt", "swap", "repeat"):
        step = _step(planes)
        if action == "tilt":
            across = np.cross(step, [0.3, 0.5, 0.7])
            step = across if np.linalg.norm(across) > 0 else np.array([1.0, 0, 0])
        fraction = rng.choice([1e-4, 0.3, 0.5, 1.0, 2.0, -1.0, 10.0])
        try:
            now = np.asarray([float(v) for v in item.ImagePositionPatient])
            item.ImagePositionPatient = [float(v) for v in now + fraction * step]
        except (TypeError, ValueError):
            item.ImagePositionPatient = [0.0, 0.0, 0.0]
    elif action == "absurd":
        item.ImagePositionPatient = rng.choice(FUNNY_POSITIONS)
    else:
        del item.ImagePositionPatient
    return series.done(touched)


def orientations(files: Files, rng: random.Random) -> Files:
    """Change one or every orientation: slightly, sheared 45°, scaled, reversed, zero, NaN,
    missing or of the wrong length."""
    series = _Planes(files)
    found = list(series.orientations())
    if not found:
        raise NotApplicable
    chosen = found if rng.random() < 0.4 else [rng.choice(found)]
    action = rng.choice(["slight", "shear", "scale", "reverse", "zero", "nan", "delete",
                         "length"])
    epsilon = rng.choice([1e-6, 1e-4, 2e-3, 0.05])
    for _, item in chosen:
        try:
            now = np.asarray([float(v) for v in item.ImageOrientationPatient], dtype=float)
        except (TypeError, ValueError, AttributeError):
            now = np.array([1.0, 0, 0, 0, 1, 0])
        if now.shape != (6,):
            now = np.array([1.0, 0, 0, 0, 1, 0])
        new: list[Any] = list(now)
        if action == "slight":
            new = list(now + epsilon * np.array([0, 1, 0, 1, 0, 0]))
        elif action == "shear":
            row, column = now[:3], now[3:]
            new = [*row, *((column + row) / np.sqrt(2))]
        elif action == "scale":
            new = list(now * 2)
        elif action == "reverse":
            new = list(-now)
        elif action == "zero":
            new = [0.0] * 6
        elif action == "nan":
            new = [float("nan"), *now[1:]]
        elif action == "length":
            new = list(now[:5])
        if action == "delete":
            del item.ImageOrientationPatient
        else:
            item.ImageOrientationPatient = [float(v) for v in new]
    return series.done({name for name, _ in chosen})


def spacing(files: Files, rng: random.Random) -> Files:
    """Make PixelSpacing, SliceThickness or SpacingBetweenSlices absurd in one or every file."""
    series = _Planes(files)
    names = list(series.datasets)
    if not names:
        raise NotApplicable
    chosen = names if rng.random() < 0.5 else [rng.choice(names)]
    keyword = rng.choice(["PixelSpacing", "SliceThickness", "SpacingBetweenSlices"])
    value: Any = rng.choice([[0, 0], [-1, 1], [float("nan"), 1], [1e-30, 1e-30], [1e30, 1],
                             [1], [0.5, 0.25, 3]])
    if keyword != "PixelSpacing":
        value = rng.choice([0, -2.5, float("nan"), 1e30, 1e-30])
    for name in chosen:
        dataset = series.datasets[name]
        targets = [dataset]
        for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            for item in dataset.get(group) or []:
                if item.get("PixelMeasuresSequence"):
                    targets.append(item.PixelMeasuresSequence[0])
        setattr(rng.choice(targets), keyword, value)
    return series.done(set(chosen))


def duplicate_file(files: Files, rng: random.Random) -> Files:
    """Copy a file: exactly, with a new SOPInstanceUID, a new InstanceNumber, or into a
    subfolder."""
    names = _images(files)
    if not names:
        raise NotApplicable
    name = rng.choice(names)
    data = files[name]
    result = dict(files)
    action = rng.choice(["exact", "exact", "uid", "instance", "subfolder"])
    dataset = read(data)
    if action == "uid" and dataset is not None:
        dataset.SOPInstanceUID = generate_uid()
        data = write(dataset)
    elif action == "instance" and dataset is not None:
        dataset.InstanceNumber = int(dataset.get("InstanceNumber") or 0) + 1000
        data = write(dataset)
    target = f"sub/{name}" if action == "subfolder" else f"copy_of_{name}"
    result[target] = data
    return result


def missing_file(files: Files, rng: random.Random) -> Files:
    """Delete one file (a slice in the middle, at an end, a whole volume's file)."""
    names = _images(files)
    if len(names) < 2:
        raise NotApplicable
    result = dict(files)
    del result[rng.choice(names)]
    return result


def split_series(files: Files, rng: random.Random) -> Files:
    """Give one file another SeriesInstanceUID (near-identical ones included), SeriesNumber,
    size, bit depth, sample count or a hostile UID."""
    series = _Planes(files)
    if not series.datasets:
        raise NotApplicable
    name = rng.choice(list(series.datasets))
    dataset = series.datasets[name]
    uid = str(dataset.get("SeriesInstanceUID", "1.2.3"))
    change = rng.choice(["uid", "dot", "number", "rows", "bits", "samples", "markup", "escape"])
    if change == "uid":
        dataset.SeriesInstanceUID = generate_uid()
    elif change == "dot":
        dataset.SeriesInstanceUID = uid + "."
    elif change == "number":
        dataset.SeriesNumber = rng.choice([0, 99, -1, 2 ** 31 - 1])
    elif change == "rows":
        dataset.Rows = int(dataset.get("Rows", 2)) + rng.choice([-1, 1, 64])
    elif change == "bits":
        dataset.BitsAllocated = rng.choice([8, 32, 1, 64])
    elif change == "samples":
        dataset.SamplesPerPixel = rng.choice([3, 4, 0])
    elif change == "markup":
        dataset.SeriesInstanceUID = "[/x][bold]1.2"
    else:
        dataset.SeriesDescription = "\x1b]0;owned\x07\x1b[2J"
    return series.done({name})


def instance_numbers(files: Files, rng: random.Random) -> Files:
    """Make InstanceNumbers equal, absent, huge (2**32) or negative."""
    series = _Planes(files)
    value = rng.choice([None, 1, 2 ** 32, -5, 2 ** 63])
    for dataset in series.datasets.values():
        if value is None:
            if "InstanceNumber" in dataset:
                del dataset.InstanceNumber
        else:
            dataset.InstanceNumber = value
    return series.done(set(series.datasets))


def rename(files: Files, rng: random.Random) -> Files:
    """Give a file a hostile name (spaces, escapes, markup, a leading dash, very long)."""
    names = sorted(files)
    if not names:
        raise NotApplicable
    result = dict(files)
    name = rng.choice(names)
    result[rng.choice(NAMES)] = result.pop(name)
    return result


def extra_files(files: Files, rng: random.Random) -> Files:
    """Add a file that is not an image of the series: text, empty, DICM junk, an image without
    its pixel data, a FIFO, a symbolic link out of the folder or to itself."""
    result = dict(files)
    kind = rng.choice(["text", "empty", "junk", "no-pixels", "fifo", "link-out", "link-loop",
                       "link-proc"])
    names = _images(files)
    if kind == "text":
        result["README.txt"] = b"not dicom\n" * 10
    elif kind == "empty":
        result["empty.dcm"] = b""
    elif kind == "junk":
        result["junk.dcm"] = b"\x00" * 128 + b"DICM" + rng.randbytes(512)
    elif kind == "no-pixels" and names and (dataset := read(files[names[0]])) is not None:
        if "PixelData" in dataset:
            del dataset.PixelData
        dataset.SOPInstanceUID = generate_uid()
        result["no_pixels.dcm"] = write(dataset)
    elif kind == "fifo":
        result["pipe.dcm"] = "fifo"
    elif kind == "link-out":
        result["outside.dcm"] = "symlink:../outside"
    elif kind == "link-loop":
        result["loop"] = "symlink:."
    else:
        result["proc"] = "symlink:/proc/self"
    return result


def mosaic_header(files: Files, rng: random.Random) -> Files:
    """Damage a mosaic's tile count (private 0019,xx0A), its CSA image header's numbers or its
    ImageType."""
    series = _Planes(files)
    mosaics = [n for n, d in series.datasets.items() if "MOSAIC" in str(d.get("ImageType", ""))]
    if not mosaics:
        raise NotApplicable
    name = rng.choice(mosaics)
    dataset = series.datasets[name]
    action = rng.choice(["count", "csa", "csa", "type"])
    if action == "count":
        for element in _group(dataset, 0x0019):
            if element.tag.element & 0xFF == 0x0A and element.tag.element > 0xFF:
                element.VR = "US"
                element.value = rng.choice([0, 1, 65535, 4096, 2])
    elif action == "type":
        dataset.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    else:
        for element in _group(dataset, 0x0029):
            value = element.value
            if isinstance(value, bytes) and value[:4] == b"SV10" and len(value) > 16:
                element.value = _damage_csa(value, rng)
    return series.done({name})


def _group(dataset: Dataset, group: int) -> list[Any]:
    """The elements of one group, as elements of ``dataset`` (changes stick)."""
    return [dataset[tag] for tag in list(dataset.keys()) if tag.group == group]


def _damage_csa(value: bytes, rng: random.Random) -> bytes:
    """Set one 32-bit number of a CSA2 header (a count, a length) to a hostile value."""
    buffer = bytearray(value)
    offsets = [8]  # the tag count
    at, tags = 16, struct.unpack_from("<L", value, 8)[0]
    for _ in range(min(tags, 200)):
        if at + 84 > len(value):
            break
        offsets += [at + 64, at + 76]  # VM, item count
        items = struct.unpack_from("<L", value, at + 76)[0]
        at += 84
        for _ in range(min(items, 100)):
            if at + 16 > len(value):
                break
            offsets.append(at + 4)  # item length
            length = struct.unpack_from("<L", value, at + 4)[0]
            at += 16 + ((length + 3) // 4) * 4
    where = rng.choice(offsets)
    struct.pack_into("<L", buffer, where, rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 1 << 20,
                                                      len(value)]))
    return bytes(buffer)


def enhanced_frames(files: Files, rng: random.Random) -> Files:
    """Damage an enhanced file's functional groups: a frame without position, an item too few,
    a FrameType of its own, the shared orientation removed, temporal indices repeated."""
    series = _Planes(files)
    enhanced = [n for n, d in series.datasets.items() if d.get("PerFrameFunctionalGroupsSequence")]
    if not enhanced:
        raise NotApplicable
    name = rng.choice(enhanced)
    dataset = series.datasets[name]
    frames = dataset.PerFrameFunctionalGroupsSequence
    item = rng.choice(list(frames))
    action = rng.choice(["no-position", "drop-item", "frame-type", "no-shared", "temporal"])
    if action == "no-position" and "PlanePositionSequence" in item:
        del item.PlanePositionSequence
    elif action == "drop-item":
        frames.remove(item)
    elif action == "frame-type":
        for element in item:
            if element.keyword.endswith("FrameTypeSequence") and element.value:
                element.value[0].FrameType = ["DERIVED", "PRIMARY", "ADC", "NONE"]
    elif action == "no-shared" and "SharedFunctionalGroupsSequence" in dataset:
        del dataset.SharedFunctionalGroupsSequence
    else:
        for other in frames:
            for content in other.get("FrameContentSequence") or []:
                content.TemporalPositionIndex = 1
                content.DimensionIndexValues = [1, 1]
    return series.done({name})


SERIES_MUTATIONS: dict[str, SeriesMutation] = {
    "positions": positions, "orientations": orientations, "spacing": spacing,
    "duplicate_file": duplicate_file, "missing_file": missing_file,
    "split_series": split_series, "instance_numbers": instance_numbers, "rename": rename,
    "extra_files": extra_files, "mosaic_header": mosaic_header,
    "enhanced_frames": enhanced_frames,
}
