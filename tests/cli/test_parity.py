"""Every command that loads takes the same loading options, and every message they print can be
acted on from the command line: a remedy the library offers as a Python argument
(``irregular='accept'``, ``ignore_unreadable=True``) is named as the option."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from dicomio.cli import app
from dicomio.cli.options import option_for
from dicomio.errors import GeometryError, Remedy
from dicomio.testing.synthetic import SeriesSpec, write_series

runner = CliRunner()

PYTHON_SPELLINGS = ("irregular=", "ignore_unreadable=", "series=", "load_4d(", "rescale=")


def python_free(text: str) -> bool:
    return not any(spelling in text for spelling in PYTHON_SPELLINGS)


@pytest.fixture
def gap(tmp_path: Path) -> Path:
    """Five slices with the third missing."""
    return write_series(tmp_path / "gap", SeriesSpec(shape=(5, 16, 12)), skip=[2]).folder


@pytest.fixture
def unreadable(tmp_path: Path) -> Path:
    written = write_series(tmp_path / "series", SeriesSpec(shape=(4, 16, 12)))
    (written.folder / "truncated.dcm").write_bytes(written.files[0].read_bytes()[:300])
    return written.folder


LOADING = [["load"], ["preview", "-o", "{tmp}/p.png", "--irregular", "raise"],
           ["convert", "{tmp}/v.nii.gz"]]


@pytest.mark.parametrize("command", LOADING, ids=lambda c: c[0])
def test_irregular_geometry_names_the_option(gap: Path, tmp_path: Path,
                                            command: list[str]) -> None:
    args = [command[0], str(gap)] + [a.format(tmp=tmp_path) for a in command[1:]]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1, refused.output
    assert "--irregular accept" in refused.stderr and "--irregular resample" in refused.stderr
    assert python_free(refused.stderr), refused.stderr
    for policy in ("accept", "resample"):
        done = runner.invoke(app, [*(a for a in args if a != "raise" and a != "--irregular"),
                                   "--irregular", policy, "--force"]
                             if command[0] != "load" else [*args, "--irregular", policy])
        assert done.exit_code == 0, done.output


def test_resample_fills_the_gap(gap: Path) -> None:
    accepted = json.loads(runner.invoke(app, ["load", str(gap), "--json", "--irregular",
                                              "accept"]).stdout)
    resampled = json.loads(runner.invoke(app, ["load", str(gap), "--json", "--irregular",
                                               "resample"]).stdout)
    assert accepted["shape"][0] == 4 and resampled["shape"][0] == 5


def test_accept_irregular_is_irregular_accept(gap: Path) -> None:
    result = runner.invoke(app, ["load", str(gap), "--accept-irregular"])
    assert result.exit_code == 0, result.output
    both = runner.invoke(app, ["load", str(gap), "--accept-irregular", "--irregular", "resample"])
    assert both.exit_code == 2 and "--accept-irregular" in both.stderr


@pytest.mark.parametrize("command", [*LOADING, ["compare", "--backends", "direct"]],
                         ids=lambda c: c[0])
def test_unreadable_files_name_the_option_that_goes_on(unreadable: Path, tmp_path: Path,
                                                       command: list[str]) -> None:
    args = [command[0], str(unreadable)] + [a.format(tmp=tmp_path) for a in command[1:]]
    refused = runner.invoke(app, [a for a in args if a not in ("--irregular", "raise")])
    assert refused.exit_code == 1, refused.output
    assert "--ignore-unreadable" in refused.stderr and python_free(refused.stderr)
    done = runner.invoke(app, [*args, "--ignore-unreadable"])
    assert done.exit_code == 0, done.output
    if command[0] != "compare":
        assert "truncated.dcm" in done.stderr + done.stdout  # named as a warning


def test_option_for_names_every_remedy_the_library_offers() -> None:
    assert option_for(Remedy("irregular", "accept", "x")) == "--irregular accept"
    assert option_for(Remedy("ignore_unreadable", True, "x")) == "--ignore-unreadable"
    error = GeometryError("bad.", remedies=(Remedy("irregular", "resample", "resample it"),))
    assert str(error) == "bad. Pass irregular='resample' to resample it."
    assert error.explained(option_for) == "bad. Pass --irregular resample to resample it."


@pytest.fixture(scope="module")
def fmri() -> Path:
    from tests.support.corpus import corpus_path

    folder = corpus_path("dcm_qa_nih/In/20180918GE/mr_0004")
    if not folder.exists():
        pytest.skip(f"corpus not found at {folder}")
    return folder


def test_load_describes_a_4d_series(fmri: Path) -> None:
    result = runner.invoke(app, ["load", str(fmri), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["shape"] == [10, 15, 64, 64] and summary["volumes"] == 10


def test_preview_draws_one_volume(fmri: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = runner.invoke(app, ["preview", str(fmri), "-o", str(tmp_path / "p.png"),
                                 "--volume", "9"])
    assert result.exit_code == 0, result.output
    assert "volume 9 of 10" in result.stdout
    beyond = runner.invoke(app, ["preview", str(fmri), "-o", str(tmp_path / "q.png"),
                                 "--volume", "10"])
    assert beyond.exit_code == 2 and "10 volumes" in beyond.stderr


def test_convert_writes_4d_nifti_and_refuses_4d_npz(fmri: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(fmri), str(tmp_path / "f.nii")])
    assert result.exit_code == 0, result.output
    assert nib.load(tmp_path / "f.nii").shape == (64, 64, 15, 10)
    assert (tmp_path / "f.json").exists() and not (tmp_path / "f.bval").exists()
    npz = runner.invoke(app, ["convert", str(fmri), str(tmp_path / "f.npz")])
    assert npz.exit_code == 2 and "NIfTI" in npz.stderr


def test_convert_named_gzip_and_unique(fmri: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        result = runner.invoke(app, ["convert", str(fmri), str(out), "--name", "%s_%m",
                                     "--no-sidecar", "-q"])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["4_GE.nii.gz", "4_GEa.nii.gz"]
    plain = runner.invoke(app, ["convert", str(fmri), str(out), "--name", "%f", "--no-gzip"])
    assert plain.exit_code == 0 and (out / "mr_0004.nii").exists() and \
        (out / "mr_0004.json").exists()
    data = np.asarray(nib.load(out / "mr_0004.nii").dataobj)
    assert np.array_equal(data, np.asarray(nib.load(out / "4_GE.nii.gz").dataobj))
    unknown = runner.invoke(app, ["convert", str(fmri), str(out), "--name", "%q"])
    assert unknown.exit_code == 2 and "%q" in unknown.stderr
