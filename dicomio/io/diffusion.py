"""Diffusion gradients of a series as FSL's ``.bval`` and ``.bvec`` files, beside its NIfTI image.

:func:`diffusion_table` reads each volume's b-value and gradient direction from its first
image (:mod:`dicomio.dicom.diffusion` knows where each vendor stores them), in the order of
the volumes of :func:`dicomio.load_4d` (the same layout), places every direction in the patient
frame (LPS), and expresses it in the frame of the NIfTI image it is written beside — FSL's
convention: the components along the image's voxel axes ``i, j, k``, with the first negated
when the voxel-to-world matrix has a positive determinant (FSL's "neurological" images).
:func:`write_fsl` writes the two text files.

For the image dcm2niix writes (its rows reversed: axes ``r``, ``-c``, ``n`` of the row cosine,
column cosine and slice normal) this is dcm2niix's rule: ``(g·r, -g·c, g·n)``, normalised. The
image dicomio writes keeps the rows as stored (axes ``r, c, n``, a positive determinant), so its
b-vectors are ``(-g·r, g·c, g·n)``: the b-vectors always belong to one image, and the default
here is dicomio's (``nifti_affine`` names another). What differs from dcm2niix's files on
purpose (b=0 volumes, volumes not removed) is listed in docs/conversion.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dicomio.dicom.diffusion import (
    NO_WEIGHTING,
    StoredGradient,
    ge_patient_direction,
    ge_scaled,
    read_gradient,
)
from dicomio.dicom.elements import frame_item, numbers, private, text
from dicomio.dicom.frame import Frame
from dicomio.geometry.conventions import nifti_axes
from dicomio.geometry.stack import GeometryTolerances
from dicomio.io.atomic import write_text_atomically
from dicomio.io.headers import SeriesHeaders, Source, series_headers

__all__ = ["DiffusionTable", "diffusion_table", "fsl_bvecs", "write_fsl"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class DiffusionTable:
    """The diffusion weighting of each volume of a series, in the loaded image's order.

    Attributes
    ----------
    bvals
        b-value of each volume (s/mm²), shape ``(volumes,)``.
    bvecs
        Unit gradient direction of each volume in FSL's frame of the image ``nifti_affine``
        describes, shape ``(volumes, 3)``; zero for a volume without diffusion weighting or
        without a direction (a derived trace image).
    directions
        The same directions in the patient frame (LPS), NaN where the file does not say which
        frame its numbers are in (``bvecs`` then holds them as stored, as dcm2niix writes them,
        and ``warnings`` says so).
    nifti_affine
        The NIfTI affine (RAS, voxel ``(i, j, k)``) of the image the b-vectors belong to.
    isotropic
        The volumes that are derived isotropic (trace) images: weighted, but without a direction.
    sources
        Where each volume's values were read (which elements).
    warnings
        Everything that needed a choice the files do not make for us.
    """

    bvals: FloatArray
    bvecs: FloatArray
    directions: FloatArray
    nifti_affine: FloatArray
    isotropic: NDArray[np.bool_]
    sources: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.bvals)


def diffusion_table(
    source: Source,
    *,
    nifti_affine: ArrayLike | None = None,
    series: int | str | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
    ignore_unreadable: bool = False,
    follow_symlinks: bool = False,
) -> DiffusionTable | None:
    """The b-values and b-vectors of each volume of a series, or None if it has no diffusion
    weighting.

    Parameters
    ----------
    source
        Files or folders, a :class:`~dicomio.SeriesInfo`, or the :class:`~dicomio.Volume4D`
        loaded from them (see :func:`dicomio.io.headers.series_headers`).
    nifti_affine
        The NIfTI affine (RAS) of the image the b-vectors go with; default: that of the image
        dicomio writes for the series (``Volume4D.to_nibabel`` / ``write_volume``).
    series, tolerances, ignore_unreadable, follow_symlinks
        As for :func:`dicomio.load_4d`, whose volume order the table follows.

    Returns
    -------
    DiffusionTable or None
        None when no volume's first image holds a b-value above 0.

    Raises
    ------
    DicomIOError
        As for :func:`dicomio.load_4d`; or the series has no geometry to place the gradients in.
    """
    headers = series_headers(source, series=series, tolerances=tolerances,
                             ignore_unreadable=ignore_unreadable, follow_symlinks=follow_symlinks)
    stored = [read_gradient(headers.dataset(v[0]), v[0].index) for v in headers.volumes]
    if all(g is None or g.bvalue <= NO_WEIGHTING for g in stored):
        return None  # GE writes b=0 in every image of other series (dcm2niix writes no files)
    affine = (headers.default_nifti_affine() if nifti_affine is None
              else np.asarray(nifti_affine, dtype=np.float64))
    warnings: list[str] = []
    bvals, directions, raw, isotropic = [], [], [], []
    for number, (volume, gradient) in enumerate(zip(headers.volumes, stored, strict=True)):
        bvalue, direction, as_stored, trace = _placed(headers, volume[0], gradient, warnings,
                                                      number)
        bvals.append(bvalue)
        directions.append(direction)
        raw.append(as_stored)
        isotropic.append(trace)
    lps = np.array(directions, dtype=np.float64)
    bvecs = fsl_bvecs(np.nan_to_num(lps), affine)
    unknown = np.isnan(lps).any(axis=1)
    bvecs[unknown] = np.array(raw, dtype=np.float64)[unknown]
    return DiffusionTable(np.array(bvals, dtype=np.float64), bvecs, lps, affine,
                          np.array(isotropic, dtype=bool),
                          tuple(g.source if g else "none" for g in stored),
                          tuple(dict.fromkeys(warnings)))


def _placed(headers: SeriesHeaders, frame: Frame, gradient: StoredGradient | None,
            warnings: list[str], number: int
            ) -> tuple[float, FloatArray, FloatArray, bool]:
    """b-value, LPS unit direction (NaN: frame unknown), the direction as stored (unit) and
    whether the volume is a trace image, for one volume."""
    zero = np.zeros(3)
    if gradient is None:
        warnings.append(f"volume {number} holds no b-value: taken as b=0")
        return 0.0, zero, zero, False
    bvalue, vector = gradient.bvalue, gradient.vector
    length = 0.0 if vector is None else float(np.linalg.norm(vector))
    if bvalue <= NO_WEIGHTING or length <= NO_WEIGHTING:
        if bvalue > NO_WEIGHTING and gradient.frame == "ge" and not _ge_trace(headers, frame):
            return 0.0, zero, zero, False  # GE's raw b=0 stored with the nominal b-value
        trace = bvalue > NO_WEIGHTING
        if trace:
            warnings.append(f"volume {number} is weighted (b={bvalue:g}) without a direction: "
                            f"a derived isotropic (trace) image, its b-vector is 0")
        return bvalue, zero, zero, trace or gradient.isotropic
    assert vector is not None
    if gradient.frame == "patient":
        unit = np.asarray(vector, dtype=np.float64) / length
        return bvalue, unit, unit, gradient.isotropic
    bvalue, scaled = ge_scaled(bvalue, vector)
    stored = scaled / np.linalg.norm(scaled)
    rows = _phase_along_rows(headers, frame)
    if rows is None or frame.orientation is None:
        warnings.append("GE gradients are relative to the image, and the phase-encoding "
                        "direction (0018,1312) is not given: written as stored, unplaced "
                        "(as dcm2niix does)")
        return bvalue, np.full(3, np.nan), stored, False
    placed = ge_patient_direction(scaled, frame.orientation, rows)
    return bvalue, placed / np.linalg.norm(placed), stored, False


def _phase_along_rows(headers: SeriesHeaders, frame: Frame) -> bool | None:
    """InPlanePhaseEncodingDirection is ROW (True), COL (False), or unknown (None)."""
    value = text(frame_item(headers.dataset(frame), frame.index, "MRFOVGeometrySequence",
                            "InPlanePhaseEncodingDirection")).upper()
    return {"ROW": True, "COL": False, "COLUMN": False}.get(value)


def _ge_trace(headers: SeriesHeaders, frame: Frame) -> bool:
    """GE's weighted volume without a direction is a trace (ADC) image when the number of
    diffusion directions (0019,10E0) is 0, as dcm2niix reads it; else it is a b=0 image."""
    count = numbers(private(headers.dataset(frame), 0x0019, "GEMS_ACQU_01", 0xE0))
    return count is not None and count[0] == 0


def fsl_bvecs(directions: ArrayLike, nifti_affine: ArrayLike) -> FloatArray:
    """Patient-frame (LPS) directions in FSL's frame of a NIfTI image.

    Parameters
    ----------
    directions
        Shape ``(n, 3)``, LPS.
    nifti_affine
        The image's NIfTI affine (RAS, voxel ``(i, j, k)`` → mm).

    Returns
    -------
    ndarray
        Shape ``(n, 3)``: each direction's components along the unit voxel axes ``i, j, k``,
        the first negated when the axes have a positive determinant (FSL's rule); unit length
        (zero stays zero).
    """
    vectors = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    axes = nifti_axes(np.asarray(nifti_affine, dtype=np.float64))
    bvecs = vectors @ axes
    if np.linalg.det(axes) > 0:
        bvecs[:, 0] = -bvecs[:, 0]
    lengths = np.linalg.norm(bvecs, axis=1, keepdims=True)
    return np.divide(bvecs, lengths, out=np.zeros_like(bvecs), where=lengths > 0)


def _number(value: float) -> str:
    """A value as dcm2niix writes it (``%g``: six significant digits), never ``-0``."""
    text = f"{float(value) + 0.0:g}"
    return "0" if text == "-0" else text


def write_fsl(bvals: Sequence[float] | ArrayLike, bvecs: ArrayLike,
              stem: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``<stem>.bval`` (one line of b-values) and ``<stem>.bvec`` (three lines: the x, y
    and z components), space-separated, each file atomically.

    Parameters
    ----------
    bvals
        Shape ``(n,)``.
    bvecs
        Shape ``(n, 3)``, as :attr:`DiffusionTable.bvecs`.
    stem
        The path without extension; a ``.nii`` or ``.nii.gz`` name is taken without it.

    Returns
    -------
    tuple of Path
        The ``.bval`` and ``.bvec`` files.

    Raises
    ------
    ValueError
        The shapes disagree, or a value is not finite.
    """
    values = np.asarray(bvals, dtype=np.float64).reshape(-1)
    vectors = np.asarray(bvecs, dtype=np.float64)
    if vectors.shape != (values.size, 3):
        raise ValueError(f"bvecs must have shape ({values.size}, 3) for {values.size} b-values, "
                         f"not {vectors.shape}")
    if not (np.isfinite(values).all() and np.isfinite(vectors).all()):
        raise ValueError("b-values and b-vectors must be finite")
    path = Path(stem)
    for suffix in (".nii.gz", ".nii"):
        if path.name.endswith(suffix):
            path = path.with_name(path.name[:-len(suffix)])
    bval = write_text_atomically(path.with_name(path.name + ".bval"),
                                 " ".join(_number(v) for v in values) + "\n")
    bvec = write_text_atomically(path.with_name(path.name + ".bvec"),
                                 "".join(" ".join(_number(v) for v in vectors[:, axis]) + "\n"
                                         for axis in range(3)))
    return bval, bvec
