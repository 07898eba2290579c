"""The backend registry and selection: described as data, auto skips with reasons, explicit
requests never fall back, a missing toolkit names its pip extra.

The toolkits' absence is simulated by the ``without_toolkits`` fixture (conftest.py), so these
tests mean the same in the full environment and in the tox ``core`` environment, where SimpleITK
and VTK are really absent.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

import dicomio
from dicomio.backends.registry import (
    auto_order,
    backend_specs,
    describe_backends,
    get_spec,
    register,
    select,
)
from dicomio.extras import pip_install
from dicomio.testing import synthetic as s
from dicomio.testing.synthetic import SeriesSpec

needs_toolkits = pytest.mark.skipif(
    not all(get_spec(name).installed() for name in ("sitk", "vtk")),
    reason="SimpleITK and VTK are not installed (the core environment)")


@pytest.fixture
def small(make_series):
    return make_series(SeriesSpec(shape=(3, 8, 10)))


def test_auto_order_is_fastest_first() -> None:
    assert auto_order() == ("direct", "pydicom", "sitk", "vtk")
    # dcm2niix, the reference converter, is registered but read only when named.
    assert [spec.name for spec in backend_specs()] == [*auto_order(), "dcm2niix"]


def test_specs_are_data_and_importing_dicomio_imports_no_toolkit(tmp_path) -> None:
    code = ("import sys, dicomio, dicomio.backends.registry as b\n"
            "from dicomio.testing.synthetic import write_series\n"
            "[(s.installed(), s.version(), s.syntaxes()) for s in b.backend_specs()]\n"
            "dicomio.load_volume(write_series(sys.argv[1]).folder)\n"
            "from typer.testing import CliRunner\n"
            "from dicomio.cli import app\n"
            "assert CliRunner().invoke(app, ['backends']).exit_code == 0\n"
            "print(sorted(m for m in ('SimpleITK', 'vtk', 'vtkmodules') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["sitk", "vtk"])
def test_missing_toolkit_explicit_request_names_the_extra(without_toolkits, small,
                                                          name: str) -> None:
    assert not get_spec(name).installed()
    with pytest.raises(dicomio.BackendUnavailableError) as raised:
        dicomio.load_volume(small.folder, backend=name)
    assert pip_install(name) in str(raised.value)
    assert isinstance(raised.value, ImportError)


def test_missing_toolkits_auto_falls_back_and_records_why(without_toolkits, small,
                                                          restore_registry) -> None:
    assert dicomio.load_volume(small.folder).provenance.backend == "direct"
    # Even when the toolkits come first, auto skips them with the install hint as reason.
    for position, name in enumerate(("sitk", "vtk", "pydicom")):
        register(get_spec(name), auto_position=position)
    assert auto_order() == ("sitk", "vtk", "pydicom", "direct")
    volume = dicomio.load_volume(small.folder)
    assert volume.provenance.backend == "pydicom"
    assert volume.provenance.skipped_backends == (
        ("sitk", f"not installed ({pip_install('sitk')})"),
        ("vtk", f"not installed ({pip_install('vtk')})"),
    )


def test_describe_backends_reports_absent_toolkits(without_toolkits) -> None:
    infos = {info.name: info for info in describe_backends()}
    assert [infos[name].installed for name in ("direct", "pydicom", "sitk", "vtk")] == [
        True, True, False, False]
    assert infos["sitk"].version is None and infos["sitk"].install == pip_install("sitk")
    assert infos["vtk"].auto_rank == 4
    # What a toolkit decodes is known without it.
    assert s.JPEG_LS in infos["sitk"].transfer_syntaxes
    assert infos["vtk"].transfer_syntaxes == (s.IMPLICIT_LE, s.EXPLICIT_LE)


@needs_toolkits
def test_auto_reaches_the_toolkits_when_the_others_cannot(small, restore_registry) -> None:
    for name in ("direct", "pydicom"):
        register(dataclasses.replace(get_spec(name), unable=lambda series: "refused in test"))
    volume = dicomio.load_volume(small.folder)
    assert volume.provenance.backend == "sitk"
    assert volume.provenance.skipped_backends == (("direct", "refused in test"),
                                                  ("pydicom", "refused in test"))


@needs_toolkits
def test_auto_never_picks_vtk_for_compressed_data(make_series, restore_registry) -> None:
    truth = make_series(SeriesSpec(shape=(3, 8, 10), transfer_syntax=s.JPEG_LS))
    (series,) = dicomio.list_series(truth.folder)
    register(get_spec("vtk"), auto_position=0)
    spec, skipped = select(series)
    assert spec.name == "direct"
    assert skipped == [("vtk", f"cannot decode JPEG-LS Lossless ({s.JPEG_LS})")]


def test_explicit_vtk_on_compressed_data_names_the_backends_that_can(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(3, 8, 10), transfer_syntax=s.JPEG_LS))
    if not get_spec("vtk").installed():
        with pytest.raises(dicomio.BackendUnavailableError):
            dicomio.load_volume(truth.folder, backend="vtk")
        return
    with pytest.raises(dicomio.BackendCannotReadError) as raised:
        dicomio.load_volume(truth.folder, backend="vtk")
    able = [n for n in ("direct", "pydicom", "sitk") if get_spec(n).installed()]
    assert f"backends that can: {', '.join(able)}" in str(raised.value)
    assert raised.value.path in truth.files


def test_an_explicit_backend_never_falls_back(small, restore_registry) -> None:
    register(dataclasses.replace(get_spec("pydicom"), unable=lambda series: "refused in test"))
    with pytest.raises(dicomio.BackendCannotReadError, match="refused in test"):
        dicomio.load_volume(small.folder, backend="pydicom")


@needs_toolkits
@pytest.mark.parametrize(("backend", "library"), [("sitk", "SimpleITK/GDCM"),
                                                  ("vtk", "vtkDICOMImageReader")])
def test_a_decoder_asked_of_a_toolkit_is_reported_ignored(small, backend: str,
                                                          library: str) -> None:
    volume = dicomio.load_volume(small.folder, backend=backend, decoder="imagecodecs")
    assert volume.provenance.decoders == (library,)
    assert (f"decoder='imagecodecs' ignored: this backend decodes with {library}"
            in volume.provenance.warnings)
