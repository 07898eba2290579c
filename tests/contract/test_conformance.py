"""The cross-backend conformance suite: every case × every installed backend.

Each backend must return the truth the generator wrote: the same shape, dtype, values (exactly
for lossless syntaxes), for ``rescale=True`` and ``False``, and the affine each case's spec
states, computed in the test by plain arithmetic (:func:`tests.support.contract.stated_affine`,
never with dicomio's geometry functions nor the writer's own truth) within 1e-4 mm. A backend
that declares it cannot read a case must refuse it with a clear error, never return something;
the test is then a skip that gives the reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio.backends.registry import backend_specs, get_spec
from dicomio.dicom.transfer_syntax import lookup
from dicomio.pixels.decoders import decoders_for
from dicomio.testing.synthetic import LOSSY_SYNTAXES, WrittenSeries, write_series
from tests.support.cases import ALL_CASES, BASE, GEOMETRY_CASES, SYNTAX_CASES, Case
from tests.support.contract import assert_affine_is, assert_slices_match_files, stated_affine
from tests.support.dicom_files import rewrite
from tests.support.file_geometry import cross

INSTALLED = [spec.name for spec in backend_specs() if spec.installed()]
# Decoders of one lossy syntax may round the inverse transform differently; between them the
# values may differ by this much (measured: libjpeg 9 vs libjpeg-turbo IDCT, ≤ 1 level; GDCM's
# libjpeg in SimpleITK matches libjpeg-turbo on grey and differs by 1 on RGB). JPEG-LS
# near-lossless (.81) and JPEG 2000 (.91) decode identically everywhere (measured: 0).
DECODER_TOLERANCE = {"1.2.840.10008.1.2.4.50": 2, "1.2.840.10008.1.2.4.51": 2}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WrittenSeries]:
    return {}


def series_for(case: Case, cache: dict[str, WrittenSeries], factory) -> WrittenSeries:
    if case.id not in cache:
        cache[case.id] = write_series(factory.mktemp(case.id), case.spec, naming=case.naming)
    return cache[case.id]


def expected_values(truth: WrittenSeries, rescale: bool, dtype: np.dtype) -> np.ndarray:
    if not rescale or truth.stored.ndim == 4:
        return truth.stored
    values = truth.modality_values()
    return values.astype(dtype) if dtype.kind == "f" else values


def assert_matches_truth(volume: dicomio.Volume, truth: WrittenSeries, case: Case,
                         rescale: bool) -> None:
    dtype = np.dtype(case.dtype if rescale else case.raw_dtype)
    assert volume.shape == truth.stored.shape
    assert volume.dtype == dtype
    expected = expected_values(truth, rescale, dtype)
    slopes = np.abs(truth.slopes).max() if rescale and truth.stored.ndim == 3 else 1
    difference = np.abs(volume.array.astype(np.float64) - expected.astype(np.float64)).max()
    assert difference <= case.tolerance * slopes, f"values differ from the truth by {difference}"
    assert_affine_is(volume.affine, stated_affine(case.spec))
    assert volume.provenance.files == tuple(truth.files)


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_backend_returns_the_truth(case: Case, backend: str, written, tmp_path_factory) -> None:
    truth = series_for(case, written, tmp_path_factory)
    (info,) = dicomio.list_series(truth.folder)
    reason = get_spec(backend).cannot_read(info)
    if reason is not None:
        with pytest.raises((dicomio.BackendCannotReadError, dicomio.BackendUnavailableError)):
            dicomio.load_volume(truth.folder, backend=backend)
        pytest.skip(f"{backend} cannot read {case.id} (refused, as declared): {reason}")
    for rescale in (True, False):
        volume = dicomio.load_volume(truth.folder, backend=backend, rescale=rescale)
        assert volume.provenance.backend == backend
        assert_matches_truth(volume, truth, case, rescale)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_backends_agree_with_each_other(case: Case, written, tmp_path_factory) -> None:
    truth = series_for(case, written, tmp_path_factory)
    (info,) = dicomio.list_series(truth.folder)
    able = [b for b in INSTALLED if get_spec(b).cannot_read(info) is None]
    volumes = {b: dicomio.load_volume(info, backend=b) for b in able}
    reference = volumes[able[0]]
    tolerance = DECODER_TOLERANCE.get(case.spec.transfer_syntax, 0)
    for name, volume in volumes.items():
        assert volume.dtype == reference.dtype, name
        difference = np.abs(volume.array.astype(np.float64) - reference.array).max()
        assert difference <= tolerance, f"{name} differs from {able[0]} by {difference}"
        assert_affine_is(volume.affine, stated_affine(case.spec), what=name)


SYNTAX_DECODERS = [(case, decoder.name) for case in SYNTAX_CASES
                   for decoder in decoders_for(lookup(case.spec.transfer_syntax))]


@pytest.mark.parametrize(("case", "decoder"), SYNTAX_DECODERS,
                         ids=[f"{c.id}-{d}" for c, d in SYNTAX_DECODERS])
def test_every_installed_decoder_returns_the_truth(case: Case, decoder: str, written,
                                                   tmp_path_factory) -> None:
    truth = series_for(case, written, tmp_path_factory)
    (info,) = dicomio.list_series(truth.folder)
    if decoder == "imagecodecs" and case.spec.samples_per_pixel > 1:
        pytest.skip("imagecodecs is used for grey-scale frames only")
    try:
        volume = dicomio.load_volume(info, backend="direct", decoder=decoder)
    except dicomio.CorruptDataError as exc:
        # Some plugins refuse some layouts (pillow: > 8 bits; gdcm: signed JPEG-LS...): that must
        # be a clear error, and only where another installed decoder reads it.
        assert decoder.removeprefix("pydicom/") in ("pillow", "gdcm", "pyjpegls"), exc
        pytest.skip(f"{decoder} refuses {case.id}: {exc}")
    assert decoder in volume.provenance.decoders
    assert_matches_truth(volume, truth, case, rescale=True)


def test_lossy_tolerances_are_stated_for_every_lossy_syntax() -> None:
    lossy_cases = {c.spec.transfer_syntax for c in SYNTAX_CASES if c.tolerance}
    assert lossy_cases == set(LOSSY_SYNTAXES)
    assert all(c.tolerance == 0 for c in SYNTAX_CASES if c.spec.transfer_syntax not in
               LOSSY_SYNTAXES)


@pytest.mark.parametrize("case", GEOMETRY_CASES, ids=lambda c: c.id)
def test_contract_check_on_every_geometry_case(case: Case, written, tmp_path_factory) -> None:
    """The affine is the files' geometry as pydicom reads it, and the spec's; each slice is
    the file at the affine's position."""
    truth = series_for(case, written, tmp_path_factory)
    volume = dicomio.load_volume(truth.folder)
    assert_slices_match_files(volume)
    assert_affine_is(volume.affine, stated_affine(case.spec))


@pytest.mark.parametrize("case", GEOMETRY_CASES, ids=lambda c: c.id)
def test_the_writer_states_the_spec_geometry(case: Case, written, tmp_path_factory) -> None:
    """Guard the test generator itself: the truth it returns (used by other tests) is the
    spec's geometry, its files ascend along row cosine × column cosine."""
    truth = series_for(case, written, tmp_path_factory)
    assert_affine_is(truth.affine, stated_affine(case.spec), what="the writer's truth")
    normal = cross(case.spec.orientation[:3], case.spec.orientation[3:])
    assert np.all(np.diff(truth.positions @ normal) > 0)
    assert all(isinstance(p, Path) for p in truth.files)


MONOCHROME1_SPECS = {
    "12-bit": BASE.with_(shape=(3, 8, 10)),
    "12-bit-garbage": BASE.with_(shape=(3, 8, 10), high_bit_garbage=True),
    "16-bit-signed": BASE.with_(shape=(3, 8, 10), bits_stored=16, signed=True),
    "8-bit": BASE.with_(shape=(3, 8, 10), bits_allocated=8, bits_stored=8, rescale_intercept=0),
    "float-rescale": BASE.with_(shape=(3, 8, 10), rescale_slope=0.25, rescale_intercept=3.5),
}


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("name", list(MONOCHROME1_SPECS))
def test_monochrome1_is_returned_as_stored(name: str, backend: str, make_series) -> None:
    """The contract never inverts MONOCHROME1 (GDCM does; the SimpleITK backend undoes it)."""
    truth = make_series(MONOCHROME1_SPECS[name])
    rewrite(truth.files, PhotometricInterpretation="MONOCHROME1")
    for rescale in (True, False):
        volume = dicomio.load_volume(truth.folder, backend=backend, rescale=rescale)
        expected = truth.modality_values() if rescale else truth.stored
        assert volume.metadata["PhotometricInterpretation"] == "MONOCHROME1"
        np.testing.assert_array_equal(volume.array, expected.astype(volume.dtype))
