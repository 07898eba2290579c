"""``dicomio preview``: the planes, their orientation labels, aspect and window are right."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.io.preview import (
    CT_WINDOW,
    choose_window,
    direction_letters,
    display_plane,
    mid_planes,
    render_preview,
)
from dicomio.testing import synthetic
from dicomio.testing.synthetic import SeriesSpec
from dicomio.volume import Volume

runner = CliRunner()


def volume(orientation, shape=(6, 8, 10), spacing=(0.7, 0.9), step=2.5, **metadata) -> Volume:
    array = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    # The contract's columns, written out: slice step, column cosine × PixelSpacing[0], row
    # cosine × PixelSpacing[1]; origin 0.
    affine = np.eye(4)
    affine[:3, 0] = np.cross(orientation[:3], orientation[3:]) * step
    affine[:3, 1] = np.asarray(orientation[3:]) * spacing[0]
    affine[:3, 2] = np.asarray(orientation[:3]) * spacing[1]
    return Volume(array, affine, metadata)


def test_direction_letters() -> None:
    assert direction_letters((1, 0, 0)) == "L"
    assert direction_letters((-1, 0, 0)) == "R"
    assert direction_letters((0, -2, 0)) == "A"
    assert direction_letters((0, 0, -1)) == "I"
    assert direction_letters((0.2, 0.0, -0.98)) == "IL"
    assert direction_letters((0.05, 0.0, 1.0)) == "S"  # below the threshold


def test_axial_series_reads_as_radiologists_expect() -> None:
    vol = volume(synthetic.AXIAL)
    axial = display_plane(vol, 0)
    assert axial.plane == "axial" and axial.index == 3
    np.testing.assert_array_equal(axial.image, vol.array[3])
    assert axial.labels == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    assert axial.pixel_size == pytest.approx((0.7, 0.9))

    coronal = display_plane(vol, 1)  # rows fixed: slices (S) down the screen must read I
    assert coronal.plane == "coronal"
    np.testing.assert_array_equal(coronal.image, vol.array[::-1, 4, :])
    assert coronal.labels == {"top": "S", "bottom": "I", "left": "R", "right": "L"}
    assert coronal.pixel_size == pytest.approx((2.5, 0.9))

    sagittal = display_plane(vol, 2)
    assert sagittal.plane == "sagittal"
    np.testing.assert_array_equal(sagittal.image, vol.array[::-1, :, 5])
    assert sagittal.labels == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    assert sagittal.pixel_size == pytest.approx((2.5, 0.7))


def test_sagittal_and_coronal_series() -> None:
    sag = volume(synthetic.SAGITTAL)  # rows run to the feet, columns to the back
    view = display_plane(sag, 0)
    assert view.plane == "sagittal"
    np.testing.assert_array_equal(view.image, sag.array[3])
    assert view.labels == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    cor = volume(synthetic.CORONAL)
    assert [v.plane for v in mid_planes(cor)] == ["axial", "coronal", "sagittal"]
    coronal = next(v for v in mid_planes(cor) if v.plane == "coronal")
    assert coronal.axis == 0
    assert coronal.labels == {"top": "S", "bottom": "I", "left": "R", "right": "L"}


def test_a_plane_whose_axes_must_be_swapped() -> None:
    # Rows run left-right and columns front-back: the axial view must transpose.
    vol = volume((0.0, 1.0, 0.0, 1.0, 0.0, 0.0))
    view = display_plane(vol, 0)
    assert view.plane == "axial"
    assert view.labels == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    np.testing.assert_array_equal(view.image, vol.array[3].T)
    assert view.pixel_size == pytest.approx((0.9, 0.7))


def test_oblique_labels_name_both_directions() -> None:
    from tests.support.cases import OBLIQUE

    view = display_plane(volume(OBLIQUE), 0)
    assert all(len(label) >= 2 for label in view.labels.values())
    assert view.labels["left"] == "".join(
        {"L": "R", "R": "L", "A": "P", "P": "A", "S": "I", "I": "S"}[c]
        for c in view.labels["right"])


def test_windows() -> None:
    ct = volume(synthetic.AXIAL, Modality="CT")
    window = choose_window(ct)
    assert (window.centre, window.width) == CT_WINDOW and not window.invert
    headed = volume(synthetic.AXIAL, Modality="CT", WindowCenter=40.0, WindowWidth=80.0)
    assert (choose_window(headed).low, choose_window(headed).high) == (0.0, 80.0)
    assert "header" in choose_window(headed).source
    mr = volume(synthetic.AXIAL, shape=(10, 10, 10), Modality="MR")
    window = choose_window(mr)
    assert window.low == pytest.approx(np.percentile(np.arange(1000), 0.5))
    assert window.high == pytest.approx(np.percentile(np.arange(1000), 99.5))
    inverted = volume(synthetic.AXIAL, Modality="CR", PhotometricInterpretation="MONOCHROME1")
    assert choose_window(inverted).invert


def test_render_writes_a_png(make_series, tmp_path) -> None:
    vol = dicomio.load_volume(make_series(SeriesSpec(shape=(6, 20, 28))).folder)
    path = render_preview(vol, tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert imread(path).shape[:2] == (576, 1440)
    colour = dicomio.load_volume(make_series(SeriesSpec(shape=(4, 12, 12),
                                                        samples_per_pixel=3)).folder)
    assert render_preview(colour, tmp_path / "c.png").stat().st_size > 0


def test_cli_preview(make_series, tmp_path) -> None:
    folder = make_series(SeriesSpec(shape=(6, 20, 28))).folder
    result = runner.invoke(app, ["preview", str(folder), "-o", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    assert "CT soft-tissue window (L 40, W 400 HU)" in result.stdout
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    again = runner.invoke(app, ["preview", str(folder), "-o", str(tmp_path / "p.png")])
    assert again.exit_code == 2
    forced = runner.invoke(app, ["preview", str(folder), "-o", str(tmp_path / "p.png"),
                                 "--force", "-q"])
    assert forced.exit_code == 0 and forced.stdout == ""
    gap = make_series(SeriesSpec(shape=(6, 20, 28)), skip=[2]).folder
    shown = runner.invoke(app, ["preview", str(gap), "-o", str(tmp_path / "gap.png")])
    assert shown.exit_code == 0 and "MISSING_SLICE" in shown.stderr
