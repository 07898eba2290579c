"""Writers never write non-finite geometry nor non-standard JSON: a volume with an infinite
spacing or a NaN origin is refused naming its series and file, whatever the format."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.errors import GeometryError
from dicomio.io.writers import write_volume
from dicomio.testing.synthetic import SeriesSpec

runner = CliRunner()


def _strict_json(text: str) -> object:
    """Parse ``text`` as standard JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are errors."""

    def refuse(constant: str) -> object:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def volume(make_series) -> dicomio.Volume:
    return dicomio.load_volume(make_series(SeriesSpec(shape=(3, 8, 10))).folder)


def _with_affine_value(volume: dicomio.Volume, row: int, column: int,
                       value: float) -> dicomio.Volume:
    affine = volume.affine.copy()
    affine[row, column] = value
    return dataclasses.replace(volume, affine=affine)


@pytest.mark.parametrize("name", ["v.nii", "v.nii.gz", "v.nrrd", "v.npz"])
@pytest.mark.parametrize(("row", "column", "value"), [
    (2, 0, math.inf),   # slice spacing along z: infinite
    (0, 2, -math.inf),  # column spacing
    (1, 3, math.nan),   # origin y
])
def test_non_finite_geometry_is_refused(volume, tmp_path: Path, name: str, row: int,
                                        column: int, value: float) -> None:
    broken = _with_affine_value(volume, row, column, value)
    output = tmp_path / "out"
    output.mkdir()
    with pytest.raises(GeometryError, match="non-finite geometry") as caught:
        write_volume(broken, output / name)
    assert volume.provenance is not None
    assert caught.value.path == volume.provenance.files[0]
    assert volume.provenance.series_uid in str(caught.value)
    assert list(output.iterdir()) == []


def test_npz_metadata_is_standard_json(volume, tmp_path: Path) -> None:
    """A NaN among the metadata (SliceThickness of "nan" in a header) is written null."""
    odd = dataclasses.replace(volume, metadata={**volume.metadata, "SliceThickness": math.nan,
                                                "WindowWidth": [math.inf, 1.0]})
    with np.load(write_volume(odd, tmp_path / "v.npz")) as saved:
        metadata = _strict_json(str(saved["metadata"]))
    assert isinstance(metadata, dict)
    assert metadata["metadata"]["SliceThickness"] is None
    assert metadata["metadata"]["WindowWidth"] == [None, 1.0]


def test_convert_refuses_infinite_spacing_exit_1(volume, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line: exit 1 (a problem of the data), the series' file named, no file."""
    broken = _with_affine_value(volume, 2, 0, math.inf)
    monkeypatch.setattr("dicomio.cli.loading.load_for_output",
                        lambda *a, **k: _loaded(broken))
    target = tmp_path / "out.nii.gz"
    result = runner.invoke(app, ["convert", str(tmp_path), str(target)])
    assert result.exit_code == 1, result.output
    assert "non-finite geometry" in result.stderr
    assert volume.provenance is not None and str(volume.provenance.files[0]) in result.stderr
    assert not target.exists() and list(tmp_path.glob(".*part")) == []


def test_json_output_never_holds_nan_or_infinity(volume, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """``dicomio load --json`` of a volume whose values are not finite: null, not NaN."""
    values = volume.array.astype(np.float32)
    values[0, 0, 0] = np.inf
    values[0, 0, 1] = -np.inf
    odd = dataclasses.replace(volume, array=values)
    monkeypatch.setattr("dicomio.cli.load.load_for_output", lambda *a, **k: _loaded(odd))
    result = runner.invoke(app, ["load", "ignored", "--json"])
    assert result.exit_code == 0, result.output
    summary = _strict_json(result.stdout)
    assert isinstance(summary, dict)
    assert summary["min"] is None and summary["max"] is None
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout


def _loaded(volume):  # type: ignore[no-untyped-def]
    """``volume`` as the command line's load path returns it (a single volume)."""
    from dicomio.cli.loading import Loaded
    from dicomio.series.choose import select_series
    from dicomio.series.layout import lay_out

    series, _ = select_series(list(volume.provenance.files))
    return Loaded(series, lay_out(series), volume)
