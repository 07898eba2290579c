"""Shared fixtures: the real corpus (skipped with a reason when absent), synthetic series, and
the backend registry (fake backends registered for one test, the registry put back after it)."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dicomio.backends.registry import auto_order, backend_specs, register, unregister
from dicomio.testing.synthetic import SeriesSpec, WrittenSeries, write_series
from tests.support import fake_backends
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


@pytest.fixture
def restore_registry() -> Iterator[None]:
    """Let a test register, replace, move and remove backends: the registry is put back as it
    was afterwards (through the public functions only)."""
    specs, order = backend_specs(), auto_order()
    yield
    for spec in backend_specs():
        unregister(spec.name)
    for spec in specs:
        register(spec, auto_position=len(auto_order()) if spec.name in order else None)


@pytest.fixture
def fakes(request: pytest.FixtureRequest, restore_registry: None) -> None:
    """Register the misbehaving backends of ``tests/support/fake_backends`` (``fake-abort``,
    ``fake-fail``, ``fake-hang``, ``fake-shift``), named only, not tried by ``auto``.

    A test that wants fewer (``validate`` cross-checks with every registered backend, and a hang
    costs its timeout) names them:
    ``@pytest.mark.parametrize("fakes", [("shift", "abort")], indirect=True)``.
    """
    for name in getattr(request, "param", ("abort", "fail", "hang", "shift")):
        register(fake_backends.spec(name))
