"""DICOMweb through the command line, against a real Orthanc: credentials given as options
(never shown, a wrong one a clear exit 1 naming the options), the retrieval's progress bar,
instance names shown as URLs, and ``convert`` into a folder naming a study's folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from typer.testing import CliRunner

import dicomio
from dicomio.cli import app
from dicomio.testing.synthetic import SeriesSpec, write_series
from tests.support.orthanc import PASSWORD, USER, Orthanc, start_orthanc

pytest.importorskip("dicomweb_client", reason="DICOMweb needs dicomweb-client (extra dicomweb)")

runner = CliRunner()

WRONG = "not-the-" + PASSWORD


@dataclass(frozen=True)
class Served:
    """A generated series on a running Orthanc."""

    server: Orthanc
    study: str
    series: str
    folder: Path

    @property
    def url(self) -> str:
        return f"{self.server.dicomweb}/studies/{self.study}/series/{self.series}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    try:
        written = write_series(tmp_path_factory.mktemp("series"),
                               SeriesSpec(shape=(5, 12, 10), content="ct"))
        for path in written.files:
            server.upload(path)
        dataset = pydicom.dcmread(written.files[0], stop_before_pixels=True)
        yield Served(server, str(dataset.StudyInstanceUID), str(dataset.SeriesInstanceUID),
                     written.folder)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials come from the options only."""
    for name in ("USER", "PASSWORD", "TOKEN", "CACHE"):
        monkeypatch.delenv(f"DICOMIO_DICOMWEB_{name}", raising=False)


def _commands(url: str, out: Path) -> dict[str, list[str]]:
    return {
        "info": ["info", url, "--format", "json"],
        "load": ["load", url, "--json"],
        "validate": ["validate", url, "--workers", "1", "--format", "json"],
        "validate-workers": ["validate", url, "--workers", "2", "--format", "junit"],
        "preview": ["preview", url, "-o", str(out / "preview.png")],
        "convert": ["convert", url, str(out / "volume.nii.gz")],
        "convert-folder": ["convert", url, str(out / "all"), "--workers", "2", "--json"],
        "compare": ["compare", url, "--backends", "direct,pydicom", "--format", "json"],
    }


COMMANDS = list(_commands("URL", Path("out")))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_wrong_password_given_as_an_option_exits_1_and_is_never_shown(
        served: Served, command: str, tmp_path: Path) -> None:
    if command == "preview":
        pytest.importorskip("matplotlib")
    args = _commands(served.url, tmp_path)[command]
    result = runner.invoke(app, [*args, "--dicomweb-user", USER, "--dicomweb-password", WRONG])
    said = result.stdout + result.stderr
    assert result.exit_code == 1, said
    assert WRONG not in said
    assert "HTTP 401" in said
    # The remedy names the options that exist, and only those.
    assert "--dicomweb-user" in " ".join(said.split()), said
    assert "dicomweb_settings" not in said and "--user/" not in said


@pytest.mark.parametrize("command", COMMANDS)
def test_credentials_given_as_options_read_the_series(served: Served, command: str,
                                                      tmp_path: Path) -> None:
    if command == "preview":
        pytest.importorskip("matplotlib")
    args = _commands(served.url, tmp_path)[command]
    result = runner.invoke(app, [*args, "--dicomweb-user", USER, "--dicomweb-password",
                                 PASSWORD])
    said = result.stdout + result.stderr
    assert result.exit_code == 0, said
    assert PASSWORD not in said
    if command == "load":
        assert json.loads(result.stdout)["files"] == 5
    if command == "convert-folder":  # the URL shown as given (never http:/)
        assert json.loads(result.stdout)["paths"] == [served.url]


def test_a_token_option_is_sent_as_a_bearer_token(served: Served) -> None:
    # Orthanc's basic authentication refuses a bearer token: the option reached the server.
    result = runner.invoke(app, ["info", served.url, "--dicomweb-token", WRONG])
    assert result.exit_code == 1
    assert "HTTP 401" in result.stderr and WRONG not in result.stdout + result.stderr


def _convert(served: Served, out: Path, *options: str) -> tuple[str, str]:
    result = runner.invoke(app, ["convert", served.url, str(out), "--dicomweb-user", USER,
                                 "--dicomweb-password", PASSWORD, *options])
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout, result.stderr


def test_the_retrieval_shows_a_progress_bar_only_when_progress_is_on(
        served: Served, tmp_path: Path) -> None:
    _, shown = _convert(served, tmp_path / "a.nii.gz", "--progress")
    assert "retrieving instances" in shown
    _, quiet = _convert(served, tmp_path / "b.nii.gz", "--progress", "--quiet")
    assert "retrieving instances" not in quiet
    _, off = _convert(served, tmp_path / "c.nii.gz", "--no-progress")
    assert "retrieving instances" not in off
    # Into a folder with --json: stdout is the report alone, whatever stderr shows.
    printed, _ = _convert(served, tmp_path / "folder", "--progress", "--json",
                          "--workers", "1")
    assert json.loads(printed)["counts"]["written"] == 1


def test_convert_into_a_folder_names_the_host_and_study(served: Served, tmp_path: Path) -> None:
    _convert(served, tmp_path / "out", "--workers", "1")
    written = [p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.nii.gz")]
    host = f"127.0.0.1_{served.server.port}"
    assert len(written) == 1, written
    assert written[0].parts[:2] == (host, served.study), written
    assert written[0].name.endswith(f"_{served.series}.nii.gz")


def test_instance_names_are_urls_in_provenance_errors_and_reports(served: Served,
                                                                  tmp_path: Path) -> None:
    prefix = f"http://127.0.0.1:{served.server.port}/dicom-web/studies/"
    gapped = write_series(tmp_path / "gap", SeriesSpec(shape=(6, 12, 10)), skip=[3])
    for path in gapped.files:
        served.server.upload(path)
    dataset = pydicom.dcmread(gapped.files[0], stop_before_pixels=True)
    gap_url = (f"{served.server.dicomweb}/studies/{dataset.StudyInstanceUID}/series/"
               f"{dataset.SeriesInstanceUID}")
    with dicomio.dicomweb_settings(user=USER, password=PASSWORD):
        volume = dicomio.load_volume(served.url)
        assert all(str(f).startswith(prefix) for f in volume.provenance.files)
        with pytest.raises(dicomio.SeriesNotFoundError) as raised:
            dicomio.load_volume(served.url, series=3)
        assert str(raised.value).startswith(served.url), str(raised.value)
        with pytest.raises(dicomio.DicomIOError) as irregular:
            dicomio.load_volume(gap_url)
        assert f"{prefix}{dataset.StudyInstanceUID}" in str(irregular.value)
        from dicomio.validate.report import validate

        report = validate([served.url, gap_url]).to_dict()
    assert report["paths"] == [served.url, gap_url]
    files = [f for entry in report["series"] for finding in entry["findings"]
             for f in finding.get("files") or []]
    assert files and all(f.startswith(prefix) for f in files), report
    assert "http:/1" not in json.dumps(report)
