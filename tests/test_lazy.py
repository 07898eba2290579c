"""load_volume(..., lazy=True): a Dask array with the eager load's dtype, values, affine and
provenance, whose chunks read their slices only when computed.

The expected values come from the synthetic writer's truth (and from the eager load, the
contract every other test holds it to); nothing here is computed with dicomio's geometry.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

import dicomio
from dicomio.testing import synthetic as s
from dicomio.testing.multiframe import write_4d, write_enhanced, write_mosaic
from dicomio.testing.synthetic import SeriesSpec, missing_encoder
from tests.support.cases import GEOMETRY_CASES, PIXEL_CASES, SYNTAX_CASES, Case
from tests.support.sources import archive_of

da = pytest.importorskip("dask.array", reason="lazy loading needs Dask (the dask extra)")

SMALL = SeriesSpec(shape=(6, 10, 12))
CASES = [c for c in GEOMETRY_CASES if c.id in ("axial", "reversed", "oblique")] \
    + PIXEL_CASES + SYNTAX_CASES


def _written(make_series, case: Case):  # type: ignore[no-untyped-def]
    missing = missing_encoder(case.spec.transfer_syntax)
    if missing:
        pytest.skip(f"cannot write {case.id}: {missing}")
    return make_series(case.spec, naming=case.naming)


def _same_volume(lazy: dicomio.Volume | dicomio.Volume4D,
                 eager: dicomio.Volume | dicomio.Volume4D) -> np.ndarray:
    """Assert ``lazy`` is ``eager`` but for its array being Dask's; return its computed array."""
    assert isinstance(lazy.array, da.Array) and isinstance(eager.array, np.ndarray)
    assert lazy.shape == eager.shape and lazy.dtype == eager.dtype
    computed = lazy.array.compute()
    assert computed.dtype == eager.dtype
    np.testing.assert_array_equal(computed, eager.array)
    np.testing.assert_array_equal(lazy.affine, eager.affine)
    assert lazy.metadata == eager.metadata
    if eager.slice_positions is None:
        assert lazy.slice_positions is None
    else:
        np.testing.assert_array_equal(lazy.slice_positions, eager.slice_positions)
    assert lazy.provenance is not None and eager.provenance is not None
    assert all(d.endswith(" (lazy)") for d in lazy.provenance.decoders)
    # The decoders chosen from the headers; pydicom's plugin is named once it has decoded.
    said = {d.removesuffix(" (lazy)").split("/")[0] for d in lazy.provenance.decoders}
    assert said == {d.split("/")[0] for d in eager.provenance.decoders}
    assert dataclasses.replace(lazy.provenance, decoders=eager.provenance.decoders) == \
        eager.provenance
    return computed


@pytest.mark.parametrize("rescale", [True, False], ids=["rescaled", "stored"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_lazy_is_the_eager_load_and_the_truth(make_series, case: Case, rescale: bool) -> None:
    truth = _written(make_series, case)
    eager = dicomio.load_volume(truth.folder, rescale=rescale)
    lazy = dicomio.load_volume(truth.folder, rescale=rescale, lazy=True)
    computed = _same_volume(lazy, eager)
    assert str(computed.dtype) == (case.dtype if rescale else case.raw_dtype)
    colour = case.spec.samples_per_pixel > 1  # never rescaled
    expected = truth.modality_values() if rescale and not colour else truth.stored
    np.testing.assert_allclose(computed, expected, atol=case.tolerance, rtol=0)
    np.testing.assert_allclose(lazy.affine, truth.affine, atol=1e-6)


def test_chunks_hold_the_slices_asked_for(make_series) -> None:
    truth = make_series(SMALL)
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    assert lazy.array.chunks == ((1,) * 6, (10,), (12,))
    four = dicomio.load_volume(truth.folder, lazy=True, chunks=4)
    assert four.array.chunks == ((4, 2), (10,), (12,))
    np.testing.assert_array_equal(four.array.compute(), truth.modality_values())


def test_mid_plane_and_mean_over_slices(make_series) -> None:
    truth = make_series(SMALL.with_(rescale_slope=[1, 2, 1, 0.5, 1, 3]))
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    expected = truth.modality_values()
    np.testing.assert_allclose(lazy.array[:, 5, :].compute(), expected[:, 5, :], rtol=1e-6)
    np.testing.assert_allclose(lazy.array[2:5, 3:7, ::2].compute(), expected[2:5, 3:7, ::2],
                               rtol=1e-6)
    np.testing.assert_allclose(lazy.array.mean(axis=0).compute(), expected.mean(axis=0),
                               rtol=1e-5)


def test_one_slice_reads_only_its_own_file(make_series) -> None:
    """Computing slice 3 opens slice 3's file only: the others may be gone."""
    truth = make_series(SMALL)
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    expected = truth.modality_values()
    kept = lazy.provenance.files[3]
    for path in lazy.provenance.files:
        if path != kept:
            path.unlink()
    np.testing.assert_array_equal(lazy.array[3].compute(), expected[3])
    np.testing.assert_array_equal(lazy.array[3, 4:, 2].compute(), expected[3, 4:, 2])
    with pytest.raises(FileNotFoundError):
        lazy.array[4].compute()


@pytest.mark.parametrize("syntax", [s.EXPLICIT_BE, s.DEFLATED, s.RLE])
def test_other_syntaxes_read_one_chunk_from_its_file(make_series, syntax: str) -> None:
    """What is not mapped (big endian, deflated, compressed) decodes a chunk's files only."""
    truth = make_series(SMALL.with_(transfer_syntax=syntax))
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    kept = lazy.provenance.files[2]
    for path in lazy.provenance.files:
        if path != kept:
            path.unlink()
    np.testing.assert_array_equal(lazy.array[2].compute(), truth.modality_values()[2])


def test_a_multi_frame_file(tmp_path: Path) -> None:
    truth = write_enhanced(tmp_path / "enhanced", SMALL.with_(modality="MR"), files=1)
    eager = dicomio.load_volume(truth.folder)
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    computed = _same_volume(lazy, eager)
    np.testing.assert_allclose(computed, truth.modality_values()[0], rtol=1e-6)


def test_a_mosaic_keeps_its_tiles_in_one_chunk(tmp_path: Path) -> None:
    truth = write_mosaic(tmp_path / "mosaic", descending=True)
    eager = dicomio.load_volume(truth.folder)
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    assert lazy.array.chunks[0] == (5,)  # the five tiles of one stored image
    computed = _same_volume(lazy, eager)
    np.testing.assert_allclose(computed, truth.modality_values()[0], rtol=1e-6)
    one = dicomio.load_volume(truth.folder, lazy=True, chunks=1)
    np.testing.assert_array_equal(one.array.compute(), eager.array)


def test_load_4d_lazily(tmp_path: Path) -> None:
    truth = write_4d(tmp_path / "fourd", SMALL, volumes=3, key="temporal")
    eager = dicomio.load_4d(truth.folder)
    lazy = dicomio.load_4d(truth.folder, lazy=True)
    assert lazy.order_rule == eager.order_rule and lazy.volume_keys == eager.volume_keys
    computed = _same_volume(lazy, eager)
    np.testing.assert_array_equal(computed, truth.modality_values())
    np.testing.assert_array_equal(lazy[1].array.compute(), truth.modality_values()[1])
    uneven = dicomio.load_4d(truth.folder, lazy=True, chunks=4)  # chunks across volumes
    np.testing.assert_array_equal(uneven.array.compute(), truth.modality_values())


def test_irregular_accept_and_resample(make_series) -> None:
    truth = make_series(SMALL.with_(shape=(8, 10, 12)))
    truth.files[3].unlink()  # a missing slice
    eager = dicomio.load_volume(truth.folder, irregular="accept")
    lazy = dicomio.load_volume(truth.folder, irregular="accept", lazy=True)
    computed = _same_volume(lazy, eager)
    np.testing.assert_array_equal(computed, np.delete(truth.modality_values(), 3, axis=0))
    with pytest.raises(dicomio.InvalidArgumentError, match="cannot be resampled"):
        dicomio.load_volume(truth.folder, irregular="resample", lazy=True)


@pytest.mark.parametrize("form", ["zip", "bytes"])
def test_archive_members_and_memory(make_series, tmp_path: Path, form: str) -> None:
    truth = make_series(SMALL)
    given = archive_of(truth.folder, "zip", tmp_path / "series.zip") if form == "zip" \
        else [path.read_bytes() for path in truth.files]
    eager = dicomio.load_volume(given)
    lazy = dicomio.load_volume(given, lazy=True)
    computed = _same_volume(lazy, eager)
    np.testing.assert_array_equal(computed, truth.modality_values())


def test_a_damaged_slice_raises_when_computed_naming_its_file(make_series) -> None:
    truth = make_series(SMALL.with_(transfer_syntax=s.RLE))
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    damaged = lazy.provenance.files[2]
    data = bytearray(damaged.read_bytes())
    data[-40:] = b"\x7f" * 40  # the end of the RLE segments: runs beyond the frame
    damaged.write_bytes(bytes(data))
    with pytest.raises(dicomio.DicomIOError) as eager_error:
        dicomio.load_volume(truth.folder)
    lazy_array = dicomio.load_volume(truth.folder, lazy=True).array  # headers are fine
    np.testing.assert_array_equal(lazy_array[1].compute(), truth.modality_values()[1])
    with pytest.raises(dicomio.DicomIOError) as lazy_error:
        lazy_array[2].compute()
    assert type(lazy_error.value) is type(eager_error.value)
    assert lazy_error.value.path == damaged and str(damaged) in str(lazy_error.value)


def test_a_file_cut_short_after_loading_raises_naming_it(make_series) -> None:
    truth = make_series(SMALL)
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    cut = lazy.provenance.files[4]
    cut.write_bytes(cut.read_bytes()[:-100])
    with pytest.raises(dicomio.CorruptDataError, match="truncated") as error:
        lazy.array[4].compute()
    assert error.value.path == cut


def test_the_graph_pickles_and_computes_on_a_cluster(make_series) -> None:
    distributed = pytest.importorskip("distributed", reason="needs dask.distributed")
    truth = make_series(SMALL.with_(transfer_syntax=s.EXPLICIT_BE, rescale_slope=0.5))
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    expected = truth.modality_values()
    np.testing.assert_allclose(pickle.loads(pickle.dumps(lazy.array)).compute(), expected)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        computed = client.compute(lazy.array).result()
        mean = client.compute(lazy.array.mean(axis=0)).result()
        cut = lazy.provenance.files[3]
        cut.write_bytes(cut.read_bytes()[:-100])
        with pytest.raises(dicomio.CorruptDataError, match="truncated") as error:
            client.compute(lazy.array[3]).result()  # the worker's error, naming the file
        assert error.value.path == cut
    np.testing.assert_allclose(computed, expected)
    np.testing.assert_allclose(mean, expected.mean(axis=0), rtol=1e-6)


def test_writing_a_lazy_volume_writes_its_values(make_series, tmp_path: Path) -> None:
    truth = make_series(SMALL)
    lazy = dicomio.load_volume(truth.folder, lazy=True)
    from dicomio.io.writers import write_volume

    written = np.load(write_volume(lazy, tmp_path / "out.npz"))
    np.testing.assert_array_equal(written["array"], truth.modality_values())


def test_lazy_needs_dicomios_own_reader(tmp_path: Path) -> None:
    missing = tmp_path / "nothing here"
    for backend in ("sitk", "pydicom", "vtk"):
        with pytest.raises(dicomio.InvalidArgumentError, match="backend must be 'auto' or"):
            dicomio.load_volume(missing, backend, lazy=True)  # before any file is read
    with pytest.raises(dicomio.InvalidArgumentError, match="lazy"):
        dicomio.load_volume(missing, lazy="yes")  # type: ignore[arg-type]
    with pytest.raises(dicomio.InvalidArgumentError, match="chunks"):
        dicomio.load_volume(missing, lazy=True, chunks=0)
    with pytest.raises(dicomio.InvalidArgumentError, match="needs lazy=True"):
        dicomio.load_4d(missing, chunks=2)


def test_lazy_without_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None):  # type: ignore[no-untyped-def]
        return None if name.split(".")[0] == "dask" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(dicomio.BackendUnavailableError, match=r"\[dask\]") as error:
        dicomio.load_volume(tmp_path, lazy=True)
    assert isinstance(error.value, ImportError) and "pip install" in str(error.value)


def test_a_volume_takes_a_dask_array_without_computing_it() -> None:
    import dask

    def never() -> np.ndarray:
        raise AssertionError("computed")

    lazy = da.from_delayed(dask.delayed(never)(), shape=(2, 4, 3, 5), dtype=np.int16)
    affine = np.diag([2.0, 0.5, 0.5, 1.0])
    four = dicomio.Volume4D(lazy, affine)
    assert four.shape == (2, 4, 3, 5) and four[1].shape == (4, 3, 5)
    assert "Volume(shape=(4, 3, 5), dtype=int16" in repr(four[1])
    with pytest.raises(ValueError, match="must be 3-D"):
        dicomio.Volume(lazy[0, 0], affine)
