"""The pydicom backend: ``pydicom.dcmread`` and ``pydicom.pixels``, one file after another.

It is the reference implementation of the contract: simple, and built only on pydicom 3's own
decoding (with the plugins it finds: pylibjpeg, gdcm, pyjpegls, pillow).

Its reported geometry is what pydicom itself reads from each file — ImagePositionPatient,
ImageOrientationPatient and PixelSpacing (from the functional groups of an enhanced file) —
not dicomio's header scan: every slice's own position, the first file's orientation and
pixel spacing, and the step from the first slice to the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dicomio.backends.base import (
    BackendSpec,
    ReadOptions,
    ReadResult,
    ReportedGeometry,
    slots_by_file,
    volume_dtype,
)
from dicomio.dicom.source import read_dataset
from dicomio.dicom.types import FileHeader
from dicomio.errors import DecoderFailedError
from dicomio.pixels.decoders import choose_decoder, decodable_uids, decoders_for, decodes_syntax
from dicomio.pixels.pydicom_read import read_file_with_pydicom
from dicomio.series.info import SeriesInfo

__all__ = ["SPEC", "Reader", "pydicom_geometry"]


def _pydicom_unable(series: SeriesInfo) -> str | None:
    if series.pixel.bits_allocated == 1:  # segmentations: no stored dtype of 1 bit
        return "BitsAllocated 1 (bit-packed pixels, as in segmentations) is not supported"
    return None


SPEC = BackendSpec(
    name="pydicom",
    module="dicomio.backends.pydicom_backend",
    requires=("pydicom",),
    distribution="pydicom",
    extra=None,
    summary="pydicom.dcmread + pydicom.pixels, one file after another (plugins: pylibjpeg, "
            "gdcm, pyjpegls, pillow)",
    syntaxes=decodable_uids,
    decodes=decodes_syntax,
    unable=_pydicom_unable,
)


class Reader:
    """Read a series with pydicom."""

    def read(self, series: SeriesInfo, options: ReadOptions) -> ReadResult:
        out = np.empty(series.shape, dtype=volume_dtype(series, options))
        used, warnings = set(), []
        for header, slots in slots_by_file(series):
            plugins = _plugins(header, options)
            failures: list[str] = []
            for plugin in plugins:
                try:
                    used.add(read_file_with_pydicom(header, slots, out, plugin,
                                                    rescale=options.rescale,
                                                    keep_high_bits=options.keep_high_bits))
                except DecoderFailedError as exc:
                    failures.append(exc.message)
                    continue
                if failures:
                    warnings.append(f"{header.path}: decoded by pydicom/{plugin}, tried first: "
                                    f"{'; '.join(failures)}")
                break
            else:
                raise DecoderFailedError("; ".join(failures), path=header.path)
        return ReadResult(out, decoders=tuple(sorted(used)), warnings=warnings,
                          reported_geometry=pydicom_geometry(series))


def _plugins(header: FileHeader, options: ReadOptions) -> list[str]:
    """pydicom's plugins to decode a file with, in order: the first choice, then (unless one
    was asked for by name) the other installed ones; ``[""]`` for native data."""
    prefer = _plugin_name(options.decoder)
    first = choose_decoder(header.transfer_syntax, header.pixel, prefer=prefer,
                           pydicom_only=True)
    if first is None:
        return [""]
    if prefer is not None:
        return [first.plugin or ""]
    others = [d.plugin or "" for d in decoders_for(header.transfer_syntax, header.pixel)
              if d.plugin is not None and d != first]
    return [first.plugin or "", *others]


def _plugin_name(decoder: str | None) -> str | None:
    """The pydicom backend only uses pydicom's plugins: ignore a request for imagecodecs."""
    if decoder is None or decoder == "imagecodecs":
        return None
    return decoder


_Plane = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]


def pydicom_geometry(series: SeriesInfo) -> ReportedGeometry | None:
    """Where pydicom says each image of ``series`` is: each one's ImagePositionPatient as
    pydicom reads it from its file (per-frame functional groups for enhanced files), the
    first one's orientation and pixel spacing, and the mean step from the first to the last.

    None when an image has no usable position, orientation or spacing in pydicom's reading.
    """

    datasets: dict[int, Any] = {}
    planes = []
    for frame in series.frames:
        if id(frame.header) not in datasets:
            try:
                datasets[id(frame.header)] = read_dataset(frame.header.origin,
                                                          stop_before_pixels=True)
            except Exception:  # the pixels were read: only the geometry is left unreported
                return None
        plane = _plane(datasets[id(frame.header)], frame.index)
        if plane is None:
            return None
        planes.append(plane)
    positions = np.array([p[0] for p in planes], dtype=np.float64)
    orientation = np.asarray(planes[0][1], dtype=np.float64)
    along_row, down_column = orientation[:3], orientation[3:]
    span = positions[-1] - positions[0]
    length = float(np.linalg.norm(span))
    if len(positions) > 1 and length > 0:
        normal, step = span / length, length / (len(positions) - 1)
    else:
        normal, step = np.cross(along_row, down_column), 1.0
    matrix = np.column_stack([normal, down_column / np.linalg.norm(down_column),
                              along_row / np.linalg.norm(along_row)])
    row_spacing, column_spacing = (float(v) for v in planes[0][2])
    return ReportedGeometry(
        origin=_triple(positions[0]),
        spacing=(step, row_spacing, column_spacing),
        direction=tuple(_triple(row) for row in matrix),
        positions=tuple(_triple(p) for p in positions),
        source="pydicom: each file's ImagePositionPatient, ImageOrientationPatient and "
               "PixelSpacing",
    )


def _triple(values: Sequence[float]) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


def _plane(dataset: Any, index: int) -> _Plane | None:
    """Position, orientation and pixel spacing of frame ``index`` as pydicom reads them."""
    def first(sequence: str, keyword: str, groups: Any) -> Any:
        for group in groups:
            items = group.get(sequence) if group is not None else None
            if items and keyword in items[0]:
                return items[0].get(keyword)
        return None

    try:
        if "PerFrameFunctionalGroupsSequence" in dataset:
            groups = [dataset.PerFrameFunctionalGroupsSequence[index],
                      (dataset.get("SharedFunctionalGroupsSequence") or [None])[0]]
            position = first("PlanePositionSequence", "ImagePositionPatient", groups)
            orientation = first("PlaneOrientationSequence", "ImageOrientationPatient", groups)
            spacing = first("PixelMeasuresSequence", "PixelSpacing", groups)
        else:
            position = dataset.get("ImagePositionPatient")
            orientation = dataset.get("ImageOrientationPatient")
            spacing = dataset.get("PixelSpacing")
        plane = (tuple(float(v) for v in position), tuple(float(v) for v in orientation),
                 tuple(float(v) for v in spacing))
    except (TypeError, ValueError, IndexError, AttributeError):
        return None
    if (len(plane[0]), len(plane[1]), len(plane[2])) != (3, 6, 2) \
            or not np.all(np.isfinite(np.concatenate(plane))):
        return None
    return plane
