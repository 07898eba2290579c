"""Helpers for the toolkit backend tests: check that what a backend declares it cannot read is
refused and really goes wrong when read anyway."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio.backends.base import ReadOptions
from dicomio.backends.registry import get_spec


def only_series(folder: Path) -> dicomio.SeriesInfo:
    (series,) = dicomio.list_series(folder)
    return series


def assert_declared_and_refused(backend: str, folder: Path, reason: str) -> None:
    """``backend`` declares ``reason`` for the series in ``folder``, refuses it when asked by
    name, and its reader, made to read it anyway, fails or returns something else than the
    stored data (so the declaration is needed, not a guess)."""
    spec = get_spec(backend)
    series = only_series(folder)
    assert reason in (spec.cannot_read(series) or "")
    with pytest.raises(dicomio.BackendCannotReadError, match="backends that can: direct"):
        dicomio.load_volume(folder, backend=backend)
    try:
        result = spec.reader().read(series, ReadOptions(rescale=False))
    except dicomio.BackendReadError:
        return
    reference = dicomio.load_volume(folder, backend="pydicom", rescale=False)
    assert result.array.shape != reference.shape or not np.array_equal(result.array,
                                                                       reference.array)
