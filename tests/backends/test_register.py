"""The registry is plain data read when asked: a backend registered (or removed) after any module
was imported is seen by ``auto``, by ``compare``'s default list and by ``dicomio backends``; an
unknown name is an :class:`~dicomio.UnknownBackendError`; each backend module holds its own spec.
"""

from __future__ import annotations

import dataclasses
import pickle

import pytest

import dicomio
from dicomio.backends import dcm2niix_backend, direct, pydicom_backend, sitk_backend, vtk_backend
from dicomio.backends.registry import (
    auto_order,
    backend_specs,
    describe_backends,
    get_spec,
    register,
    select,
    unregister,
)
from dicomio.compare.side_by_side import default_backends
from dicomio.testing.synthetic import SeriesSpec
from tests.support import fake_backends

BUILT_IN = ["direct", "pydicom", "sitk", "vtk"]  # tried by auto, in this order
NAMED = ["dcm2niix"]  # registered, read only when named
EVERY = [*BUILT_IN, *NAMED]


@pytest.fixture
def series(make_series) -> dicomio.SeriesInfo:
    (found,) = dicomio.list_series(make_series(SeriesSpec(shape=(3, 8, 10))).folder)
    return found


def test_a_backend_registered_first_in_auto_is_seen_everywhere_then_removed(
        series, restore_registry) -> None:
    shift = fake_backends.spec("shift")
    register(shift, auto_position=0)
    assert default_backends() == ["fake-shift", *EVERY]
    assert auto_order() == ("fake-shift", *BUILT_IN)
    assert select(series, "auto") == (shift, [])
    assert {i.name: i.auto_rank for i in describe_backends()}["fake-shift"] == 1
    assert unregister("fake-shift") == shift
    assert default_backends() == EVERY
    assert select(series, "auto")[0].name == "direct"
    assert "fake-shift" not in {i.name for i in describe_backends()}


def test_a_backend_registered_without_a_place_in_auto_is_only_read_when_named(
        series, restore_registry) -> None:
    fail = fake_backends.spec("fail")
    register(fail)
    assert default_backends() == [*EVERY, "fake-fail"]
    assert auto_order() == tuple(BUILT_IN)
    assert select(series, "auto")[0].name == "direct"
    assert select(series, "fake-fail") == (fail, [])
    assert {i.name: i.auto_rank for i in describe_backends()}["fake-fail"] is None


def test_auto_position_counts_among_auto_backends(restore_registry) -> None:
    register(fake_backends.spec("fail"))
    register(fake_backends.spec("shift"), auto_position=2)
    assert auto_order() == ("direct", "pydicom", "fake-shift", "sitk", "vtk")
    assert default_backends() == ["direct", "pydicom", "fake-shift", "sitk", "vtk", "dcm2niix",
                                  "fake-fail"]
    register(fake_backends.spec("shift"), auto_position=-1)  # as list.insert counts
    assert auto_order() == ("direct", "pydicom", "sitk", "fake-shift", "vtk")


def test_registering_a_name_again_replaces_its_spec_in_place_or_moves_it(
        series, restore_registry) -> None:
    refusing = dataclasses.replace(get_spec("direct"), unable=lambda s: "refused in test")
    register(refusing)
    assert get_spec("direct") is refusing
    assert auto_order() == tuple(BUILT_IN)
    assert select(series) == (get_spec("pydicom"), [("direct", "refused in test")])
    register(get_spec("vtk"), auto_position=0)
    assert auto_order() == ("vtk", "direct", "pydicom", "sitk")
    assert len(backend_specs()) == 5


def test_the_fixture_puts_the_registry_back() -> None:
    """Runs after the tests above (file order): nothing they registered or moved is left."""
    assert [spec.name for spec in backend_specs()] == EVERY
    assert auto_order() == tuple(BUILT_IN)
    assert get_spec("direct") is direct.SPEC


def test_an_unknown_backend_is_an_unknown_backend_error_listing_the_known(
        restore_registry) -> None:
    register(fake_backends.spec("fail"))
    with pytest.raises(dicomio.UnknownBackendError) as raised:
        get_spec("itk")
    assert str(raised.value) == ("unknown backend 'itk'; choose one of auto, direct, pydicom, "
                                 "sitk, vtk, dcm2niix, fake-fail")
    assert isinstance(raised.value, dicomio.DicomIOError)
    assert isinstance(raised.value, ValueError)
    with pytest.raises(dicomio.UnknownBackendError, match="unknown backend 'itk'"):
        unregister("itk")


def test_loading_with_an_unknown_backend_names_the_known_ones(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(2, 8, 10)))
    with pytest.raises(dicomio.UnknownBackendError, match="choose one of auto, direct"):
        dicomio.load_volume(truth.folder, backend="itk")


def test_each_backend_module_holds_its_spec() -> None:
    assert backend_specs() == (direct.SPEC, pydicom_backend.SPEC, sitk_backend.SPEC,
                               vtk_backend.SPEC, dcm2niix_backend.SPEC)
    assert [spec.module for spec in backend_specs()] == [
        "dicomio.backends.direct", "dicomio.backends.pydicom_backend",
        "dicomio.backends.sitk_backend", "dicomio.backends.vtk_backend",
        "dicomio.backends.dcm2niix_backend"]


@pytest.mark.parametrize("name", EVERY)
def test_built_in_specs_pickle(name: str) -> None:
    """compare sends a spec to its worker process when it pickles: a spec of module-level
    functions arrives equal."""
    spec = get_spec(name)
    assert pickle.loads(pickle.dumps(spec)) == spec
