"""Settings of ``validate``: TOML files, ``[tool.dicomio]``, the upward search, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.errors import ConfigError
from dicomio.geometry.stack import GeometryTolerances
from dicomio.testing.synthetic import SeriesSpec
from dicomio.validate.config import ValidationConfig, find_config, load_config

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
    ("[validate.thresholds]\nduplicate = -1\n", "must be a number >= 0"),
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
