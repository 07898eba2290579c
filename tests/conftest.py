"""Shared fixtures: the real corpus (skipped with a reason when absent) and synthetic series."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from dicomio.testing.synthetic import SeriesSpec, WrittenSeries, write_series
from tests.support.corpus import corpus_path

# pydicom warns about values the synthetic writer sets on purpose (big endian, deflate).
warnings.filterwarnings("ignore", module="pydicom")


@pytest.fixture
def corpus() -> Callable[[str], Path]:
    return corpus_path


@pytest.fixture
def make_series(tmp_path: Path) -> Callable[..., WrittenSeries]:
    """Write a synthetic series into a fresh folder under tmp_path; returns its truth."""
    counter = iter(range(10_000))

    def make(spec: SeriesSpec = SeriesSpec(), *, folder: Path | None = None,
             **options: object) -> WrittenSeries:
        target = folder or tmp_path / f"series{next(counter)}"
        return write_series(target, spec, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def without_toolkits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make SimpleITK and VTK look uninstalled, as in a core installation: hide them from
    ``importlib.util.find_spec``, which is what ``BackendSpec.installed`` asks."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None):  # type: ignore[no-untyped-def]
        if name.split(".")[0] in ("SimpleITK", "vtk", "vtkmodules"):
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
