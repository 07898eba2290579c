"""The pydicom backend's own geometry: the positions and orientations pydicom reads from each
file, slice by slice (functional groups for enhanced files), independent of dicomio's header
scan. Expected positions are written out from the spec by plain arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

import dicomio
from dicomio.testing.multiframe import write_enhanced
from dicomio.testing.synthetic import SeriesSpec
from tests.support.dicom_files import rewrite

OBLIQUE = (0.866025, 0.5, 0.0, -0.353553, 0.612372, 0.707107)


def instance_positions(spec: SeriesSpec) -> np.ndarray:
    """Where the writer puts instance k: origin + k × slice_spacing × (row × column cosine)."""
    (rx, ry, rz), (cx, cy, cz) = spec.orientation[:3], spec.orientation[3:]
    normal = np.array([ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx])
    return np.asarray(spec.origin) + np.arange(spec.shape[0])[:, None] * spec.slice_spacing \
        * normal


def test_each_slice_is_where_its_file_says(make_series) -> None:
    spec = SeriesSpec(shape=(5, 8, 10), orientation=OBLIQUE, slice_spacing=-2.0)
    truth = make_series(spec, naming="instance")
    volume = dicomio.load_volume(truth.folder, backend="pydicom")
    reported = volume.provenance.reported_geometry
    expected = instance_positions(spec)[::-1]  # sorted along the normal: last instance first
    np.testing.assert_allclose(reported.positions, expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(reported.direction)[:, 2], OBLIQUE[:3], atol=1e-6)
    np.testing.assert_allclose(np.asarray(reported.direction)[:, 1], OBLIQUE[3:], atol=1e-6)
    assert reported.spacing == pytest.approx((2.0, 0.7, 0.9))
    assert "pydicom" in reported.source


def test_enhanced_frames_are_placed_by_their_functional_groups(tmp_path) -> None:
    spec = SeriesSpec(shape=(6, 10, 13), modality="MR", orientation=OBLIQUE,
                      pixel_spacing=(0.8, 1.1))
    write_enhanced(tmp_path, spec)
    volume = dicomio.load_volume(tmp_path, backend="pydicom")
    reported = volume.provenance.reported_geometry
    np.testing.assert_allclose(reported.positions, instance_positions(spec), atol=1e-6)
    assert reported.spacing[1:] == (0.8, 1.1)


def test_a_file_without_a_position_leaves_the_geometry_unreported(make_series) -> None:
    truth = make_series(SeriesSpec(shape=(3, 8, 10)))
    rewrite(truth.files[1], ImagePositionPatient=None)
    volume = dicomio.load_volume(truth.folder, backend="pydicom", irregular="accept")
    assert volume.provenance.reported_geometry is None
