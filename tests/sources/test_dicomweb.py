"""DICOMweb against a real Orthanc: every uploaded series loads as the same files do from disk
(voxels, affine, dtype, transfer syntax), compressed and multi-frame ones included; a study
URL lists its series; credentials are checked and never shown; the cache keeps what it read.

The failures (tests/sources/test_dicomweb_failures.py) are in a module of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

import dicomio
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.corpus import corpus_path
from tests.support.orthanc import PASSWORD, USER, Orthanc, start_orthanc

pytest.importorskip("dicomweb_client", reason="DICOMweb needs dicomweb-client (extra dicomweb)")

#: dcm_qa_ts files of different transfer syntaxes (one image of the same series each).
SYNTAXES = {"explicit": "1.dcm", "implicit": "2.dcm", "rle": "4.dcm", "jpeg-lossless": "5.dcm",
            "jpeg-ls": "7.dcm", "jpeg2000": "9.dcm"}


@dataclass(frozen=True)
class Stored:
    """A series on the server and the folder of the very files uploaded."""

    name: str
    folder: Path
    study: str
    series: str
    stacks: int = 1


def _renamed(source: Path, out: Path, study: str) -> str:
    """``source`` written to ``out`` as an instance of a new series of ``study`` (its pixel data
    and transfer syntax untouched); the new SeriesInstanceUID."""
    dataset = pydicom.dcmread(source)
    series = str(generate_uid())
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, series
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    out.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(out, enforce_file_format=True)
    return series


def _upload_folder(server: Orthanc, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        server.upload(path)


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stored(orthanc: Orthanc, tmp_path_factory: pytest.TempPathFactory) -> list[Stored]:
    """Series uploaded to the server, in one study: each dcm_qa_ts syntax, an enhanced
    multi-frame file, and a generated CT series."""
    root = tmp_path_factory.mktemp("uploaded")
    study = str(generate_uid())
    series: list[Stored] = []
    corpus = corpus_path("dcm_qa_ts/In")
    for name, file in SYNTAXES.items():
        folder = root / name
        uid = _renamed(corpus / file, folder / file, study)
        series.append(Stored(name, folder, study, uid))
    enhanced = corpus_path("dcm_qa_enh/In/Philips")
    folder = root / "enhanced"
    for path in sorted(enhanced.glob("*.dcm"))[:1]:
        uid = _renamed(path, folder / path.name, study)
    series.append(Stored("enhanced", folder, study, uid, stacks=2))
    written = write_series(root / "generated", SeriesSpec(shape=(6, 20, 24), content="ct"))
    dataset = pydicom.dcmread(written.files[0], stop_before_pixels=True)
    for path in written.files:  # into the same study
        item = pydicom.dcmread(path)
        item.StudyInstanceUID = study
        item.save_as(path)
    series.append(Stored("generated", root / "generated", study,
                         str(dataset.SeriesInstanceUID)))
    for item in series:
        _upload_folder(orthanc, item.folder)
    return series


@pytest.fixture(autouse=True)
def credentials() -> Iterator[None]:
    with dicomio.dicomweb_settings(user=USER, password=PASSWORD):
        yield


def _url(server: Orthanc, item: Stored) -> str:
    return f"{server.dicomweb}/studies/{item.study}/series/{item.series}"


@pytest.mark.parametrize("name", [*SYNTAXES, "enhanced", "generated"])
def test_a_series_loads_from_dicomweb_as_from_its_files(orthanc: Orthanc, stored: list[Stored],
                                                        name: str) -> None:
    item = next(s for s in stored if s.name == name)
    for stack in range(item.stacks):
        _same_stack(_url(orthanc, item), item, stack)


def _same_stack(url: str, item: Stored, stack: int) -> None:
    try:
        expected = dicomio.load_volume(item.folder, series=stack)
    except dicomio.DicomIOError as exc:  # a syntax no installed decoder reads
        pytest.skip(f"{item.name} does not load from its files either: {exc}")
    loaded = dicomio.load_volume(url, series=stack)
    assert loaded.array.dtype == expected.array.dtype
    assert loaded.array.shape == expected.array.shape
    assert np.array_equal(loaded.array, expected.array)
    assert np.array_equal(loaded.affine, expected.affine)
    # Asked as stored, decoded here: the same transfer syntax as the files.
    assert loaded.provenance.transfer_syntaxes == expected.provenance.transfer_syntaxes
    names = [str(f) for f in loaded.provenance.files]
    assert all(f"series/{item.series}/instances/" in n for n in names), names


def test_a_study_url_lists_its_series(orthanc: Orthanc, stored: list[Stored]) -> None:
    study = stored[0].study
    found = dicomio.list_series(f"{orthanc.dicomweb}/studies/{study}")
    # The enhanced file holds two stacks (magnitude and field map): one series, two entries.
    assert sorted({s.uid for s in found}) == sorted(s.series for s in stored)
    assert len(found) == len(stored) + 1


def test_the_service_root_with_a_query_or_a_series_uid(orthanc: Orthanc,
                                                       stored: list[Stored]) -> None:
    generated = next(s for s in stored if s.name == "generated")
    expected = dicomio.load_volume(generated.folder)
    by_uid = dicomio.load_volume(orthanc.dicomweb, series=generated.series)
    assert np.array_equal(by_uid.array, expected.array)
    assert by_uid.provenance.files == dicomio.load_volume(_url(orthanc, generated)
                                                          ).provenance.files
    found = dicomio.list_series(f"{orthanc.dicomweb}?StudyInstanceUID={generated.study}"
                                f"&Modality=CT")
    assert [s.uid for s in found] == [generated.series]


def test_credentials_from_the_environment_or_the_url_are_never_shown(
        orthanc: Orthanc, stored: list[Stored], monkeypatch: pytest.MonkeyPatch) -> None:
    generated = next(s for s in stored if s.name == "generated")
    url = _url(orthanc, generated)
    with dicomio.dicomweb_settings(user=None, password=None):
        monkeypatch.setenv("DICOMIO_DICOMWEB_USER", USER)
        monkeypatch.setenv("DICOMIO_DICOMWEB_PASSWORD", PASSWORD)
        from_environment = dicomio.load_volume(url)
        monkeypatch.delenv("DICOMIO_DICOMWEB_USER")
        monkeypatch.delenv("DICOMIO_DICOMWEB_PASSWORD")
        in_url = url.replace("http://", f"http://{USER}:{PASSWORD}@")
        from_url = dicomio.load_volume(in_url)
    assert np.array_equal(from_url.array, from_environment.array)
    assert PASSWORD not in repr(from_url.provenance) and PASSWORD not in str(from_url.metadata)
    assert from_url.provenance.files == from_environment.provenance.files


def test_the_cache_folder_keeps_each_instance_and_is_read_again(
        orthanc: Orthanc, stored: list[Stored], tmp_path: Path) -> None:
    generated = next(s for s in stored if s.name == "generated")
    with dicomio.dicomweb_settings(cache=tmp_path / "cache"):
        first = dicomio.load_volume(_url(orthanc, generated))
        kept = sorted((tmp_path / "cache").rglob("*.dcm"))
        assert len(kept) == len(first.provenance.files) == 6
        assert all(path.parent.name == generated.series for path in kept)
        # Cached instances are read instead of the server's: a cached file changed shows.
        dataset = pydicom.dcmread(kept[0])
        dataset.PixelData = np.zeros_like(dataset.pixel_array).tobytes()
        dataset.save_as(kept[0])
        again = dicomio.load_volume(_url(orthanc, generated))
    changed = [k for k in range(again.array.shape[0])
               if not np.array_equal(again.array[k], first.array[k])]
    assert len(changed) == 1
