"""One series converted: read as a volume or, when it holds several volumes of the same
slices, as 4-D; written as NIfTI in dcm2niix's voxel order (or NRRD, ``.npz``), with the BIDS
sidecar and, for a diffusion series, FSL's ``.bval`` and ``.bvec`` beside a NIfTI
(docs/conversion.md).

The one home of "convert one series": ``dicomio convert`` to a file, with ``--name``, and into
a folder (:class:`dicomio.archive.conversion.ConvertTask`) all go through
:func:`read_for_output` and :func:`write_converted`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dicomio.geometry.stack import GeometryTolerances
    from dicomio.io.writers import Format
    from dicomio.load import Scaling
    from dicomio.read import Irregular
    from dicomio.series.info import SeriesInfo
    from dicomio.series.layout import SeriesLayout
    from dicomio.volume import Volume, Volume4D

__all__ = ["SeriesRead", "Written", "as_dcm2niix_stores", "read_for_output",
           "write_converted"]


@dataclass(frozen=True)
class SeriesRead:
    """A series read for output.

    Attributes
    ----------
    series
        The series (stack) read.
    layout
        What it is (one volume, 4-D...), as :func:`dicomio.series.layout.lay_out` says.
    volume
        A :class:`~dicomio.Volume`, or a :class:`~dicomio.Volume4D` for a 4-D series.
    scaling
        The (slope, intercept) of stored values read as such, for a NIfTI's scl_slope and
        scl_inter; None when the values are those to write.
    values
        Which values the image holds, or its scl_slope and scl_inter give: ``"modality"``
        (RescaleSlope and RescaleIntercept) or ``"philips_precise"`` (Philips'
        floating-point values), as ``scaling`` of :func:`dicomio.load_volume`.
    """

    series: SeriesInfo
    layout: SeriesLayout
    volume: Volume | Volume4D
    scaling: tuple[float, float] | None = None
    values: Scaling = "modality"

    @property
    def is_4d(self) -> bool:
        """Whether the series was read as volumes of the same slices."""
        return self.layout.kind == "4d"


@dataclass
class Written:
    """The files :func:`write_converted` wrote (the image first), the dtype the image holds,
    and what it noticed (a b-value table's warnings)."""

    files: list[Path] = field(default_factory=list)
    dtype: str = ""
    warnings: list[str] = field(default_factory=list)


def read_for_output(
    series: SeriesInfo,
    format: Format | None = None,
    *,
    backend: str = "auto",
    rescale: bool = True,
    irregular: Irregular = "raise",
    ignore_unreadable: bool = False,
    workers: int | None = None,
    tolerances: GeometryTolerances | None = None,
    scaling: Scaling = "modality",
) -> SeriesRead:
    """Read ``series`` with :func:`dicomio.load_4d` when it holds several volumes of the same
    slices, else with :func:`dicomio.load_volume` (the other arguments are theirs).

    To write it as ``format``: a NIfTI is read as dcm2niix writes it, the stored values with
    the one (slope, intercept) that gives the values ``scaling`` asks for in
    :attr:`SeriesRead.scaling`; images with different rescales, other formats, and
    ``format=None`` (not to be written) give those values themselves (stored ones without
    ``rescale``).
    """
    from dicomio.geometry.stack import GeometryTolerances
    from dicomio.load import load_4d, load_volume
    from dicomio.series.layout import lay_out
    from dicomio.series.vendor import philips_precise

    layout = lay_out(series)
    load = load_4d if layout.kind == "4d" else load_volume
    values = scaling if rescale else "modality"

    def read(rescaled: bool) -> Volume | Volume4D:
        return load(series, backend, rescale=rescaled, irregular=irregular, workers=workers,
                    ignore_unreadable=ignore_unreadable,
                    tolerances=tolerances or GeometryTolerances(),
                    scaling=values if rescaled else "modality")

    if format != "nifti" or not rescale:
        return SeriesRead(series, layout, read(rescale), values=values)
    scaled = philips_precise(series)[0] if values == "philips_precise" else series
    chosen = {(frame.header.path, frame.index) for frame in layout.frames}
    pairs = {(f.slope, f.intercept) for f in scaled.frames if (f.header.path, f.index) in chosen}
    if len(pairs) != 1:  # images with different rescales: the values themselves
        return SeriesRead(series, layout, read(True), values=values)
    pair = next(iter(pairs))
    return SeriesRead(series, layout, read(False), None if pair == (1.0, 0.0) else pair,
                      values)


def as_dcm2niix_stores(volume: Volume | Volume4D) -> Volume | Volume4D:
    """``volume`` with unsigned 16-bit values that fit signed 16 bits stored as ``int16``,
    as dcm2niix stores them (the values are the same)."""
    array = volume.array
    if array.dtype != np.uint16 or array.size == 0 or int(array.max()) > np.iinfo(np.int16).max:
        return volume
    return replace(volume, array=array.astype(np.int16))


def write_converted(
    read: SeriesRead,
    target: Path,
    format: Format,
    *,
    overwrite: bool = False,
    sidecar: bool = True,
    ignore_unreadable: bool = False,
    within: str | os.PathLike[str] | None = None,
) -> Written:
    """Write ``read`` to ``target`` and, beside a NIfTI, its sidecar (unless not
    ``sidecar``) and the b-value table of a diffusion series.

    A NIfTI is in dcm2niix's voxel order with a 4-D series' volumes last, and
    :attr:`SeriesRead.scaling` in its scl_slope and scl_inter; colour NIfTI, NRRD and npz
    are in dicomio's order.

    Raises
    ------
    ValueError
        A 4-D series to a format other than NIfTI.
    MissingGeometryError
        The volume's geometry is not finite.
    OSError
        A file cannot be written.
    """
    from dicomio.io.nifti_order import dcm2niix_order, ordered_image
    from dicomio.io.writers import check_finite, write_nifti_image, write_volume
    from dicomio.volume import Volume4D

    volume = read.volume
    if format != "nifti" or (not isinstance(volume, Volume4D) and volume.array.ndim > 3):
        if isinstance(volume, Volume4D):
            raise ValueError(f"{target}: a 4-D series ({len(volume)} volumes) is written as "
                             f"NIfTI: name a .nii or .nii.gz file, or pass --to nifti")
        written = Written([write_volume(volume, target, format=format, overwrite=overwrite,
                                        within=within)], str(volume.dtype))
        if format == "nifti":
            _beside(read, target, None, sidecar, ignore_unreadable, written)
        return written
    volumes = len(volume) if isinstance(volume, Volume4D) else 1
    check_finite(volume, target)  # before the image is made of it
    stored = as_dcm2niix_stores(volume)
    image = ordered_image(stored, dcm2niix_order(read.layout, volumes))
    if read.scaling is not None:  # stored values, and the rescale that makes them modality's
        image.header.set_slope_inter(*read.scaling)
    written = Written([write_nifti_image(stored, image, target, overwrite=overwrite,
                                         within=within)], str(stored.dtype))
    _beside(read, target, np.asarray(image.affine, dtype=np.float64), sidecar,
            ignore_unreadable, written)
    return written


def _beside(read: SeriesRead, target: Path, affine: np.ndarray | None, sidecar: bool,
            ignore_unreadable: bool, written: Written) -> None:
    """Add to ``written`` the sidecar and the b-value table of a diffusion series, for the
    image written (``affine``: its NIfTI affine; None for dicomio's own order)."""
    from dicomio.io.diffusion import diffusion_table, write_fsl
    from dicomio.io.sidecar import sidecar as sidecar_fields
    from dicomio.io.sidecar import write_sidecar

    if sidecar:
        fields = sidecar_fields(read.series, nifti_affine=affine,
                                ignore_unreadable=ignore_unreadable, scaling=read.values)
        written.files.append(write_sidecar(fields, target))
    if read.is_4d:
        table = diffusion_table(read.series, nifti_affine=affine,
                                ignore_unreadable=ignore_unreadable)
        if table is not None:
            written.warnings += table.warnings
            written.files += list(write_fsl(table.bvals, table.bvecs, target))
