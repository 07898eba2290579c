"""``dicomio convert`` and :mod:`dicomio.io.writers`: NIfTI, NRRD and .npz that read back right.

Every file is read back by independent readers (nibabel, SimpleITK, pynrrd, NumPy): the voxel
values must be identical and each voxel centre where the DICOM affine puts it.
"""

from __future__ import annotations

import itertools
import json
import os

import nibabel as nib
import nrrd
import numpy as np
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.io.writers import format_of, write_volume
from dicomio.testing.synthetic import SeriesSpec
from tests.support.cases import OBLIQUE

runner = CliRunner()
SPEC = SeriesSpec(shape=(5, 9, 7), orientation=OBLIQUE, pixel_spacing=(0.6, 1.3),
                  slice_spacing=2.0)


@pytest.fixture
def oblique(make_series) -> dicomio.Volume:
    return dicomio.load_volume(make_series(SPEC).folder)


def corners(shape) -> list[tuple[int, int, int]]:
    return list(itertools.product(*[(0, n - 1) for n in shape[:3]]))


def test_format_from_the_file_name() -> None:
    assert [format_of(n) for n in ("a.nii", "b.NII.GZ", "c.nrrd", "d.npz")] == \
        ["nifti", "nifti", "nrrd", "npz"]
    with pytest.raises(ValueError, match="cannot tell the format"):
        format_of("volume.mha")


@pytest.mark.parametrize("name", ["oblique.nii", "oblique.nii.gz"])
def test_nifti_reads_back_with_nibabel(oblique, tmp_path, name) -> None:
    image = nib.load(write_volume(oblique, tmp_path / name))
    assert image.header.get_sform(coded=True)[1] == 1
    assert image.header.get_qform(coded=True)[1] == 1
    data = np.asarray(image.dataobj)
    assert data.dtype == oblique.dtype
    np.testing.assert_array_equal(data.transpose(2, 1, 0), oblique.array)
    for k, j, i in corners(oblique.shape):
        ras = image.affine @ (i, j, k, 1)
        np.testing.assert_allclose(ras[:3] * (-1, -1, 1), oblique.index_to_lps((k, j, i)),
                                   atol=1e-4)


def test_nrrd_reads_back_with_pynrrd(oblique, tmp_path) -> None:
    data, header = nrrd.read(str(write_volume(oblique, tmp_path / "o.nrrd")), index_order="C")
    np.testing.assert_array_equal(data, oblique.array)
    assert header["space"] == "left-posterior-superior"
    np.testing.assert_allclose(header["space origin"], oblique.origin)
    np.testing.assert_allclose(header["space directions"],
                               [oblique.affine[:3, 2], oblique.affine[:3, 1],
                                oblique.affine[:3, 0]])


@pytest.mark.parametrize(("name", "atol"), [("o.nii", 1e-4), ("o.nii.gz", 1e-4),
                                            ("o.nrrd", 1e-6)])
def test_simpleitk_reads_back_the_same_voxels_at_the_same_places(
    oblique, tmp_path, name: str, atol: float
) -> None:
    sitk = pytest.importorskip("SimpleITK")
    image = sitk.ReadImage(str(write_volume(oblique, tmp_path / name)))  # LPS, (i, j, k)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), oblique.array)
    for k, j, i in corners(oblique.shape):
        np.testing.assert_allclose(image.TransformIndexToPhysicalPoint((i, j, k)),
                                   oblique.index_to_lps((k, j, i)), atol=atol)


def test_npz_keeps_array_affine_and_metadata(oblique, tmp_path) -> None:
    path = write_volume(oblique, tmp_path / "oblique.npz")
    with np.load(path) as saved:  # no pickle needed
        np.testing.assert_array_equal(saved["array"], oblique.array)
        np.testing.assert_array_equal(saved["affine"], oblique.affine)
        meta = json.loads(str(saved["metadata"]))
    assert meta["affine_space"] == "LPS" and meta["axes"] == ["slice", "row", "column"]
    assert meta["metadata"]["Modality"] == "CT"
    assert meta["provenance"]["backend"] == "direct"
    assert len(meta["provenance"]["files"]) == 5


def test_gantry_tilt_goes_into_the_sform_only(make_series, tmp_path) -> None:
    truth = make_series(SPEC.with_(orientation=(1, 0, 0, 0, 1, 0), tilt_degrees=15))
    volume = dicomio.load_volume(truth.folder, irregular="accept")
    image = nib.load(write_volume(volume, tmp_path / "tilt.nii.gz"))
    assert image.header.get_qform(coded=True)[1] == 0  # a qform cannot shear
    sform = image.header.get_sform()
    for k in range(volume.shape[0]):  # each slice where its ImagePositionPatient says
        ras = sform @ (0, 0, k, 1)
        np.testing.assert_allclose(ras[:3] * (-1, -1, 1), truth.positions[k], atol=1e-4)


def test_colour_in_every_format(make_series, tmp_path) -> None:
    volume = dicomio.load_volume(make_series(SPEC.with_(samples_per_pixel=3)).folder)
    rgb = nib.load(write_volume(volume, tmp_path / "rgb.nii"))
    data = np.asarray(rgb.dataobj)
    assert data.dtype.names == ("R", "G", "B")
    np.testing.assert_array_equal(data["G"].transpose(2, 1, 0), volume.array[..., 1])
    from_nrrd, header = nrrd.read(str(write_volume(volume, tmp_path / "rgb.nrrd")),
                                  index_order="C")
    np.testing.assert_array_equal(from_nrrd, volume.array)
    assert header["kinds"][0] == "RGB-color"
    with np.load(write_volume(volume, tmp_path / "rgb.npz")) as saved:
        np.testing.assert_array_equal(saved["array"], volume.array)


def test_never_overwrites_silently_and_never_the_input(oblique, tmp_path) -> None:
    target = tmp_path / "v.npz"
    write_volume(oblique, target)
    with pytest.raises(FileExistsError, match="exists"):
        write_volume(oblique, target)
    write_volume(oblique, target, overwrite=True)
    source = oblique.provenance.files[0]
    before = source.read_bytes()
    with pytest.raises(FileExistsError, match="one of the input files"):
        write_volume(oblique, source, format="npz", overwrite=True)
    assert source.read_bytes() == before
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_volume(oblique, tmp_path / "no" / "such" / "v.npz")


def test_a_failed_write_leaves_nothing(oblique, tmp_path, monkeypatch) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "v.npz"
    target.write_bytes(b"the previous version")

    def broken(handle, **arrays):
        handle.write(b"half of it")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="No space left"):
        write_volume(oblique, target, overwrite=True)
    assert target.read_bytes() == b"the previous version"
    assert sorted(p.name for p in target.parent.iterdir()) == ["v.npz"]  # no temporary left


def test_written_files_follow_the_umask(oblique, tmp_path) -> None:
    mask = os.umask(0o027)
    try:
        path = write_volume(oblique, tmp_path / "v.nrrd")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o640


def test_cli_convert(make_series, tmp_path) -> None:
    folder = make_series(SPEC).folder
    result = runner.invoke(app, ["convert", str(folder), str(tmp_path / "out.nii.gz")])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and "nifti, 5×9×7 int16 × 1 + -1024" in result.stdout
    assert nib.load(tmp_path / "out.nii.gz").shape == (7, 9, 5)
    again = runner.invoke(app, ["convert", str(folder), str(tmp_path / "out.nii.gz")])
    assert again.exit_code == 2 and "exists" in again.stderr
    forced = runner.invoke(app, ["convert", str(folder), str(tmp_path / "out.nii.gz"),
                                 "--force", "-q", "--raw"])
    assert forced.exit_code == 0 and forced.stdout == ""
    # stored values of 16 bits that fit int16 are written as int16, as dcm2niix writes them
    assert nib.load(tmp_path / "out.nii.gz").get_data_dtype() == np.int16
    named = runner.invoke(app, ["convert", str(folder), str(tmp_path / "x.vol"), "--to", "npz"])
    assert named.exit_code == 0 and np.load(tmp_path / "x.vol")["array"].shape == (5, 9, 7)
    assert runner.invoke(app, ["convert", str(folder), str(tmp_path / "x.mha")]).exit_code == 2
    assert runner.invoke(app, ["convert", str(folder), str(tmp_path / "no" / "x.npz")]
                         ).exit_code == 2


def test_cli_convert_irregular_needs_consent(make_series, tmp_path) -> None:
    folder = make_series(SPEC, skip=[2]).folder
    refused = runner.invoke(app, ["convert", str(folder), str(tmp_path / "gap.nrrd")])
    assert refused.exit_code == 1 and "MISSING_SLICE" in refused.stderr
    assert not (tmp_path / "gap.nrrd").exists()
    accepted = runner.invoke(app, ["convert", str(folder), str(tmp_path / "gap.nrrd"),
                                   "--accept-irregular"])
    assert accepted.exit_code == 0 and "warning: MISSING_SLICE" in accepted.stderr
