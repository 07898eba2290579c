"""Agreement with the reference converters: every corpus reference that is one 3-D or 4-D
volume, through every installed backend able to read it (see tests/support/agreement.py for what
agreement means for each, and docs/agreement.md for the table)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import backend_specs
from tests.support.agreement import (
    CORPUS,
    DICOM2NIFTI_STACKS,
    REFERENCES,
    Expect,
    Reference,
    assert_geometry,
    cannot_read,
    check,
    judge,
    load,
    series_of,
    spatial_shape,
)
from tests.support.file_geometry import file_stack
from tests.support.reference import in_file_axes, load_reference

pytestmark = pytest.mark.corpus
INSTALLED = [spec.name for spec in backend_specs() if spec.installed()]


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: r.name)
def test_agrees_with_the_reference(reference: Reference, backend: str) -> None:
    if not (CORPUS / reference.source).exists():
        pytest.skip(f"corpus not found at {CORPUS} (set DICOMIO_CORPUS)")
    reason = cannot_read(reference, backend)
    if reason is not None:
        pytest.skip(f"{backend} cannot read it: {reason}")
    outcome = check(reference, backend)
    expected = "exact" if reference.expect is Expect.EXACT else "documented"
    assert outcome.status == expected, outcome.detail


# GE epi_pepolar (dcm_qa_polar/README.md): in modes 2 (rev-fwd) and 3 (fwd-rev) one series holds
# both phase-encoding polarities, and the reversed volumes are stored with their rows reversed
# while the header says nothing. dcm2niix writes the forward volumes under the series number and
# the reversed ones, flipped back, under series number + 1000; dicomio makes them two stacks and
# flips the reversed rows back too (docs/vendors.md). Which volumes are reversed follows from
# the mode alone (the README), read here with pydicom, not from dicomio.
PEPOLAR = {
    # reference: (input, polarity of the volumes it holds)
    "dcm_qa_polar/Ref/6_FM_cv12_2_3mm.nii": ("dcm_qa_polar/In/6_FM_cv12_2_3mm", "forward"),
    "dcm_qa_polar/Ref/1006_FM_cv12_2_3mm.nii": ("dcm_qa_polar/In/6_FM_cv12_2_3mm", "reversed"),
    "dcm_qa_polar/Ref/8_FM_cv12_3_3mm.nii": ("dcm_qa_polar/In/8_FM_cv12_3_3mm", "forward"),
    "dcm_qa_polar/Ref/1008_FM_cv12_3_3mm.nii": ("dcm_qa_polar/In/8_FM_cv12_3_3mm", "reversed"),
}


def readme_polarity(path: Any) -> str:
    """The README's rule: mode (UserData12) 1 reverses every volume, 2 the odd ones
    (TemporalPositionIdentifier), 3 the even ones, 0 none."""
    dataset = pydicom.dcmread(path, stop_before_pixels=True)
    mode = round(float(dataset[0x0019, 0x10B3].value))
    odd = int(dataset.TemporalPositionIdentifier) % 2 == 1
    reversed_rows = mode == 1 or (mode == 2 and odd) or (mode == 3 and not odd)
    return "reversed" if reversed_rows else "forward"


@pytest.mark.parametrize("reference", sorted(PEPOLAR))
def test_ge_epi_pepolar_volumes_agree_with_dcm2niix(reference: str) -> None:
    """Each polarity is a stack of two volumes, the files the README's rule gives it, voxel
    for voxel and grid for grid dcm2niix's image of that polarity; the reversed stack's first
    image is the stored one with its rows reversed (before issue #18, dicomio returned them
    as stored: mirrored along the rows)."""
    source, polarity = PEPOLAR[reference]
    if not (CORPUS / source).exists():
        pytest.skip(f"corpus not found at {CORPUS} (set DICOMIO_CORPUS)")
    found = dicomio.list_series(CORPUS / source)
    assert sorted(stack.polarity or "" for stack in found) == ["forward", "reversed"]
    (stack,) = [s for s in found if s.polarity == polarity]
    assert {readme_polarity(path) for path in stack.files} == {polarity}
    assert len(stack.files) == 120  # two volumes of 60 slices; the other two in the other stack
    volume = dicomio.load_4d(stack, rescale=False)
    assert volume.provenance is not None
    files = file_stack(volume.provenance.files)  # positions read with pydicom
    data, affine = load_reference(CORPUS / reference)
    expected, their_affine = in_file_axes(data, affine, files)
    assert_geometry(volume.affine, their_affine, files, spatial_shape(volume))
    np.testing.assert_array_equal(volume.array, np.moveaxis(expected, 3, 0))
    stored = pydicom.dcmread(volume.provenance.files[0]).pixel_array
    np.testing.assert_array_equal(volume.array[0, 0],
                                  stored[::-1] if polarity == "reversed" else stored)


def test_every_reference_of_the_corpus_is_in_the_table() -> None:
    """A reference NIfTI added to the corpus (or forgotten here) fails this test."""
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    listed = {r.reference for r in REFERENCES} | set(PEPOLAR)
    found = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("dcm_qa*/Ref/*.nii")}
    assert found <= listed, sorted(found - listed)
    # dicom2nifti ground truths: those of single 3-D stacks are in tests/contract/test_corpus.py.
    stacks = {f"dicom2nifti/data/{name}_ground_truth.nii.gz" for name in DICOM2NIFTI_STACKS}
    truths = {str(p.relative_to(CORPUS))
              for p in CORPUS.glob("dicom2nifti/data/**/*_ground_truth.nii.gz")}
    assert truths - stacks <= listed, sorted(truths - stacks - listed)


# The checks must fail on a wrong volume, whatever the reference's documented difference: each
# of these changes a correct reading the way a bug in dicomio would. "slices reversed" keeps
# voxels and affine consistent with each other (what a flipped slice normal gives): a check
# that trusted dicomio's affine would pass it.
def _reversed_slices(volume: Any) -> Any:
    affine = volume.affine.copy()
    affine[:3, 3] += (spatial_shape(volume)[0] - 1) * affine[:3, 0]
    affine[:3, 0] *= -1
    axis = volume.array.ndim - 3 - (volume.array.ndim == 5)
    return replace(volume, array=np.flip(volume.array, axis=axis), affine=affine)


def _scaled(volume: Any, column: int, factor: float) -> Any:
    affine = volume.affine.copy()
    affine[:3, column] *= factor
    return replace(volume, affine=affine)


def _moved(volume: Any, mm: float) -> Any:
    affine = volume.affine.copy()
    affine[:3, 3] += mm * affine[:3, 2] / np.linalg.norm(affine[:3, 2])
    return replace(volume, affine=affine)


def _rolled(volume: Any, axis: int) -> Any:
    return replace(volume, array=np.roll(volume.array, 1, axis=axis - 3))


WRONG = {
    "slice spacing 5 % long": lambda v: _scaled(v, 0, 1.05),
    "row spacing 5 % long": lambda v: _scaled(v, 1, 1.05),
    "origin 0.5 mm along the rows": lambda v: _moved(v, 0.5),
    "slices reversed": _reversed_slices,
    "all zero": lambda v: replace(v, array=np.zeros_like(v.array)),
    **{f"moved one voxel along axis {a}": partial(_rolled, axis=a) for a in range(3)},
}
# One reference of each kind of agreement.
SAMPLES = ["dcm_qa/sag_asc_35sl", "dicom2nifti/ge/dti/002", "dcm_qa_xa30/T1w",
           "dicom2nifti/philips_enhanced/anatomical/001", "dicom2nifti/failing/sliceincrement/002"]


@pytest.fixture(scope="module")
def correct_readings() -> dict[str, tuple[Any, dicomio.SeriesInfo]]:
    return {}


@pytest.mark.parametrize("wrong", list(WRONG))
@pytest.mark.parametrize("name", SAMPLES)
def test_a_wrong_volume_fails_the_check(name: str, wrong: str, correct_readings) -> None:
    (reference,) = [r for r in REFERENCES if r.name == name]
    if not (CORPUS / reference.source).exists():
        pytest.skip(f"corpus not found at {CORPUS} (set DICOMIO_CORPUS)")
    if name not in correct_readings:
        series = series_of(reference)
        volume = load(reference, series, "direct")
        judge(reference, volume, series)  # the correct reading passes
        correct_readings[name] = (volume, series)
    volume, series = correct_readings[name]
    with pytest.raises(AssertionError):
        judge(reference, WRONG[wrong](volume), series)
