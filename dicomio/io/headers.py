"""A series laid out as :func:`dicomio.load_4d` lays it out, with each file's full header.

What a conversion writes beside the image — the b-value table, the JSON sidecar — describes
the volumes of the image in the image's order, and needs attributes the fast header walk does
not keep (private ones among them). :func:`series_headers` chooses the series and lays it out
exactly as :func:`dicomio.load_4d` does (:func:`dicomio.series.choose.select_series`, then
:func:`dicomio.series.layout.lay_out`), so volume ``t`` here is volume ``t`` of the loaded
image; the files are then read with pydicom (without their pixel data), each once, when first
asked for. Given a :class:`~dicomio.volume.Volume4D`, it lays out the files the volume was
loaded from and checks that this gives the same files in the same order and as many volumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dicomio.dicom.frame import Frame
from dicomio.dicom.source import read_dataset
from dicomio.errors import DicomIOError, InvalidDicomError
from dicomio.geometry.conventions import nifti_affine
from dicomio.geometry.stack import GeometryTolerances
from dicomio.series.choose import select_series
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import PathInput
from dicomio.series.layout import SeriesLayout, lay_out, not_volumes_error
from dicomio.volume import Volume, Volume4D

__all__ = ["SeriesHeaders", "Source", "series_headers"]

#: What the conversion outputs describe: files or folders, a chosen series, or a loaded volume.
Source = PathInput | SeriesInfo | Volume | Volume4D


@dataclass
class SeriesHeaders:
    """The volumes of a series, their frames, and the files' pydicom data sets.

    Attributes
    ----------
    series
        The chosen series.
    layout
        Its layout (the one :func:`dicomio.load_4d` reads).
    """

    series: SeriesInfo
    layout: SeriesLayout
    _datasets: dict[Path, Any] = field(default_factory=dict, repr=False)

    @property
    def volumes(self) -> tuple[tuple[Frame, ...], ...]:
        """The frames of each volume, in the loaded image's order (slices along the normal)."""
        return self.layout.volumes if self.layout.kind == "4d" else self.layout.volumes[:1]

    @property
    def slices(self) -> tuple[Frame, ...]:
        """The frames of the first volume, in slice order."""
        return self.volumes[0]

    def dataset(self, frame: Frame) -> Any:
        """The pydicom data set of the file holding ``frame`` (read once, without pixels).

        Raises
        ------
        InvalidDicomError
            pydicom cannot read the file.
        """
        path = frame.path
        if path not in self._datasets:
            try:
                self._datasets[path] = read_dataset(frame.header.origin, stop_before_pixels=True)
            except Exception as exc:  # pydicom raises many types for damaged files
                raise InvalidDicomError(f"pydicom cannot read the header: {exc}",
                                        path=path) from None
        return self._datasets[path]

    @property
    def first(self) -> Any:
        """The data set of the first image of the first volume."""
        return self.dataset(self.slices[0])

    def default_nifti_affine(self) -> NDArray[np.float64]:
        """The NIfTI affine (RAS, voxel ``(i, j, k)``) of the image dicomio writes for this
        series (:func:`dicomio.io.convert.to_nibabel` of the loaded volume).

        Raises
        ------
        DicomIOError
            The series has no usable geometry.
        """
        geometry = self.layout.geometry
        if geometry is None:
            raise DicomIOError(f"series {self.series.key} has no usable geometry: "
                               f"{self.layout.problem or self.series.geometry_problem}",
                               path=self.slices[0].path)
        return nifti_affine(geometry.affine)


def series_headers(source: Source, *, series: int | str | None = None,
                   tolerances: GeometryTolerances = GeometryTolerances(),
                   ignore_unreadable: bool = False,
                   follow_symlinks: bool = False) -> SeriesHeaders:
    """Choose and lay out a series as :func:`dicomio.load_4d` does (same arguments).

    Parameters
    ----------
    source
        Files or folders (``series`` picks one of their series), a :class:`SeriesInfo`, or a
        :class:`~dicomio.Volume` / :class:`~dicomio.Volume4D` (its files, its series).
    series, tolerances, ignore_unreadable, follow_symlinks
        As for :func:`dicomio.load_4d`.

    Raises
    ------
    RepeatedPositionsError
        The images do not form volumes of the same slices (``load_4d`` refuses them too).
    DicomIOError
        A volume's files no longer lay out as they were loaded; or as for ``load_4d``.
    """
    loaded: Volume | Volume4D | None = None
    paths: PathInput | SeriesInfo
    if not isinstance(source, (Volume, Volume4D)):
        paths = source
    elif source.provenance is None:
        raise DicomIOError("the volume has no provenance: its files are unknown")
    else:
        loaded = source
        paths, series = list(source.provenance.files), source.provenance.series_uid or series
    chosen, _ = select_series(paths, series, ignore_unreadable=ignore_unreadable,
                              tolerances=tolerances, follow_symlinks=follow_symlinks)
    layout = lay_out(chosen, tolerances)
    if layout.kind == "repeated":
        raise not_volumes_error(chosen, layout)
    headers = SeriesHeaders(chosen, layout)
    if loaded is not None:
        _check_same(headers, loaded)
    return headers


def _check_same(headers: SeriesHeaders, loaded: Volume | Volume4D) -> None:
    """The laid-out frames are those the volume was loaded from, in the same order."""
    assert loaded.provenance is not None
    frames = [frame for volume in headers.volumes for frame in volume]
    files = tuple(dict.fromkeys(frame.path for frame in frames))
    count = len(loaded) if isinstance(loaded, Volume4D) else 1
    if files != tuple(loaded.provenance.files) or len(headers.volumes) != count:
        raise DicomIOError(
            f"the files of series {headers.series.key} lay out as {len(headers.volumes)} "
            f"volume(s) of {len(files)} file(s), not as the {count} volume(s) of "
            f"{len(loaded.provenance.files)} file(s) loaded: pass the folder and the "
            f"options it was loaded with", path=files[:1] or None)
