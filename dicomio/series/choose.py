"""List the series under some paths, and choose the one to read."""

from __future__ import annotations

from typing import Any

import numpy as np

from dicomio.arguments import check_instance
from dicomio.errors import (
    MultipleSeriesError,
    NoDicomFilesError,
    SeriesNotFoundError,
    UnreadableFilesError,
)
from dicomio.geometry.stack import GeometryTolerances
from dicomio.series.discover import discover
from dicomio.series.group import group
from dicomio.series.info import SeriesInfo
from dicomio.series.inventory import Inventory, PathInput
from dicomio.series.retrieve import with_pixel_data
from dicomio.sources.inputs import named
from dicomio.sources.web_address import narrowed


def list_series(
    paths: PathInput,
    *,
    tolerances: GeometryTolerances = GeometryTolerances(),
    workers: int | None = None,
    follow_symlinks: bool = False,
) -> list[SeriesInfo]:
    """List the series (stacks of slices) under files or folders.

    Parameters
    ----------
    paths
        A file, a folder (searched recursively), or a sequence of them.
    tolerances
        Thresholds of the geometry checks.
    workers
        1: read every header in this thread only (see :func:`discover`).
    follow_symlinks
        Follow symbolic links leading out of the given folders (see :func:`discover`).

    Returns
    -------
    list of SeriesInfo
        Sorted by SeriesNumber; each one sorted along its slice normal. The files that were
        skipped, with their reasons, are in :func:`scan`'s inventory. A DICOMweb series is
        listed from its metadata, no instance retrieved (``scan(..., headers_only=True)``);
        loading it retrieves them.
    """
    return scan(paths, tolerances=tolerances, workers=workers,
                follow_symlinks=follow_symlinks, headers_only=True)[0]


def scan(
    paths: PathInput,
    *,
    tolerances: GeometryTolerances = GeometryTolerances(),
    workers: int | None = None,
    follow_symlinks: bool = False,
    headers_only: bool = False,
) -> tuple[list[SeriesInfo], Inventory]:
    """Like :func:`list_series`, and also return the :class:`Inventory` (skipped files).

    ``headers_only`` True reads a DICOMweb series from its metadata, no instance retrieved
    (see :func:`discover`; :func:`dicomio.series.retrieve.with_pixel_data` retrieves them).
    Raises :class:`~dicomio.errors.InvalidArgumentError` for ``tolerances`` that are not
    :class:`GeometryTolerances` (and as :func:`discover` does), before any file is read.
    """
    check_instance("tolerances", tolerances, GeometryTolerances, "a GeometryTolerances")
    inventory = discover(paths, workers=workers, follow_symlinks=follow_symlinks,
                         headers_only=headers_only)
    return group(inventory.headers, tolerances), inventory


def choose_series(
    found: list[SeriesInfo], selector: int | str | None, *, path: Any = None
) -> SeriesInfo:
    """Pick one series by index, UID, ``uid#stack`` key, or ``uid#<name>`` (its image kind or
    polarity, e.g. ``uid#fieldmap_hz``, ``uid#reversed``: :attr:`SeriesInfo.names`); the only
    one when ``None``.

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
        matches = [s for s in found if text in (s.key, s.uid, *s.names)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise MultipleSeriesError(matches, path=path)
    raise SeriesNotFoundError(
        f"no series matches {selector!r}; available: "
        + ", ".join(f"[{i}] {s.key}" for i, s in enumerate(found)), path=path)


def select_series(
    path: PathInput | SeriesInfo,
    series: int | str | None = None,
    *,
    ignore_unreadable: bool = False,
    tolerances: GeometryTolerances = GeometryTolerances(),
    workers: int | None = None,
    follow_symlinks: bool = False,
) -> tuple[SeriesInfo, list[str]]:
    """Find the one series to read under ``path``, and the warnings it starts with.

    Every caller that reads one series (``load_volume``, ``load_4d``, ``compare``, ``convert``,
    ``preview``; the archive's conversion through ``load_volume``) chooses it here, so they all
    refuse or accept the same inputs. ``validate`` chooses none: it checks every series of
    :func:`scan` and reads each through the same read stage (:func:`dicomio.read.read_series`).
    A DICOMweb study or query is listed from its metadata, and only the chosen series'
    instances are retrieved (:func:`~dicomio.series.retrieve.with_pixel_data`), as are those
    of a chosen series given.

    Parameters
    ----------
    path
        Files or folders to scan, or a :class:`SeriesInfo` already chosen.
    series
        Index, SeriesInstanceUID or ``uid#stack`` key (see :func:`choose_series`).
    ignore_unreadable
        Go on when some DICOM files could not be read (they become warnings).
    tolerances, workers, follow_symlinks
        As for :func:`scan`.

    Raises
    ------
    NoDicomFilesError
        No image under ``path``.
    UnreadableFilesError
        Some DICOM files could not be read and ``ignore_unreadable`` is False.
    MultipleSeriesError, SeriesNotFoundError
        As for :func:`choose_series`.
    DicomWebError
        The chosen series' instances could not be retrieved, or changed on the server
        (:class:`~dicomio.errors.SeriesChangedError`).
    """
    inventory: Inventory | None = None
    if isinstance(path, SeriesInfo):
        chosen = path
    else:
        path = narrowed(path, series)  # a DICOMweb root or study: only that series fetched
        found, inventory = scan(path, tolerances=tolerances, workers=workers,
                                follow_symlinks=follow_symlinks, headers_only=True)
        if not found:
            raise NoDicomFilesError("no DICOM image found", path=named(path),
                                    skipped=inventory.skipped)
        chosen = choose_series(found, series, path=named(path))
    if inventory is not None and inventory.unreadable and not ignore_unreadable:
        raise UnreadableFilesError(inventory.unreadable)
    chosen = with_pixel_data(chosen, tolerances)
    warnings = list(chosen.warnings)
    if inventory is not None:
        warnings += [f"skipped unreadable {s.path}: {s.reason}" for s in inventory.unreadable]
    return chosen, warnings

