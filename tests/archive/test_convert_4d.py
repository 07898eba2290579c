"""``dicomio convert PATHS... FOLDER`` (without ``--name``) converts each series as
``convert`` to a file and ``--name`` do: a 4-D series written 4-D, with its sidecar and, for a
diffusion series, ``.bval`` and ``.bvec``; a refused series' reason names the command line's
options, not the library's arguments (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.testing.multiframe import write_4d
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.dwi_series import write_ge_series
from tests.support.schemas import check_schema

runner = CliRunner()

GRADIENTS = [(0, (0.0, 0.0, 0.0)), (1000, (1.0, 0.0, 0.0)), (1000, (0.0, 1.0, 0.0)),
             (1000, (0.0, 0.0, 1.0))]


def _convert(*arguments: str) -> dict:
    result = runner.invoke(app, ["convert", *arguments, "--json", "--workers", "1",
                                 "--reproducible"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    check_schema("convert", report)
    return report


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-D series of three volumes, and a series with a slice missing (a gap)."""
    root = tmp_path_factory.mktemp("inputs")
    spec = SeriesSpec(shape=(5, 12, 16), rescale_intercept=0.0)
    write_4d(root / "fmri", spec, volumes=3)
    gap = write_series(root / "gap", SeriesSpec(shape=(6, 10, 12), uid_seed="gap"))
    gap.files[2].unlink()
    return root


def test_a_4d_series_is_written_4d_with_its_sidecar(inputs: Path, tmp_path: Path) -> None:
    report = _convert(str(inputs / "fmri"), str(inputs / "gap"), str(tmp_path / "out"))
    written = [c for c in report["series"] if c["status"] == "written"]
    failed = [c for c in report["series"] if c["status"] == "failed"]
    assert len(written) == 1 and len(failed) == 1, report["series"]
    fmri = written[0]
    assert fmri["output"].startswith("fmri/")
    assert fmri["output_shape"] == [3, 5, 12, 16]  # volumes first, as load_4d returns it
    image = nib.load(tmp_path / "out" / fmri["output"])
    assert image.shape[3] == 3 and sorted(image.shape[:3]) == [5, 12, 16]
    stem = (tmp_path / "out" / fmri["output"]).name.removesuffix(".nii.gz")
    sidecar = tmp_path / "out" / "fmri" / f"{stem}.json"
    assert json.loads(sidecar.read_text())["Modality"] == "CT"
    # the same series to one file: the one conversion, the same image
    single = tmp_path / "single.nii.gz"
    result = runner.invoke(app, ["convert", str(inputs / "fmri"), str(single), "-q"])
    assert result.exit_code == 0, result.output
    theirs = nib.load(single)
    assert np.array_equal(np.asarray(image.dataobj), np.asarray(theirs.dataobj))
    assert np.array_equal(image.affine, theirs.affine)
    assert json.loads(sidecar.read_text()) == json.loads(single.with_suffix("").with_suffix(
        ".json").read_text())


def test_a_refused_series_names_the_option(inputs: Path, tmp_path: Path) -> None:
    report = _convert(str(inputs / "gap"), str(tmp_path / "out"))
    (failed,) = report["series"]
    assert failed["status"] == "failed"
    assert "--irregular accept" in failed["reason"], failed["reason"]
    assert "irregular=" not in failed["reason"]
    result = runner.invoke(app, ["convert", str(inputs / "gap"), str(tmp_path / "text"),
                                 "--workers", "1"])
    assert result.exit_code == 1
    assert "--irregular accept" in result.stdout and "irregular=" not in result.output
    accepted = _convert(str(inputs / "gap"), str(tmp_path / "accepted"), "--irregular",
                        "accept")
    assert accepted["series"][0]["status"] == "written", accepted["series"]


def test_a_diffusion_series_gets_bval_and_bvec(tmp_path: Path) -> None:
    write_ge_series(tmp_path / "in" / "dwi", "axial", "COL", GRADIENTS)
    report = _convert(str(tmp_path / "in"), str(tmp_path / "out"), "--no-sidecar")
    (dwi,) = report["series"]
    assert dwi["status"] == "written", dwi
    image = tmp_path / "out" / dwi["output"]
    stem = image.name.removesuffix(".nii.gz")
    assert nib.load(image).shape[3] == len(GRADIENTS)
    bvals = np.loadtxt(image.parent / f"{stem}.bval")
    assert np.array_equal(bvals, [b for b, _ in GRADIENTS])
    bvecs = np.loadtxt(image.parent / f"{stem}.bvec")
    assert bvecs.shape == (3, len(GRADIENTS))
    assert not bvecs[:, 0].any()
    assert np.allclose(np.abs(bvecs[:, 1:]).sum(axis=0), 1.0)  # one axis each, unit length
    assert not (image.parent / f"{stem}.json").exists()  # --no-sidecar
