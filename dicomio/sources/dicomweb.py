"""A DICOMweb service as a source: the instances of the series a URL names, as Part-10 bytes.

What :func:`web_sources` does for a URL (:mod:`dicomio.sources.web_address`), in order:

1. QIDO-RS (``search_for_series``) finds the series of a study or a service root's query; a
   URL naming one series needs no search.
2. WADO-RS metadata (``retrieve_series_metadata``: JSON, no pixel data) lists each series'
   instances: a URL that names nothing, a refused connection or refused credentials fail here,
   before any pixel data is asked for.
3. WADO-RS retrieves the instances in parallel (``settings.workers`` at once), each in the
   transfer syntax it is stored in (``Accept: multipart/related; type="application/dicom";
   transfer-syntax=*``), or read from the cache folder when it holds it.
4. The instance list is asked again: instances that came or went since step 2 are a
   :class:`~dicomio.errors.SeriesChangedError`, and so is an instance gone at step 3.

Each instance becomes a :class:`WebSource` (its bytes in memory, its name the instance's URL),
read by the same header walk, grouping, geometry and decoders as a file: one pipeline.
Any failure raises, and nothing read before it is returned.

Headers first: with ``headers_only``, steps 3 and 4 are left out, and each instance is a
:class:`~dicomio.sources.web_headers.WebHeaderSource` built from its metadata;
:func:`retrieve_headers` retrieves such instances later (steps 3 and 4, for the instances a
read needs). :func:`instance_sources` reads instance URLs given together (a Volume's files).
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomio.errors import DicomWebError, DicomWebNotFoundError, SeriesChangedError
from dicomio.sources.memory import dataset_bytes
from dicomio.sources.web_address import WebAddress, parse_address
from dicomio.sources.web_client import connect, scrubbed, translated
from dicomio.sources.web_headers import (
    AtURL,
    WebHeaderSource,
    header_bytes,
    json_value,
    stored_syntax,
    with_bulk_data,
)
from dicomio.sources.web_settings import DicomWebSettings, current_settings

__all__ = ["WebSource", "instance_sources", "retrieve_headers", "web_sources"]

# Attribute tags of the DICOM JSON model.
_STUDY, _SERIES, _SOP, _NUMBER = "0020000D", "0020000E", "00080018", "00200013"

# What a UID may hold: used as a cache folder's name only when it is one.
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


@dataclass(frozen=True)
class WebSource(AtURL):
    """One instance retrieved from a DICOMweb service: its URL (without credentials) and the
    bytes of its Part-10 file."""

    url: str
    data: bytes = field(repr=False)
    on_disk: bool = False

    @property
    def kind(self) -> str:
        return "an instance of a DICOMweb service"


def _series_of(client: Any, address: WebAddress, settings: DicomWebSettings
               ) -> list[tuple[str, str]]:
    """The (study, series) UIDs ``address`` names, by a QIDO-RS search unless it names one."""
    if address.series is not None and address.study is not None:
        return [(address.study, address.series)]
    with translated(address, settings, "searching for series (QIDO-RS)"):
        if address.study is not None:
            found = client.search_for_series(study_instance_uid=address.study,
                                             get_remaining=True)
        else:
            found = client.search_for_series(search_filters=dict(address.query),
                                             fields=[_STUDY], get_remaining=True)
    pairs = [(address.study or json_value(item, _STUDY), json_value(item, _SERIES))
             for item in found]
    pairs = sorted({(str(s), str(r)) for s, r in pairs if s and r})
    if not pairs:
        raise DicomWebNotFoundError(f"{address.shown}: no series found there (QIDO-RS)")
    return pairs


def _metadata(client: Any, address: WebAddress, settings: DicomWebSettings,
              study: str, series: str) -> dict[str, dict[str, Any]]:
    """The metadata of each instance of a series, by SOPInstanceUID, in order (by
    InstanceNumber, then UID)."""
    with translated(address, settings, f"reading the metadata of series {series} (WADO-RS)"):
        metadata = client.retrieve_series_metadata(study, series)
    listed = {str(json_value(m, _SOP)): m for m in metadata if json_value(m, _SOP)}
    if not listed:
        raise DicomWebNotFoundError(f"{address.shown}: series {series} has no instance")

    def number(uid: str) -> Any:
        return json_value(listed[uid], _NUMBER)

    order = sorted(listed, key=lambda uid: (not isinstance(number(uid), int),
                                            number(uid) if isinstance(number(uid), int) else 0,
                                            uid))
    return {uid: listed[uid] for uid in order}


def _cached(settings: DicomWebSettings, address: WebAddress, uids: Sequence[str]) -> Path | None:
    """Where the cache folder keeps the instance of ``uids`` (study, series, SOP)."""
    if settings.cache is None or not all(_UID.match(uid) for uid in uids):
        return None
    study, series, sop = uids
    named = WebAddress(address.root, study, series)
    return settings.cache / named.folder / f"{sop}.dcm"


def _store(path: Path, data: bytes) -> None:
    """Keep ``data`` at ``path`` (written whole, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as handle:
        handle.write(data)
    os.replace(handle.name, path)


def _retrieve(client: Any, address: WebAddress, settings: DicomWebSettings,
              uids: tuple[str, str, str]) -> bytes:
    """The Part-10 bytes of one instance, from the cache or the server (as stored)."""
    cached = _cached(settings, address, uids)
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    study, series, sop = uids
    with translated(address, settings, f"retrieving instance {sop} (WADO-RS)", retrieving=True):
        dataset = client.retrieve_instance(
            study, series, sop, media_types=(("application/dicom", settings.transfer_syntax),))
    got = str(dataset.get("SOPInstanceUID", ""))
    if got != sop:
        raise SeriesChangedError(f"{address.shown}: asked for instance {sop}, the server "
                                 f"sent {got or 'an instance without SOPInstanceUID'}")
    data = dataset_bytes(dataset)
    if cached is not None:
        _store(cached, data)
    return data


def _retrieve_all(client: Any, address: WebAddress, settings: DicomWebSettings,
                  wanted: list[tuple[str, str, str]]) -> list[bytes]:
    """Every instance of ``wanted``, retrieved ``settings.workers`` at once, in order; the
    first failure cancels what has not started and is raised."""
    found: dict[int, bytes] = {}
    workers = min(settings.workers, len(wanted))
    pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="dicomweb")
    try:
        futures = {pool.submit(_retrieve, client, address, settings, uids): k
                   for k, uids in enumerate(wanted)}
        for future in concurrent.futures.as_completed(futures):
            found[futures[future]] = future.result()
            if settings.progress is not None:
                settings.progress(len(found), len(wanted))
    except DicomWebError:
        raise
    except Exception as exc:  # pydicom could not parse an answer: not a DICOM instance
        raise DicomWebError(f"{address.shown}: an answer is not a DICOM instance: "
                            f"{type(exc).__name__}: {scrubbed(str(exc), settings)}") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [found[k] for k in range(len(wanted))]


def _check_unchanged(client: Any, address: WebAddress, settings: DicomWebSettings,
                     study: str, series: str, listed: list[str]) -> None:
    """Raise :class:`SeriesChangedError` when the series' instances are not those listed."""
    with translated(address, settings, f"listing the instances of series {series} again"):
        now = client.search_for_instances(study, series, fields=[_SOP], get_remaining=True)
    uids = {str(json_value(item, _SOP)) for item in now}
    if uids != set(listed):
        added, gone = len(uids - set(listed)), len(set(listed) - uids)
        raise SeriesChangedError(
            f"{address.shown}: series {series} changed on the server while it was read "
            f"({added} instance(s) added, {gone} gone since its metadata was read); nothing "
            f"was returned: read it again")


def _instance_url(address: WebAddress, study: str, series: str, sop: str) -> str:
    return f"{address.root}/studies/{study}/series/{series}/instances/{sop}"


def _bulk_data(client: Any, address: WebAddress, settings: DicomWebSettings, uri: str
               ) -> bytes:
    """The bulk data at ``uri`` (a metadata's BulkDataURI), asked of the service ``address``
    names (a server may write its URIs with another host or port than it is reached by)."""
    at = uri.find("/studies/")
    url = address.root + uri[at:] if at >= 0 else uri
    with translated(address, settings, "reading the bulk data of a header (WADO-RS)"):
        return b"".join(client.retrieve_bulkdata(url, media_types=("application/octet-stream",)))


def _headers(client: Any, address: WebAddress, settings: DicomWebSettings, study: str,
             series: str, metadata: dict[str, dict[str, Any]], wanted: Sequence[str]
             ) -> list[WebHeaderSource]:
    """The instances ``wanted`` of a series as headers built from its ``metadata`` (with the
    bulk data a mosaic's headers need: :func:`~dicomio.sources.web_headers.with_bulk_data`)."""
    listed, service = tuple(metadata), _service(address)
    items = with_bulk_data([metadata[sop] for sop in wanted],
                           lambda uri: _bulk_data(client, address, settings, uri),
                           settings.workers)
    try:
        return [WebHeaderSource(_instance_url(address, study, series, sop), header_bytes(item),
                                stored_syntax(item), listed, service)
                for sop, item in zip(wanted, items, strict=True)]
    except Exception as exc:  # pydicom cannot read the JSON or write the data set
        raise DicomWebError(f"{address.shown}: the metadata of series {series} is not the "
                            f"DICOM JSON model: {type(exc).__name__}: {exc}") from None


def web_sources(given: str | os.PathLike[str], *, headers_only: bool = False
                ) -> list[WebSource] | list[WebHeaderSource]:
    """The instances of the series the DICOMweb URL ``given`` names, retrieved (or only their
    headers, from the series' metadata).

    Parameters
    ----------
    given
        A series, study, instance or service-root URL (with a QIDO-RS query), see
        :mod:`dicomio.sources.web_address`. Settings: :func:`dicomio.dicomweb_settings`.
    headers_only
        True: no instance is retrieved; each is a :class:`WebHeaderSource` built from the
        series' WADO-RS metadata (:mod:`dicomio.sources.web_headers`).

    Raises
    ------
    DicomWebError
        Its subclasses say what failed: :class:`~dicomio.errors.DicomWebNotFoundError`,
        :class:`~dicomio.errors.DicomWebConnectionError`,
        :class:`~dicomio.errors.DicomWebAuthError`,
        :class:`~dicomio.errors.SeriesChangedError`,
        :class:`~dicomio.errors.DicomWebUnavailableError`.
    """
    address = parse_address(given)
    if address.instance is not None and address.series and address.study:
        return instance_sources([given], headers_only=headers_only)
    settings = current_settings()
    client = connect(address, settings)
    plan = [(study, series, _metadata(client, address, settings, study, series))
            for study, series in _series_of(client, address, settings)]
    if headers_only:
        return [source for study, series, metadata in plan
                for source in _headers(client, address, settings, study, series, metadata,
                                       list(metadata))]
    wanted = [(study, series, sop) for study, series, metadata in plan for sop in metadata]
    data = _retrieve_all(client, address, settings, wanted)
    for study, series, metadata in plan:
        _check_unchanged(client, address, settings, study, series, list(metadata))
    return [WebSource(_instance_url(address, *uids), item)
            for uids, item in zip(wanted, data, strict=True)]


def _service(address: WebAddress) -> WebAddress:
    """The service of ``address``: its root, with the credentials of its URL."""
    return WebAddress(address.root, user=address.user, password=address.password)


def _uids(url: str | os.PathLike[str]) -> tuple[WebAddress, tuple[str, str, str]]:
    """The service and the (study, series, SOP) UIDs of the instance URL ``url``."""
    address = parse_address(url)
    if address.instance is None or address.series is None or address.study is None:
        raise DicomWebNotFoundError(f"{address.shown}: not the URL of an instance")
    return _service(address), (address.study, address.series, address.instance)


def _retrieved(wanted: Sequence[tuple[WebAddress, tuple[str, str, str]]]) -> list[WebSource]:
    """The instances ``wanted`` (their service and UIDs), retrieved together (``workers``
    at once per service), in order."""
    settings = current_settings()
    by_service: dict[WebAddress, list[int]] = {}
    for place, (service, _) in enumerate(wanted):
        by_service.setdefault(service, []).append(place)
    found: dict[int, WebSource] = {}
    for service, places in by_service.items():
        uids = [wanted[place][1] for place in places]
        data = _retrieve_all(connect(service, settings), service, settings, uids)
        found.update((place, WebSource(_instance_url(service, *named), item))
                     for place, named, item in zip(places, uids, data, strict=True))
    return [found[place] for place in range(len(wanted))]


def instance_sources(given: Sequence[str | os.PathLike[str]], *, headers_only: bool = False
                     ) -> list[WebSource] | list[WebHeaderSource]:
    """The instances of the URLs ``given`` (a Volume's files, an archive job's), in order:
    retrieved together, ``settings.workers`` at once (or only their headers, from the
    metadata of their series: one request per series).

    Raises
    ------
    DicomWebError
        As :func:`web_sources`; :class:`~dicomio.errors.DicomWebNotFoundError` for an
        instance its series' metadata does not list.
    """
    wanted = [_uids(url) for url in given]
    if not headers_only:
        return _retrieved(wanted)
    settings = current_settings()
    found: dict[int, WebHeaderSource] = {}
    for service, study, series in dict.fromkeys((s, u[0], u[1]) for s, u in wanted):
        client = connect(service, settings)
        metadata = _metadata(client, service, settings, study, series)
        places = [(place, uids[2]) for place, (named, uids) in enumerate(wanted)
                  if (named, *uids[:2]) == (service, study, series)]
        gone = [sop for _, sop in places if sop not in metadata]
        if gone:
            raise DicomWebNotFoundError(f"{service.shown}: series {series} has no instance "
                                        f"{gone[0]} (WADO-RS metadata)")
        headers = _headers(client, service, settings, study, series, metadata,
                           [sop for _, sop in places])
        found.update(zip((place for place, _ in places), headers, strict=True))
    return [found[place] for place in range(len(wanted))]


def retrieve_headers(headers: Sequence[WebHeaderSource]) -> list[WebSource]:
    """The instances whose ``headers`` were read from metadata, retrieved together (in
    order); then each of their series is asked again, and one that no longer holds the
    instances its metadata listed is a :class:`SeriesChangedError`.

    Raises
    ------
    DicomWebError
        As :func:`web_sources`.
    """
    wanted = [(source.service, _uids(source.url)[1]) for source in headers]
    retrieved = _retrieved(wanted)
    settings = current_settings()
    listings = {(source.service, *uids[:2]): source.listed
                for source, (_, uids) in zip(headers, wanted, strict=True)}
    for (service, study, series), listed in listings.items():
        _check_unchanged(connect(service, settings), service, settings, study, series,
                         list(listed))
    return retrieved
