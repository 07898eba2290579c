"""Real series from the corpus load from a zip and from a real DICOMDIR as from their folder:
every transfer syntax of dcm_qa_ts (compressed ones included) zipped, and a Philips CD whose
DICOMDIR references a directory file per study and per series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dicomio
from tests.support.corpus import corpus_path
from tests.support.sources import archive_of


def test_every_syntax_of_a_real_series_loads_from_a_zip(tmp_path: Path) -> None:
    folder = corpus_path("dcm_qa_ts/In")
    archive = archive_of(folder, "zip", tmp_path / "ts.zip")
    truth = dicomio.list_series(folder)
    found = dicomio.list_series(archive)
    assert [(s.key, s.shape, s.transfer_syntaxes) for s in found] == \
        [(s.key, s.shape, s.transfer_syntaxes) for s in truth]
    for index in range(len(truth)):
        try:
            expected = dicomio.load_volume(folder, series=index)
        except dicomio.DicomIOError as exc:  # a syntax no installed decoder reads
            pytest.skip(f"series {index} does not load from the folder either: {exc}")
        loaded = dicomio.load_volume(archive, series=index)
        assert loaded.array.dtype == expected.array.dtype
        assert np.array_equal(loaded.array, expected.array)
        assert np.array_equal(loaded.affine, expected.affine)


def test_a_real_cd_loads_through_its_dicomdir() -> None:
    dicomdir = corpus_path("dcm_qa_ct/In/Philips/DICOMDIR")
    folder = dicomdir.parent
    series, inventory = dicomio.scan(dicomdir)
    truth, _ = dicomio.scan(folder)
    assert [(s.key, s.files) for s in series] == [(s.key, s.files) for s in truth]
    missing = [s.path for s in inventory.skipped
               if s.reason == "listed in the DICOMDIR but missing"]
    assert missing and all(not path.exists() for path in missing)
    for index in range(len(truth)):
        loaded = dicomio.load_volume(dicomdir, series=index, ignore_unreadable=True)
        expected = dicomio.load_volume(folder, series=index)
        assert loaded.array.dtype == expected.array.dtype
        assert np.array_equal(loaded.array, expected.array)
        assert np.array_equal(loaded.affine, expected.affine)


@pytest.mark.parametrize("kind", ["zip", "tgz"])
@pytest.mark.parametrize("relative", ["dcm_qa_enh/In/Philips", "dcm_qa_enh/In/Siemens",
                                      "dcm_qa_mosaic/In/ep2d_Int_HF_5"])
def test_enhanced_files_and_mosaics_load_4d_from_an_archive(relative: str, kind: str,
                                                             tmp_path: Path) -> None:
    """Multi-frame placement and mosaic tiles read the private headers through pydicom: from
    the archive's member, not from a file on disk."""
    folder = corpus_path(relative)
    archive = archive_of(folder, kind, tmp_path / f"series.{kind}")
    truth = dicomio.list_series(folder)
    assert [s.shape for s in dicomio.list_series(archive)] == [s.shape for s in truth]
    for index in range(len(truth)):
        expected = dicomio.load_4d(folder, series=index)
        loaded = dicomio.load_4d(archive, series=index)
        assert loaded.array.dtype == expected.array.dtype
        assert np.array_equal(loaded.array, expected.array)
        assert np.array_equal(loaded.affine, expected.affine)
