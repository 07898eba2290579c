"""Write multi-frame, mosaic and 4-D series whose truth is known (companion of
:mod:`dicomio.testing.synthetic`)::

    from dicomio.testing.synthetic import SeriesSpec
    from dicomio.testing.multiframe import write_enhanced, write_mosaic, write_4d

    truth = write_enhanced("enh/", SeriesSpec(shape=(6, 16, 20), modality="MR"), volumes=3)
    truth.stored       # (volume, slice, row, column), slices ascending along the normal
    truth.affine       # the affine dicomio must return

- :func:`write_enhanced`: Enhanced CT/MR files whose geometry, rescale and timing live only in
  the functional groups, frames shuffled, volumes optionally split over several files and given
  different FrameTypes;
- :func:`write_mosaic`: Siemens mosaics (one file per volume) with a CSA image header, slices
  stored foot to head or head to foot, the slice count in the private group 0019 or only in
  the CSA header;
- :func:`write_4d`: a classic series of several volumes at the same positions, whose volume
  order is given by TemporalPositionIdentifier, AcquisitionTime or InstanceNumber.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dicomio.testing._dataset import (
    encode_frame,
    image_dataset,
    native_bytes,
    per_slice,
    save,
    slice_geometry,
)
from dicomio.testing.synthetic import (
    EXPLICIT_LE,
    IMPLICIT_LE,
    SeriesSpec,
    WrittenSeries,
    phantom,
    write_series,
)

__all__ = ["WrittenVolumes", "csa_header", "write_4d", "write_enhanced", "write_mosaic"]

_ENHANCED = {"CT": "1.2.840.10008.5.1.4.1.1.2.1", "MR": "1.2.840.10008.5.1.4.1.1.4.1"}
_DEFAULT_FRAME_TYPE = ("ORIGINAL", "PRIMARY", "VOLUME", "NONE")


@dataclass
class WrittenVolumes(WrittenSeries):
    """Written volumes and their truth: a :class:`~dicomio.testing.synthetic.WrittenSeries` whose
    ``stored`` (volumes, slices, rows, columns), ``slopes`` and ``intercepts`` (volumes, slices)
    gain a leading volume axis. ``positions`` and ``affine`` are shared by every volume, slices
    ascending along the normal; ``files`` are in volume order."""

    def modality_values(self) -> NDArray[np.float64]:
        """``stored * slope + intercept``, in float64."""
        return self.stored * self.slopes[..., None, None] + self.intercepts[..., None, None]


def _truth(spec: SeriesSpec, volumes: int) -> tuple[NDArray[Any], NDArray[np.float64],
                                                    NDArray[np.intp], NDArray[np.float64]]:
    """Stored values of each volume (instance order), positions, the order sorting them
    along the normal, and the affine of the sorted stack."""
    positions, normal, _ = slice_geometry(spec)
    stored = np.stack([phantom(spec.with_(seed=spec.seed + 17 * t)) for t in range(volumes)])
    order = np.argsort(positions @ normal, kind="stable")
    kept = positions[order]
    iop = np.asarray(spec.orientation, dtype=np.float64)
    affine = np.eye(4)
    affine[:3, 0] = (kept[-1] - kept[0]) / max(len(kept) - 1, 1)
    affine[:3, 1] = iop[3:] * spec.pixel_spacing[0]
    affine[:3, 2] = iop[:3] * spec.pixel_spacing[1]
    affine[:3, 3] = kept[0]
    return stored, positions, order, affine


def _item(**values: Any) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _ds(value: float) -> str:
    text = f"{value:.10g}"
    return text if len(text) <= 16 else f"{value:.8e}"


def write_enhanced(
    folder: str | os.PathLike[str],
    spec: SeriesSpec = SeriesSpec(modality="MR"),
    *,
    volumes: int = 1,
    files: int = 1,
    shuffle: bool = True,
    frame_types: Sequence[Sequence[str]] | None = None,
) -> WrittenVolumes:
    """Write ``volumes`` volumes of ``spec`` as Enhanced CT/MR images with functional groups.

    Orientation and pixel spacing go in the shared functional groups; each frame's position,
    rescale (``spec.rescale_slope``/``intercept`` per slice), FrameContent (temporal index,
    stack position, acquisition time) and FrameType in its per-frame group. Nothing of the
    geometry is at the top level.

    Parameters
    ----------
    volumes, files
        Time points written, split evenly over ``files`` files (``volumes % files == 0``).
    shuffle
        Store the frames of each file in a random order.
    frame_types
        FrameType of each volume (default: all ``ORIGINAL\\PRIMARY\\VOLUME\\NONE``).
    """
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID, generate_uid

    if volumes % files:
        raise ValueError(f"{volumes} volumes cannot be split evenly over {files} files")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stored, positions, order, affine = _truth(spec, volumes)
    n = spec.shape[0]
    slopes = per_slice(spec.rescale_slope, n)
    intercepts = per_slice(spec.rescale_intercept, n)
    types = [tuple(t) for t in frame_types] if frame_types else [_DEFAULT_FRAME_TYPE] * volumes
    series_uid = spec.series_uid or generate_uid()
    study_uid = spec.study_uid or generate_uid()
    frame_of_reference = generate_uid()
    rng = np.random.default_rng(spec.seed + 99)
    per_file = volumes // files
    sop_class = _ENHANCED.get(spec.modality, _ENHANCED["MR"])
    type_sequence = "CTImageFrameTypeSequence" if spec.modality == "CT" \
        else "MRImageFrameTypeSequence"
    written = []
    for number in range(files):
        frames = [(t, s) for t in range(number * per_file, (number + 1) * per_file)
                  for s in range(n)]
        if shuffle:
            frames = [frames[i] for i in rng.permutation(len(frames))]
        sop_uid = generate_uid()
        ds = image_dataset(spec, stored[0, 0], positions[0], number, 1.0, 0.0, series_uid,
                           study_uid, frame_of_reference, sop_uid)
        for keyword in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing",
                        "RescaleSlope", "RescaleIntercept", "RescaleType", "SliceThickness"):
            delattr(ds, keyword)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
        ds.NumberOfFrames = len(frames)
        ds.SharedFunctionalGroupsSequence = [_item(
            PlaneOrientationSequence=[_item(ImageOrientationPatient=[
                _ds(v) for v in spec.orientation])],
            PixelMeasuresSequence=[_item(
                PixelSpacing=[_ds(v) for v in spec.pixel_spacing],
                SliceThickness=_ds(abs(spec.slice_spacing)))],
        )]
        ds.PerFrameFunctionalGroupsSequence = [_item(**{
            "PlanePositionSequence": [_item(ImagePositionPatient=[
                _ds(v) for v in positions[s]])],
            "PixelValueTransformationSequence": [_item(
                RescaleSlope=_ds(slopes[s]), RescaleIntercept=_ds(intercepts[s]),
                RescaleType="HU" if spec.modality == "CT" else "US")],
            "FrameContentSequence": [_item(
                StackID="1", InStackPositionNumber=s + 1, TemporalPositionIndex=t + 1,
                DimensionIndexValues=[s + 1, t + 1],
                FrameAcquisitionDateTime=f"20260101120{t:03d}.{s:06d}")],
            type_sequence: [_item(FrameType=list(types[t]))],
        }) for t, s in frames]
        pixels = np.stack([stored[t, s] for t, s in frames])
        if spec.transfer_syntax in (EXPLICIT_LE, IMPLICIT_LE):
            ds.PixelData = native_bytes(spec, pixels, rng)
            ds["PixelData"].VR = "OW" if spec.bits_allocated > 8 else "OB"
        else:
            ds.PixelData = encapsulate([encode_frame(spec, frame) for frame in pixels])
            ds["PixelData"].VR = "OB"
        path = folder / f"enhanced_{number + 1}.dcm"
        ds.save_as(path, enforce_file_format=True)
        written.append(path)
    return WrittenVolumes(spec, folder, written, stored[:, order], positions[order], affine,
                          np.tile(slopes[order], (volumes, 1)),
                          np.tile(intercepts[order], (volumes, 1)), series_uid)


def csa_header(elements: Mapping[str, tuple[str, Sequence[str]]], *, version: int = 2) -> bytes:
    """Encode a Siemens CSA header: ``{name: (vr, items)}``, in the CSA2 (``SV10``) or the
    older CSA1 layout (whose item lengths are offset by the item count of element 1)."""
    names = list(elements)
    offset = len(elements[names[1]][1]) if version == 1 and len(names) > 1 else 0
    parts = [b"SV10\x04\x03\x02\x01" if version == 2 else b"",
             struct.pack("<2I", len(names), 77)]
    for number, name in enumerate(names):
        vr, items = elements[name]
        parts.append(struct.pack("<64si4s3i", name.encode(), len(items), vr.encode(), 0,
                                 len(items), 77))
        for item in items:
            data = item.encode() + b"\x00"
            shift = offset if number >= 1 else 0
            parts.append(struct.pack("<4i", len(data) + shift, len(data), 77, len(data)))
            parts.append(data + b"\x00" * (-len(data) % 4))
    return b"".join(parts)


def write_mosaic(
    folder: str | os.PathLike[str],
    spec: SeriesSpec = SeriesSpec(shape=(5, 12, 14), modality="MR", rescale_intercept=0.0),
    *,
    volumes: int = 1,
    descending: bool = False,
    csa_version: int = 2,
    private_count: bool = True,
) -> WrittenVolumes:
    """Write ``volumes`` Siemens mosaics of ``spec`` (one file each).

    Parameters
    ----------
    descending
        Store the slices head to foot: tile 0 is the last slice along the normal and the CSA
        SliceNormalVector points against ``row cosine × column cosine``.
    csa_version
        Layout of the CSA image header (2: ``SV10``; 1: the older one).
    private_count
        Also write NumberOfImagesInMosaic in (0019,xx0A); False leaves it only in the CSA
        header (as in files whose group 0019 was stripped).
    """
    from pydicom.uid import generate_uid

    if spec.tilt_degrees:
        raise ValueError("mosaic slices cannot be sheared")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stored, positions, order, affine = _truth(spec, volumes)
    n, rows, columns = spec.shape
    per_row = math.ceil(math.sqrt(n))
    acquisition = order[::-1] if descending else order  # slice held by tile k
    iop = np.asarray(spec.orientation, dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:]) * (-1 if descending else 1)
    shift = ((per_row - 1) * rows / 2 * spec.pixel_spacing[0] * iop[3:]
             + (per_row - 1) * columns / 2 * spec.pixel_spacing[1] * iop[:3])
    corner = positions[acquisition[0]] - shift
    series_uid = spec.series_uid or generate_uid()
    study_uid = spec.study_uid or generate_uid()
    frame_of_reference = generate_uid()
    slope = float(per_slice(spec.rescale_slope, 1)[0])
    intercept = float(per_slice(spec.rescale_intercept, 1)[0])
    csa = csa_header({
        "EchoLinePosition": ("IS", ["32"]),
        "NumberOfImagesInMosaic": ("US", [str(n)]),
        "SliceNormalVector": ("FD", [f"{v:.8f}" for v in normal]),
    }, version=csa_version)
    written = []
    for t in range(volumes):
        mosaic = np.zeros((per_row * rows, per_row * columns), dtype=stored.dtype)
        for k, s in enumerate(acquisition):
            top, left = (k // per_row) * rows, (k % per_row) * columns
            mosaic[top:top + rows, left:left + columns] = stored[t, s]
        ds = image_dataset(spec.with_(slice_thickness=abs(spec.slice_spacing) * 0.8), mosaic,
                           corner, t, slope, intercept, series_uid, study_uid,
                           frame_of_reference, generate_uid())
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"]
        ds.SpacingBetweenSlices = _ds(abs(spec.slice_spacing))
        ds.AcquisitionNumber = t + 1
        ds.AcquisitionTime = f"1200{t:02d}.500000"
        if private_count:
            ds.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(
                0x0A, "US", n)
        ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True).add_new(0x10, "OB", csa)
        path = folder / f"mosaic_{t + 1:03d}.dcm"
        save(ds, path, spec, mosaic)
        written.append(path)
    slopes = np.full((volumes, n), slope)
    return WrittenVolumes(spec, folder, written, stored[:, order], positions[order], affine,
                          slopes, np.full((volumes, n), intercept), series_uid)


OrderKey = Literal["instance", "temporal", "time"]


def write_4d(
    folder: str | os.PathLike[str],
    spec: SeriesSpec = SeriesSpec(),
    *,
    volumes: int = 3,
    key: OrderKey = "instance",
) -> WrittenVolumes:
    """Write ``volumes`` classic volumes of ``spec`` at the same positions, one series.

    ``key`` decides which attribute alone tells the volume order: ``"instance"``
    (InstanceNumber counts volume by volume), ``"temporal"`` (TemporalPositionIdentifier;
    InstanceNumbers are reversed) or ``"time"`` (AcquisitionTime; InstanceNumbers reversed).
    """
    import pydicom
    from pydicom.uid import generate_uid

    folder = Path(folder)
    series_uid = spec.series_uid or generate_uid()
    study_uid = spec.study_uid or generate_uid()
    stored = []
    files: list[Path] = []
    truth = None
    for t in range(volumes):
        truth = write_series(folder, spec.with_(series_uid=series_uid, study_uid=study_uid,
                                                seed=spec.seed + 17 * t), naming="uid")
        stored.append(truth.stored)
        for s, path in enumerate(truth.files):
            ds = pydicom.dcmread(path)
            counted = t if key == "instance" else volumes - 1 - t
            ds.InstanceNumber = counted * len(truth.files) + s + 1
            if key == "temporal":
                ds.TemporalPositionIdentifier = t + 1
                ds.NumberOfTemporalPositions = volumes
            if key == "time":
                ds.AcquisitionTime = f"1200{t:02d}.{s:06d}"
            ds.save_as(path, enforce_file_format=True)
            files.append(path)
    assert truth is not None
    return WrittenVolumes(spec, folder, files, np.stack(stored), truth.positions, truth.affine,
                          np.tile(truth.slopes, (volumes, 1)),
                          np.tile(truth.intercepts, (volumes, 1)), series_uid)
