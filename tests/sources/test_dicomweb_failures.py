"""A failing DICOMweb service is a clear DicomIOError within a bounded time, never a hang nor a
half volume: a wrong URL, a refused connection, a 401, a server stopped mid-series (a real
Orthanc killed after two instances), a series changed between its metadata and its instances
(an instance deleted, or one added, through Orthanc's REST API while the series is read)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

import dicomio
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.orthanc import PASSWORD, USER, Orthanc, free_port, start_orthanc

pytest.importorskip("dicomweb_client", reason="DICOMweb needs dicomweb-client (extra dicomweb)")

#: Every failure below is raised within this many seconds.
BOUND_SECONDS = 20.0


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    server = start_orthanc(tmp_path / "orthanc")
    yield server
    server.stop()


def _series(server: Orthanc, folder: Path, slices: int = 8) -> tuple[str, list[Path]]:
    """A generated series uploaded to ``server``: its URL and files."""
    written = write_series(folder, SeriesSpec(shape=(slices, 16, 16)))
    for path in written.files:
        server.upload(path)
    dataset = pydicom.dcmread(written.files[0], stop_before_pixels=True)
    url = (f"{server.dicomweb}/studies/{dataset.StudyInstanceUID}"
           f"/series/{dataset.SeriesInstanceUID}")
    return url, list(written.files)


def _fails(error: type[dicomio.DicomIOError], url: str, **settings: object) -> str:
    """Load ``url`` with ``settings``; assert it raises ``error`` within the bound, and return
    its message."""
    start = time.monotonic()
    with dicomio.dicomweb_settings(**settings), pytest.raises(error) as raised:
        dicomio.load_volume(url)
    assert time.monotonic() - start < BOUND_SECONDS
    message = str(raised.value)
    assert PASSWORD not in message
    return message


def test_a_wrong_url_is_not_found(orthanc: Orthanc, tmp_path: Path) -> None:
    url, _ = _series(orthanc, tmp_path / "series")
    wrong_root = url.replace("/dicom-web/", "/not-dicom-web/")
    assert "not found (HTTP 404)" in _fails(dicomio.DicomWebNotFoundError, wrong_root,
                                            user=USER, password=PASSWORD)
    no_series = url.rsplit("/", 1)[0] + f"/{generate_uid()}"
    _fails(dicomio.DicomWebNotFoundError, no_series, user=USER, password=PASSWORD)
    no_study = f"{orthanc.dicomweb}/studies/{generate_uid()}"
    assert "no series found" in _fails(dicomio.DicomWebNotFoundError, no_study, user=USER,
                                       password=PASSWORD)


def test_a_refused_connection_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web/studies/1.2/series/1.2.3"
    message = _fails(dicomio.DicomWebConnectionError, url, retries=1, timeout=2)
    assert "could not be reached" in message


def test_a_wrong_password_is_a_401_never_shown(orthanc: Orthanc, tmp_path: Path) -> None:
    url, _ = _series(orthanc, tmp_path / "series")
    wrong = "not-the-" + PASSWORD
    message = _fails(dicomio.DicomWebAuthError, url, user=USER, password=wrong)
    assert "HTTP 401" in message and wrong not in message
    in_url = url.replace("http://", f"http://{USER}:{wrong}@")
    assert wrong not in _fails(dicomio.DicomWebAuthError, in_url)
    _fails(dicomio.DicomWebAuthError, url)  # no credentials at all


def test_a_server_stopping_mid_series_is_a_connection_error(orthanc: Orthanc,
                                                            tmp_path: Path) -> None:
    url, _ = _series(orthanc, tmp_path / "series")

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            orthanc.process.kill()
            orthanc.process.wait(10)

    message = _fails(dicomio.DicomWebConnectionError, url, user=USER, password=PASSWORD,
                     workers=1, retries=1, timeout=3, progress=stop_after_two)
    assert "retrieving instance" in message


def test_an_instance_deleted_while_reading_changes_the_series(orthanc: Orthanc,
                                                              tmp_path: Path) -> None:
    url, files = _series(orthanc, tmp_path / "series")
    last = str(pydicom.dcmread(files[-1], stop_before_pixels=True).SOPInstanceUID)
    deleted: list[str] = []

    def delete_once(done: int, total: int) -> None:
        if not deleted:
            orthanc.delete(last)
            deleted.append(last)

    message = _fails(dicomio.SeriesChangedError, url, user=USER, password=PASSWORD,
                     workers=1, progress=delete_once)
    assert "changed on the server" in message and deleted


def test_an_instance_added_while_reading_changes_the_series(orthanc: Orthanc,
                                                            tmp_path: Path) -> None:
    url, files = _series(orthanc, tmp_path / "series")
    extra = pydicom.dcmread(files[0])
    extra.SOPInstanceUID = extra.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    extra.InstanceNumber = 99
    added = tmp_path / "added.dcm"
    extra.save_as(added)

    def add_once(done: int, total: int) -> None:
        if done == 1:
            orthanc.upload(added)

    message = _fails(dicomio.SeriesChangedError, url, user=USER, password=PASSWORD,
                     workers=1, progress=add_once)
    assert "1 instance(s) added" in message
