"""Headers first, against a real Orthanc (issue 17): listing, ``info`` and ``validate
--headers-only`` read each instance's WADO-RS metadata and retrieve no instance, while the
server refuses every retrieval (its Lua filter, :mod:`tests.support.orthanc`); a load
retrieves the chosen series only; validate and convert into a folder retrieve each instance
once; compressed instances list by their headers as their files do.

What was retrieved is what the server logged (its own request filter), never dicomio's word.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid
from typer.testing import CliRunner

import dicomio
from dicomio.archive import convert_archive
from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec, write_series
from dicomio.validate import validate
from tests.sources.test_dicomweb import SYNTAXES
from tests.support.corpus import corpus_path
from tests.support.orthanc import PASSWORD, USER, Orthanc, start_orthanc
from tests.support.schemas import check_schema

pytest.importorskip("dicomweb_client", reason="DICOMweb needs dicomweb-client (extra dicomweb)")

runner = CliRunner()

#: The command line's credentials.
LOGIN = ("--dicomweb-user", USER, "--dicomweb-password", PASSWORD)


@dataclass(frozen=True)
class Written:
    """A series uploaded to the server, and its files."""

    folder: Path
    study: str
    series: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Served:
    """A running Orthanc holding a study of two generated series (``ct``, ``mr``)."""

    server: Orthanc
    ct: Written
    mr: Written

    @property
    def study_url(self) -> str:
        return f"{self.server.dicomweb}/studies/{self.ct.study}"


def _written(folder: Path, spec: SeriesSpec, study: str, server: Orthanc) -> Written:
    """A generated series written into ``study`` and uploaded."""
    written = write_series(folder, spec)
    series = ""
    for path in written.files:
        dataset = pydicom.dcmread(path)
        dataset.StudyInstanceUID = study
        dataset.save_as(path)
        series = str(dataset.SeriesInstanceUID)
        server.upload(path)
    return Written(folder, study, series, tuple(written.files))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    try:
        root, study = tmp_path_factory.mktemp("uploaded"), str(generate_uid())
        ct = _written(root / "ct", SeriesSpec(shape=(6, 20, 24), content="ct",
                                              pixel_spacing=(0.7, 0.9), slice_spacing=2.5),
                      study, server)
        mr = _written(root / "mr", SeriesSpec(shape=(4, 16, 12), pixel_spacing=(1.5, 1.25),
                                              slice_spacing=4.0), study, server)
        yield Served(server, ct, mr)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def credentials() -> Iterator[None]:
    with dicomio.dicomweb_settings(user=USER, password=PASSWORD):
        yield


def _expected(written: Written) -> tuple[tuple[int, int, int], tuple[float, float, float]]:
    """Shape and spacing (slice, row, column) of a series, from its files by pydicom: the
    slice spacing is the distance between neighbouring positions along the normal."""
    datasets = [pydicom.dcmread(path, stop_before_pixels=True) for path in written.files]
    iop = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    along = np.sort([np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)
                     for d in datasets])
    rows, columns = int(datasets[0].Rows), int(datasets[0].Columns)
    row_mm, column_mm = (float(v) for v in datasets[0].PixelSpacing)
    return (len(datasets), rows, columns), (float(np.diff(along).mean()), row_mm, column_mm)


def test_listing_info_and_validate_headers_only_retrieve_no_instance(served: Served) -> None:
    server = served.server
    server.forget_requests()
    with server.refusing_retrieval():
        found = dicomio.list_series(served.study_url)
        info = runner.invoke(app, ["info", served.study_url, "--format", "json", *LOGIN])
        checked = runner.invoke(app, ["validate", served.study_url, "--headers-only",
                                      "--format", "json", "--workers", "1", *LOGIN])
        with pytest.raises(dicomio.DicomWebError, match="HTTP 403"):
            dicomio.load_volume(served.study_url, series=served.ct.series)
    # The server saw the metadata asked for; the only retrievals are those load_volume made.
    assert any(line.endswith("/metadata") for line in server.requests())
    assert server.retrievals() and all(served.ct.series in uri for uri in server.retrievals())
    assert len(server.retrievals()) <= len(served.ct.files)
    for written in (served.ct, served.mr):
        listed = next(s for s in found if s.uid == written.series)
        shape, spacing = _expected(written)
        assert listed.shape == shape
        assert listed.spacing == pytest.approx(spacing)
        assert all(header.headers_only for header in listed.headers)
    assert info.exit_code == 0, info.output
    described = json.loads(info.output)
    check_schema("info", described)
    assert sorted(s["uid"] for s in described["series"]) == sorted(
        [served.ct.series, served.mr.series])
    # Orthanc's metadata says no transfer syntax: info says so, never a wrong one.
    assert {t["name"] for s in described["series"] for t in s["transfer_syntaxes"]} == {
        "not known before retrieval"}
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.output)
    check_schema("validate", report)
    assert report["passed"] and len(report["series"]) == 2
    codes = {f["code"] for s in report["series"] for f in s["findings"]}
    assert not codes & {"UNSUPPORTED_TRANSFER_SYNTAX", "MISSING_DECODER", "DECODE_FAILED",
                        "UNREADABLE_FILE"}, codes


def test_a_study_loads_its_chosen_series_only(served: Served) -> None:
    server = served.server
    index = [s.uid for s in dicomio.list_series(served.study_url)].index(served.mr.series)
    for chosen in (served.mr.series, index):
        server.forget_requests()
        loaded = dicomio.load_volume(served.study_url, series=chosen)
        assert np.array_equal(loaded.array, dicomio.load_volume(served.mr.folder).array)
        retrieved = server.retrievals()
        assert len(retrieved) == len(served.mr.files), retrieved
        assert all(f"/series/{served.mr.series}/instances/" in uri for uri in retrieved)
        assert len(set(retrieved)) == len(retrieved)


def test_a_series_listed_by_headers_loads_after_retrieval(served: Served) -> None:
    listed = next(s for s in dicomio.list_series(served.study_url) if s.uid == served.ct.series)
    assert listed.transfer_syntaxes == ("",)
    loaded = dicomio.load_volume(listed)
    expected = dicomio.load_volume(served.ct.folder)
    assert np.array_equal(loaded.array, expected.array)
    assert np.array_equal(loaded.affine, expected.affine)
    assert loaded.provenance.transfer_syntaxes == expected.provenance.transfer_syntaxes
    # A Volume's files (instance URLs) load again, retrieved together.
    served.server.forget_requests()
    again = dicomio.load_volume(list(loaded.provenance.files))
    assert np.array_equal(again.array, expected.array)
    assert sorted(served.server.retrievals()) == sorted(
        str(f).removeprefix(served.server.url) for f in loaded.provenance.files)


def test_validate_and_convert_into_a_folder_retrieve_each_instance_once(
        served: Served, tmp_path: Path) -> None:
    server = served.server
    instances = len(served.ct.files) + len(served.mr.files)
    server.forget_requests()
    report = validate(served.study_url)
    assert report.passed and len(report.series) == 2
    # Reported as retrieved: the transfer syntax the instances are stored in.
    assert {t for s in report.series for t in s.series.transfer_syntaxes} == {
        str(pydicom.dcmread(served.ct.files[0]).file_meta.TransferSyntaxUID)}
    counts = Counter(server.retrievals())
    assert len(counts) == instances and set(counts.values()) == {1}, counts
    server.forget_requests()
    converted = convert_archive(served.study_url, tmp_path / "out", workers=1)
    assert sorted(c.status for c in converted.series) == ["written", "written"]
    counts = Counter(server.retrievals())
    assert len(counts) == instances and set(counts.values()) == {1}, counts


def test_a_series_changed_after_its_headers_is_refused(served: Served,
                                                        tmp_path: Path) -> None:
    server = served.server
    changing = _written(tmp_path / "changing", SeriesSpec(shape=(5, 8, 8)), served.ct.study,
                        server)
    url = f"{server.dicomweb}/studies/{changing.study}/series/{changing.series}"
    [listed] = dicomio.list_series(url)
    assert listed.n_slices == 5
    # An instance added since the headers were read: the series is not what they described.
    extra = pydicom.dcmread(changing.files[0])
    extra.SOPInstanceUID = extra.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    extra.InstanceNumber = 99
    extra.ImagePositionPatient[2] = float(extra.ImagePositionPatient[2]) + 100.0
    extra.save_as(tmp_path / "extra.dcm", enforce_file_format=True)
    server.upload(tmp_path / "extra.dcm")
    with pytest.raises(dicomio.SeriesChangedError, match=r"1 instance\(s\) added"):
        dicomio.load_volume(listed)
    # An instance gone: its retrieval finds nothing there.
    [listed] = dicomio.list_series(url)
    assert listed.n_slices == 6
    server.delete(str(pydicom.dcmread(changing.files[2]).SOPInstanceUID))
    with pytest.raises(dicomio.SeriesChangedError):
        dicomio.load_volume(listed)
    assert [s.n_slices for s in dicomio.list_series(url)] == [5]


@pytest.fixture(scope="module")
def syntaxes(served: Served, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Written]:
    """Each dcm_qa_ts file as a series of its own, uploaded as it is stored."""
    root, study, found = tmp_path_factory.mktemp("syntaxes"), str(generate_uid()), {}
    for name, file in SYNTAXES.items():
        dataset = pydicom.dcmread(corpus_path("dcm_qa_ts/In") / file)
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, generate_uid()
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        path = root / name / file
        path.parent.mkdir()
        dataset.save_as(path, enforce_file_format=True)
        served.server.upload(path)
        found[name] = Written(path.parent, study, str(dataset.SeriesInstanceUID), (path,))
    return found


@pytest.mark.parametrize("name", SYNTAXES)
def test_compressed_instances_list_by_headers_as_their_files(
        served: Served, syntaxes: dict[str, Written], name: str) -> None:
    written = syntaxes[name]
    url = f"{served.server.dicomweb}/studies/{written.study}/series/{written.series}"
    served.server.forget_requests()
    with served.server.refusing_retrieval():
        by_headers = dicomio.list_series(url)
    assert served.server.retrievals() == []
    from_files = dicomio.list_series(written.folder)
    assert len(by_headers) == len(from_files) == 1
    # A Siemens mosaic of 384 x 384 holding its tiles of 64 x 64 (its CSA header, bulk data
    # in the metadata, is fetched with it; its pixel data is not).
    assert by_headers[0].shape == from_files[0].shape
    assert by_headers[0].frame_shape == (64, 64)
    dataset = pydicom.dcmread(written.files[0], stop_before_pixels=True)
    assert by_headers[0].spacing is not None and from_files[0].spacing is not None
    assert by_headers[0].spacing[1:] == pytest.approx([float(v) for v in dataset.PixelSpacing])
    assert by_headers[0].spacing == pytest.approx(from_files[0].spacing)
    assert by_headers[0].transfer_syntaxes == ("",)
