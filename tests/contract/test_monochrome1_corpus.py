"""Real MONOCHROME1 images come back as stored, through every backend that reads them.

The contract never inverts MONOCHROME1 (GDCM does, and the SimpleITK backend undoes it; the
generated cases are in ``test_conformance.py``). Until this test, only the sweep of the whole
corpus through each toolkit (about a minute) read a real MONOCHROME1 file; the mutation check
(docs/mutations.md) plants "GDCM's inversion not undone" and needs a real-data test that sees
it in a second.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

import dicomio
from dicomio.backends.registry import backend_specs, get_spec

pytestmark = pytest.mark.corpus
INSTALLED = [spec.name for spec in backend_specs() if spec.installed()]
#: The corpus's uncompressed MONOCHROME1 images: computed radiographs, 12 of 16 bits stored.
MONOCHROME1_FILES = [f"pydicom_testfiles/test_files/dicomdirtests/77654033/{name}"
                     for name in ("CR1/6154", "CR2/6247", "CR3/6278")]


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("name", MONOCHROME1_FILES)
def test_monochrome1_corpus_images_are_returned_as_stored(corpus, name: str, backend: str
                                                          ) -> None:
    path = corpus(name)
    dataset = pydicom.dcmread(path)
    assert dataset.PhotometricInterpretation == "MONOCHROME1"
    stored = dataset.pixel_array & ((1 << dataset.BitsStored) - 1)
    inverted = (1 << dataset.BitsStored) - 1 - stored
    assert not np.array_equal(stored, inverted), "an inverted image would pass unseen"
    (series,) = dicomio.list_series(path)
    reason = get_spec(backend).cannot_read(series)
    if reason is not None:
        pytest.skip(f"{backend} cannot read it: {reason}")

    volume = dicomio.load_volume(path, backend=backend, rescale=False)
    np.testing.assert_array_equal(volume.array[0], stored)
    modality = dicomio.load_volume(path, backend=backend).array[0]
    expected = stored * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)
    np.testing.assert_allclose(modality, expected, rtol=1e-6)
