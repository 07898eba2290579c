"""``dicomio backends``: every backend, installed or not, and what it decodes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dicomio.backends.registry import backend_specs
from dicomio.cli import app, console
from dicomio.extras import pip_install
from dicomio.pixels.decoders import decodable_syntaxes
from dicomio.testing import synthetic as s

runner = CliRunner()


def invoke_json() -> dict:
    result = runner.invoke(app, ["backends", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_tells_what_is_installed_and_what_each_decodes() -> None:
    report = invoke_json()
    backends = {b["name"]: b for b in report["backends"]}
    assert list(backends) == ["direct", "pydicom", "sitk", "vtk", "dcm2niix"]
    for spec in backend_specs():
        entry = backends[spec.name]
        assert entry["installed"] == spec.installed()
        assert entry["version"] == (spec.version() if spec.installed() else None)
        assert set(entry["transfer_syntaxes"]) == set(spec.syntaxes())
    assert backends["sitk"]["install"] == pip_install("sitk")
    assert backends["vtk"]["transfer_syntaxes"] == [s.IMPLICIT_LE, s.EXPLICIT_LE]
    assert s.JPEG_BASELINE not in backends["vtk"]["transfer_syntaxes"]
    assert [backends[n]["auto_rank"] for n in ("direct", "pydicom", "sitk", "vtk")] == [1, 2, 3, 4]
    assert backends["dcm2niix"]["auto_rank"] is None  # a reference, run by name only
    assert report["decoders"] == decodable_syntaxes()
    assert report["decoders"][s.EXPLICIT_LE] == []  # native: no decoder needed


def test_json_without_the_toolkits(without_toolkits) -> None:
    backends = {b["name"]: b for b in invoke_json()["backends"]}
    for name in ("sitk", "vtk"):
        assert backends[name]["installed"] is False and backends[name]["version"] is None
        assert backends[name]["install"] == pip_install(name)
    assert s.J2K_LOSSLESS in backends["sitk"]["transfer_syntaxes"]


def test_text_lists_backends_and_syntaxes(without_toolkits, monkeypatch) -> None:
    monkeypatch.setattr(console.out, "width", 200)  # one line per row, whatever the terminal
    result = runner.invoke(app, ["backends"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    sitk_row = next(line for line in lines if line.startswith("│ sitk "))
    assert "│ no " in sitk_row and pip_install("sitk") in sitk_row
    direct_row = next(line for line in lines if line.startswith("│ direct "))
    assert "│ yes " in direct_row and "included" in direct_row
    jpeg_row = next(line for line in lines if "(1.2.840.10008.1.2.4.50)" in line)
    # direct, pydicom and sitk decode JPEG baseline; vtk does not.
    assert [cell.strip() for cell in jpeg_row.split("│")[2:6]] == ["yes", "yes", "yes", "-"]


def test_unknown_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["backends", "--format", "xml"])
    assert result.exit_code == 2


def test_format_is_the_option_of_the_other_commands() -> None:
    # -f as in info and compare: one option definition for every command printing JSON.
    result = runner.invoke(app, ["backends", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == invoke_json()
