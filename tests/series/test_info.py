"""SeriesInfo on real 4-D series: the spacing ``info`` and ``list_series`` report is the grid's,
as the reference converter wrote it (DICOMIO_CORPUS; skipped with the reason where absent)."""

from __future__ import annotations

import numpy as np
import pytest

import dicomio
from tests.support.agreement import REFERENCES, Reference

pytestmark = pytest.mark.corpus

FOUR_D = [r for r in REFERENCES if r.four_d]


@pytest.mark.parametrize("reference", FOUR_D, ids=lambda r: r.name)
def test_4d_spacing_is_the_reference_converters(corpus, reference: Reference) -> None:
    nibabel = pytest.importorskip("nibabel")
    zooms = nibabel.load(str(corpus(reference.reference))).header.get_zooms()[:3]
    series = dicomio.list_series(corpus(reference.source))[reference.stack]
    assert series.spacing is not None
    # The images repeat each position once per volume; the grid steps between positions.
    assert sorted(series.spacing) == pytest.approx(sorted(map(float, zooms)), abs=2e-3)
    assert np.isclose(series.geometry.slice_spacing, series.spacing[0])
