"""Agreement with the reference converters: every corpus reference that is one 3-D or 4-D
volume, through every installed backend able to read it (see tests/agreement.py for what
agreement means for each, and docs/agreement.md for the table)."""

from __future__ import annotations

import pytest

from dicomio.backends.registry import BACKENDS
from tests.support.agreement import CORPUS, REFERENCES, Expect, Reference, cannot_read, check

pytestmark = pytest.mark.corpus
INSTALLED = [name for name, spec in BACKENDS.items() if spec.installed()]


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


def test_every_reference_of_the_corpus_is_in_the_table() -> None:
    """A reference NIfTI added to the corpus (or forgotten here) fails this test."""
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    listed = {r.reference for r in REFERENCES}
    found = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("dcm_qa*/Ref/*.nii")}
    assert found <= listed, sorted(found - listed)
    # dicom2nifti ground truths: those of single 3-D stacks are in tests/test_corpus.py.
    from tests.contract.test_corpus import DICOM2NIFTI_STACKS

    stacks = {f"dicom2nifti/data/{name}_ground_truth.nii.gz" for name in DICOM2NIFTI_STACKS}
    truths = {str(p.relative_to(CORPUS))
              for p in CORPUS.glob("dicom2nifti/data/**/*_ground_truth.nii.gz")}
    assert truths - stacks <= listed, sorted(truths - stacks - listed)
