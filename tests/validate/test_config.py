"""Settings of ``validate``: TOML files, ``[tool.dicomio]``, the upward search, bad values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.errors import ConfigError
from dicomio.geometry.stack import GeometryTolerances
from dicomio.testing.synthetic import SeriesSpec
from dicomio.validate.config import ValidationConfig, find_config, load_config
from tests.support.dicom_files import rewrite

runner = CliRunner()

PYPROJECT = """
[project]
name = "my-dataset"

[tool.dicomio.validate]
fail-on = "warning"
cross-check = true
timeout = 30

[tool.dicomio.validate.thresholds]
tilt-fraction = 5

[tool.dicomio.validate.severity]
MULTIPLE_SERIES = "error"
SKIPPED_FILE = "off"
THICKNESS_SPACING_MISMATCH = "warning"
"""


def test_pyproject_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    config = load_config(tmp_path / "pyproject.toml")
    assert config.fail_on == "warning" and config.cross_check and config.timeout == 30
    assert config.tolerances == GeometryTolerances(tilt_fraction=5.0)
    assert config.severity_of("MULTIPLE_SERIES", "info") == "error"
    assert config.severity_of("SKIPPED_FILE", "info") is None
    assert config.severity_of("GANTRY_TILT", "error") == "error"
    assert config.source == tmp_path / "pyproject.toml"


def test_dicomio_toml_has_the_tables_at_the_top(tmp_path: Path) -> None:
    (tmp_path / "dicomio.toml").write_text("[validate]\npixels = false\n")
    assert load_config(tmp_path / "dicomio.toml") == ValidationConfig(
        pixels=False, source=tmp_path / "dicomio.toml")


@pytest.mark.parametrize(("text", "message"), [
    ("[validate]\nfail_on = 'sometimes'\n", "must be 'error' or 'warning'"),
    ("[validate]\ncrosscheck = true\n", "unknown key validate.crosscheck"),
    ("[validate.thresholds]\ntilt = 1\n", "unknown threshold 'tilt'"),
    ("[validate.thresholds]\nduplicate = -1\n", "must be a finite number >= 0 and <= 1"),
    ("[validate.severity]\nGANTRY = 'off'\n", "unknown finding code(s) GANTRY"),
    ("[validate.severity]\nGANTRY_TILT = 'fatal'\n", "must be one of error, warning, info"),
    ("[validate]\npixels = 'yes'\n", "must be true or false"),
    ("[validator]\n", "unknown section(s) validator"),
    ("[validate\n", "not valid TOML"),
])
def test_mistakes_are_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "dicomio.toml").write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(tmp_path / "dicomio.toml")


def test_search_goes_up_from_the_validated_paths(tmp_path: Path) -> None:
    data = tmp_path / "repo" / "data" / "ct"
    data.mkdir(parents=True)
    assert find_config([data]) is None or not find_config([data]).is_relative_to(tmp_path)
    (tmp_path / "repo" / "pyproject.toml").write_text(PYPROJECT)
    assert find_config([data]) == tmp_path / "repo" / "pyproject.toml"
    (tmp_path / "repo" / "data" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config([data]) == tmp_path / "repo" / "pyproject.toml"  # no [tool.dicomio]
    (tmp_path / "repo" / "data" / "dicomio.toml").write_text("[validate]\n")
    assert find_config([data, tmp_path / "repo" / "data"]) == \
        tmp_path / "repo" / "data" / "dicomio.toml"


def test_cli_uses_the_found_configuration(make_series, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_series(SeriesSpec(shape=(4, 8, 8), slice_thickness=7.0), folder=repo / "data")
    result = runner.invoke(app, ["validate", str(repo / "data")])
    assert result.exit_code == 0  # THICKNESS_SPACING_MISMATCH is information by default
    (repo / "pyproject.toml").write_text(PYPROJECT.replace("cross-check = true", ""))
    result = runner.invoke(app, ["validate", str(repo / "data")])
    assert result.exit_code == 1
    assert f"config: {repo / 'pyproject.toml'}" in result.stdout
    overridden = runner.invoke(app, ["validate", str(repo / "data"), "--fail-on", "error"])
    assert overridden.exit_code == 0
    other = tmp_path / "other.toml"
    other.write_text("[validate.severity]\nTHICKNESS_SPACING_MISMATCH = 'off'\n")
    explicit = runner.invoke(app, ["validate", str(repo / "data"), "--config", str(other)])
    assert explicit.exit_code == 0 and "THICKNESS" not in explicit.stdout
    other.write_text("[validate]\nfail-on = 3\n")
    broken = runner.invoke(app, ["validate", str(repo / "data"), "--config", str(other)])
    assert broken.exit_code == 2 and "ConfigError" in broken.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize("key", ["orientation", "spacing-relative", "spacing-absolute",
                                 "duplicate", "tilt-fraction", "thickness-relative"])
def test_a_threshold_must_be_finite(tmp_path: Path, key: str, value: str) -> None:
    (tmp_path / "dicomio.toml").write_text(f"[validate.thresholds]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=f"thresholds.{key} must be a finite number"):
        load_config(tmp_path / "dicomio.toml")


@pytest.mark.parametrize(("key", "largest", "too_large"), [
    ("orientation", 0.1, 0.75), ("spacing-relative", 0.5, 1.0), ("spacing-absolute", 1, 5),
    ("duplicate", 1, 2.5), ("tilt-fraction", 10, 1e9), ("thickness-relative", 10, 11)])
def test_a_threshold_must_be_in_its_range(tmp_path: Path, key: str, largest: float,
                                          too_large: float) -> None:
    (tmp_path / "dicomio.toml").write_text(f"[validate.thresholds]\n{key} = {largest}\n")
    assert getattr(load_config(tmp_path / "dicomio.toml").tolerances,
                   key.replace("-", "_")) == largest
    (tmp_path / "dicomio.toml").write_text(f"[validate.thresholds]\n{key} = {too_large}\n")
    with pytest.raises(ConfigError, match=f"<= {largest:g}, not {too_large!r}"):
        load_config(tmp_path / "dicomio.toml")


@pytest.mark.parametrize("text", ["timeout = nan", "timeout = inf", "timeout = 0",
                                  "tolerance = nan", "tolerance = -inf"])
def test_timeout_and_tolerance_must_be_finite(tmp_path: Path, text: str) -> None:
    (tmp_path / "dicomio.toml").write_text(f"[validate]\n{text}\n")
    with pytest.raises(ConfigError, match="must be a finite number"):
        load_config(tmp_path / "dicomio.toml")


def test_a_nan_orientation_threshold_never_lets_a_sheared_series_pass(make_series,
                                                                      tmp_path: Path) -> None:
    """Row and column cosines 45° apart: cos 45° = 0.707 is far from orthogonal. With
    ``orientation = nan`` every comparison with the threshold was False: the check passed."""
    c = 0.5 ** 0.5
    sheared = make_series(SeriesSpec(shape=(3, 8, 8)), folder=tmp_path / "data")
    rewrite(sheared.files, ImageOrientationPatient=[1, 0, 0, c, c, 0])
    (tmp_path / "elsewhere").mkdir()
    config = tmp_path / "elsewhere" / "dicomio.toml"
    config.write_text("[validate.thresholds]\norientation = nan\n")
    result = runner.invoke(app, ["validate", str(tmp_path / "data"), "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "ConfigError" in result.stderr and "finite" in result.stderr
    plain = runner.invoke(app, ["validate", str(tmp_path / "data")])
    assert plain.exit_code == 1, plain.output


@pytest.mark.parametrize(("content", "message"), [
    (b"[validate]\nfail-on = \"warn\xe9\"\n", "not UTF-8"),
    (b"\xff\xfe[\x00v\x00", "not UTF-8"),
    (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    (b"x = " + b"{a = " * 3000 + b"1" + b"}" * 3000 + b"\n", "nested too deeply"),
    (b"# " + b"x" * (2 << 20) + b"\n", "larger than 1 MB"),
])
def test_a_hostile_file_is_a_config_error_and_exit_2(make_series, tmp_path: Path,
                                                     content: bytes, message: str) -> None:
    config = tmp_path / "dicomio.toml"
    config.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_config(config)
    make_series(SeriesSpec(shape=(3, 8, 8)), folder=tmp_path / "data")
    result = runner.invoke(app, ["validate", str(tmp_path / "data"), "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "ConfigError" in result.stderr and "Traceback" not in result.output
    found = runner.invoke(app, ["validate", str(tmp_path / "data")])  # found beside the data
    assert found.exit_code == 2 and "ConfigError" in found.stderr


def test_a_fifo_as_the_configuration_is_refused_without_blocking(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "dicomio.toml"
    os.mkfifo(fifo)
    code = ("import sys\nfrom dicomio.validate.config import load_config\n"
            "from dicomio.errors import ConfigError\n"
            f"try:\n    load_config({str(fifo)!r})\n"
            "except ConfigError as exc:\n    print(exc.message)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "not a regular file"


def test_the_search_stops_at_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "dicomio.toml").write_text("[validate]\nfail-on = 'warning'\n")
    data = tmp_path / "repo" / "data"
    data.mkdir(parents=True)
    assert find_config([data]) == tmp_path / "dicomio.toml"
    (tmp_path / "repo" / ".git").mkdir()
    assert find_config([data]) is None  # above the repository: not this project's


def test_the_search_never_reads_a_folder_everyone_may_write_into(tmp_path: Path) -> None:
    """A shared folder such as /tmp (mode 1777): anyone could leave a dicomio.toml there
    that changes the verdict of every validation below it."""
    shared = tmp_path / "shared"
    (shared / "mine" / "data").mkdir(parents=True)
    (shared / "dicomio.toml").write_text("[validate.severity]\nMISSING_SLICE = 'off'\n")
    assert find_config([shared / "mine" / "data"]) == shared / "dicomio.toml"
    shared.chmod(0o1777)
    try:
        assert find_config([shared / "mine" / "data"]) is None
        (shared / "mine" / "dicomio.toml").write_text("[validate]\n")
        assert find_config([shared / "mine" / "data"]) == shared / "mine" / "dicomio.toml"
    finally:
        shared.chmod(0o755)


def test_the_file_used_is_named_in_every_report(make_series, tmp_path: Path) -> None:
    make_series(SeriesSpec(shape=(3, 8, 8)), folder=tmp_path / "repo" / "data")
    config = tmp_path / "repo" / "dicomio.toml"
    config.write_text("[validate]\n")
    data = str(tmp_path / "repo" / "data")
    text = runner.invoke(app, ["validate", data])
    assert f"config: {config}" in text.stdout
    assert json.loads(runner.invoke(app, ["validate", data, "-f", "json"]).stdout)["config"] \
        == str(config)
    junit = ET.fromstring(runner.invoke(app, ["validate", data, "-f", "junit"]).stdout)
    assert {p.get("name"): p.get("value") for p in junit.iter("property")}["config"] == \
        str(config)
