"""``load_volume``: from a folder (or files) to a :class:`Volume` you can trust."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .backends import ReadOptions, select
from .backends.base import volume_dtype
from .backends.pydicom_backend import read_file_with_pydicom
from .errors import (
    CorruptDataError,
    GeometryError,
    MissingGeometryError,
    MultipleSeriesError,
    NoDicomFilesError,
    RepeatedPositionsError,
    SeriesNotFoundError,
    UnreadableFilesError,
)
from .geometry import GeometryTolerances, affine_from
from .sanity import check_pixel_data_size
from .series import Inventory, PathInput, SeriesInfo, scan
from .volume import Provenance, Volume

__all__ = ["choose_series", "load_volume"]

Irregular = Literal["raise", "accept"]


def choose_series(
    found: list[SeriesInfo], selector: int | str | None, *, path: Any = None
) -> SeriesInfo:
    """Pick one series by index, UID (or ``uid#stack`` key); the only one when ``None``.

    Raises
    ------
    MultipleSeriesError
        ``selector`` is None (or a UID shared by several stacks) and there is a choice to make.
    SeriesNotFoundError
        Nothing matches ``selector``.
    """
    if selector is None:
        if len(found) > 1:
            raise MultipleSeriesError(found, path=path)
        return found[0]
    if isinstance(selector, (int, np.integer)) and not isinstance(selector, bool):
        if not -len(found) <= selector < len(found):
            raise SeriesNotFoundError(
                f"series index {selector} is out of range: there are {len(found)} series",
                path=path)
        return found[int(selector)]
    if isinstance(selector, str):
        text = selector.strip()
        if text.isdigit() and all(s.uid != text for s in found):
            return choose_series(found, int(text), path=path)
        matches = [s for s in found if text in (s.key, s.uid)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise MultipleSeriesError(matches, path=path)
    raise SeriesNotFoundError(
        f"no series matches {selector!r}; available: "
        + ", ".join(f"[{i}] {s.key}" for i, s in enumerate(found)), path=path)


def load_volume(
    path: PathInput | SeriesInfo,
    backend: str = "auto",
    *,
    series: int | str | None = None,
    rescale: bool = True,
    irregular: Irregular = "raise",
    ignore_unreadable: bool = False,
    workers: int | None = None,
    decoder: str | None = None,
    tolerances: GeometryTolerances = GeometryTolerances(),
) -> Volume:
    """Load one series as a :class:`Volume`.

    Parameters
    ----------
    path
        A folder (searched recursively), a file, a list of them, or a :class:`SeriesInfo` from
        :func:`dicomio.list_series`.
    backend
        ``"auto"`` (the fastest installed backend able to read the series), ``"direct"``,
        ``"pydicom"``, ``"sitk"`` or ``"vtk"``. A named backend never falls back to another.
    series
        Which series, when ``path`` holds several: an index into :func:`dicomio.list_series`,
        a SeriesInstanceUID, or a ``uid#stack`` key.
    rescale
        True: modality values (HU for CT) with the contract's dtype rules. False: stored values,
        high bits masked and sign-extended.
    irregular
        ``"raise"`` (default): missing slices, irregular spacing, gantry tilt and missing
        geometry raise :class:`GeometryError`. ``"accept"``: load anyway, record the issues in
        ``provenance.warnings`` and each slice's true position in ``slice_positions``.
    ignore_unreadable
        Load even if some DICOM files under ``path`` could not be read (they are listed in the
        warnings); by default that raises :class:`UnreadableFilesError`.
    workers
        Threads for decoding (direct backend); default: the usable cores.
    decoder
        Force a decoder: ``"imagecodecs"``, ``"pylibjpeg"``, ``"gdcm"``, ...
    tolerances
        Thresholds of the geometry checks.

    Returns
    -------
    Volume
        ``array`` of shape (slice, row, column[, sample]) and ``affine`` mapping ``(k, j, i)``
        to LPS mm.

    Raises
    ------
    DicomIOError
        A subclass naming the file and the problem: see :mod:`dicomio.errors`.
    """
    inventory: Inventory | None = None
    if isinstance(path, SeriesInfo):
        chosen = path
    else:
        found, inventory = scan(path, tolerances=tolerances)
        if not found:
            raise NoDicomFilesError("no DICOM image found", path=_display(path),
                                    skipped=inventory.skipped)
        chosen = choose_series(found, series, path=_display(path))
    warnings = list(chosen.warnings)
    if inventory is not None and inventory.unreadable:
        if not ignore_unreadable:
            raise UnreadableFilesError(inventory.unreadable)
        warnings += [f"skipped unreadable {s.path}: {s.reason}" for s in inventory.unreadable]

    affine, positions = _placement(chosen, irregular, warnings)
    for header in chosen.headers:
        excess = check_pixel_data_size(header)
        if excess:
            warnings.append(excess)
    spec, skipped = select(chosen, backend)
    options = ReadOptions(rescale=rescale, workers=workers, decoder=decoder)
    result = spec.reader().read(chosen, options)
    warnings += result.warnings
    zeros = _check_not_all_zero(result.array, chosen, options, spec.name)
    if zeros:
        warnings.append(zeros)

    provenance = Provenance(
        backend=spec.name,
        decoders=result.decoders,
        transfer_syntaxes=chosen.transfer_syntaxes,
        files=chosen.files,
        warnings=tuple(warnings),
        skipped_backends=tuple(skipped),
        series_uid=chosen.key,
    )
    volume = Volume(result.array, affine, _metadata(chosen), provenance, positions)
    if result.reported_geometry is not None:
        volume.metadata["reported_geometry"] = result.reported_geometry  # type: ignore[index]
    return volume


def _display(path: Any) -> Any:
    return path if not isinstance(path, (list, tuple)) or len(path) != 1 else path[0]


def _placement(
    series: SeriesInfo, irregular: Irregular, warnings: list[str]
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """The affine and per-slice positions, after enforcing the geometry policy."""
    geometry = series.geometry
    first = series.frames[0].path
    if geometry is None:
        if series.n_slices > 1 and irregular == "raise":
            raise MissingGeometryError(
                f"cannot place the {series.n_slices} slices of series {series.key} in space: "
                f"{series.geometry_problem}. Pass irregular='accept' to stack them by "
                f"InstanceNumber with a nominal affine.", path=first)
        warnings.append(f"no usable geometry ({series.geometry_problem}): slices ordered by "
                        f"InstanceNumber, affine is nominal (identity directions, "
                        f"PixelSpacing or 1 mm)")
        spacing = series.frames[0].pixel_spacing or (1.0, 1.0)
        if len(spacing) != 2 or not all(np.isfinite(spacing)) or min(spacing) <= 0:
            spacing = (1.0, 1.0)
        affine = affine_from((1, 0, 0, 0, 1, 0), spacing, (0, 0, 0), (0, 0, 1))
        return affine, None

    repeated = [i for i in geometry.errors if i.code == "DUPLICATE_POSITION"]
    if repeated:
        raise RepeatedPositionsError(
            f"series {series.key} is not a single volume: {repeated[0].message}. Choose the "
            f"acquisition or time point with dicomio.list_series, or load it as 4-D.",
            path=first, issues=geometry.issues)
    for issue in geometry.issues:
        if issue.severity == "error" and irregular == "raise":
            errors = "; ".join(f"{i.code}: {i.message}" for i in geometry.errors)
            raise GeometryError(
                f"series {series.key} is not a regular volume: {errors}. Pass "
                f"irregular='accept' to load it with the per-slice positions recorded.",
                path=first, issues=geometry.issues)
        if issue.severity in ("error", "warning"):
            warnings.append(f"{issue.code}: {issue.message}")
    return geometry.affine, geometry.positions


def _check_not_all_zero(
    array: NDArray[Any], series: SeriesInfo, options: ReadOptions, backend: str
) -> str | None:
    """Never return zeros as if they were an image.

    An all-zero result is checked against pydicom's decoding of the middle slice: if that is
    not zero, the backend failed silently (VTK does this with compressed data) and this is an
    error; otherwise the data really is zero, which is only worth a warning.
    """
    n = array.shape[0]
    if any(array[k].any() for k in {n // 2, 0, n - 1}) or array.any():
        return None
    k = n // 2
    frame = series.frames[k]
    reference = np.empty((1, *array.shape[1:]), dtype=volume_dtype(series, options))
    read_file_with_pydicom(frame.header, [(frame.index, 0, frame.slope, frame.intercept)],
                           reference, options)
    if reference.any():
        raise CorruptDataError(
            f"backend {backend!r} returned only zeros, but slice {k} decoded by pydicom is not "
            f"zero: the backend failed to decode the pixel data", path=frame.path)
    return "every voxel is zero (the stored pixel data is zero too)"


def _metadata(series: SeriesInfo) -> dict[str, Any]:
    header = series.frames[0].header
    fmt = series.pixel
    slopes = [f.slope for f in series.frames]
    intercepts = [f.intercept for f in series.frames]
    return {
        "SeriesInstanceUID": series.uid,
        "SeriesNumber": series.number,
        "SeriesDescription": series.description,
        "Modality": series.modality,
        "Manufacturer": header.manufacturer,
        "StudyInstanceUID": header.study_uid,
        "FrameOfReferenceUID": header.frame_of_reference_uid,
        "ImageType": header.image_type,
        "PhotometricInterpretation": fmt.photometric_interpretation,
        "BitsAllocated": fmt.bits_allocated,
        "BitsStored": fmt.bits_stored,
        "PixelRepresentation": fmt.pixel_representation,
        "RescaleSlope": slopes[0] if len(set(slopes)) == 1 else slopes,
        "RescaleIntercept": intercepts[0] if len(set(intercepts)) == 1 else intercepts,
        "RescaleType": header.rescale_type,
        "SliceThickness": header.slice_thickness,
        "WindowCenter": header.window_center,
        "WindowWidth": header.window_width,
        "ImageOrientationPatient": series.orientation,
        "PixelSpacing": series.frames[0].pixel_spacing,
    }
