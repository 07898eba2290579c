"""A DICOMweb instance's header from its WADO-RS metadata, before any pixel data is fetched.

A series' metadata (``retrieve_series_metadata``: the DICOM JSON model of each instance, no
pixel data) is all :func:`dicomio.list_series`, ``dicomio info`` and ``validate
--headers-only`` need: each instance's JSON becomes a pydicom data set
(:meth:`pydicom.Dataset.from_json`, with a bulk-data handler that never fetches: a
BulkDataURI becomes an empty value), written without pixel data as the bytes of a Part-10
file, a :class:`WebHeaderSource` named by the instance's URL, as the retrieved instance is.
The one header walk reads it like any file; the header then says what metadata cannot
(:func:`dicomio.dicom.types.from_metadata`): the transfer syntax the instance is stored in
(Orthanc's metadata has no (0002,0010)) and where its pixel data lies (a compressed
instance's metadata may hold no Pixel Data element at all).

One kind of header is bulk data in most servers' metadata and is fetched with it: the Siemens
CSA headers of a mosaic (:func:`mosaic_bulk_data`), a few kilobytes that say how its tiles lie
in space; without them a mosaic could only be listed as its stored image. Nothing else is
ever fetched. Reading the pixels retrieves the instances first:
:func:`dicomio.series.retrieve.with_pixel_data`.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomio.dicom.source import MetadataSource
from dicomio.dicom.transfer_syntax import EXPLICIT_VR_LITTLE_ENDIAN
from dicomio.sources.memory import HeldBytes
from dicomio.sources.web_address import WebAddress, WebName

__all__ = ["AtURL", "WebHeaderSource", "header_bytes", "json_value", "mosaic_bulk_data",
           "stored_syntax", "with_bulk_data"]

# The file meta information's group, and the attributes that say the stored transfer syntax:
# TransferSyntaxUID (0002,0010), then AvailableTransferSyntaxUID (0008,3002).
_META_GROUP = "0002"
_SYNTAX_TAGS = ("00020010", "00083002")

# The private creator of the Siemens CSA headers, and their elements in its block: Image
# (xx10) and Series (xx20) headers.
_CSA_CREATOR, _CSA_ELEMENTS = "SIEMENS CSA HEADER", ("10", "20")

# The elements of pixel data (Float, Double Float, Pixel Data), never written here.
_PIXEL_TAGS = frozenset({"7FE00008", "7FE00009", "7FE00010"})


class AtURL(HeldBytes):
    """What a DICOMweb instance held in memory (retrieved, or its header) is: bytes named by
    the instance's ``url``."""

    url: str

    @property
    def name(self) -> Path:
        return WebName(self.url)


@dataclass(frozen=True)
class WebHeaderSource(AtURL, MetadataSource):
    """The header of one instance of a DICOMweb service, built from its WADO-RS metadata:
    named by the instance's URL (without credentials), its pixel data not retrieved.

    Attributes
    ----------
    url
        The instance's URL, the name the retrieved instance has too.
    data
        A Part-10 file of the metadata's attributes, without pixel data.
    stored_syntax
        The transfer syntax UID the instance is stored in, when the metadata says; else "".
    listed
        The SOPInstanceUIDs of the whole series when its metadata was read (one tuple shared
        by its instances): retrieving the instances later checks that the series is still
        these (:func:`dicomio.sources.dicomweb.retrieve_headers`).
    service
        The service root, with the credentials written in the URL it was read from (never
        shown): what retrieves the instance later.
    """

    url: str
    data: bytes = field(repr=False)
    stored_syntax: str = ""
    listed: tuple[str, ...] = field(default=(), repr=False)
    service: WebAddress = field(default=WebAddress(""), repr=False)
    on_disk: bool = False

    @property
    def kind(self) -> str:
        return "the metadata of an instance of a DICOMweb service (pixel data not retrieved)"


def json_value(item: dict[str, Any], tag: str) -> Any:
    """The first value of the attribute ``tag`` (``"0020000E"``) in ``item`` (the DICOM JSON
    model), or None."""
    values = item.get(tag, {}).get("Value") or [None]
    return values[0]


def _first(item: dict[str, Any], tag: str) -> str:
    return str(json_value(item, tag) or "")


def stored_syntax(item: dict[str, Any]) -> str:
    """The transfer syntax UID the instance of metadata ``item`` is stored in, when it says
    ((0002,0010), else (0008,3002)); "" when it does not."""
    return next((uid for uid in (_first(item, tag) for tag in _SYNTAX_TAGS) if uid), "")


def mosaic_bulk_data(item: dict[str, Any]) -> dict[str, str]:
    """The BulkDataURIs of the Siemens CSA headers in the metadata ``item`` of a mosaic
    (ImageType MOSAIC), by tag; empty for any other instance."""
    image_type = item.get("00080008", {}).get("Value") or []
    if "MOSAIC" not in (str(value).strip().upper() for value in image_type):
        return {}
    return {tag: str(element["BulkDataURI"]) for tag, element in item.items()
            if tag.startswith("0029") and tag[6:] in _CSA_ELEMENTS
            and "BulkDataURI" in element
            and _first(item, f"002900{tag[4:6]}").strip().upper() == _CSA_CREATOR}


def with_bulk_data(items: list[dict[str, Any]], fetch: Callable[[str], bytes], workers: int
                   ) -> list[dict[str, Any]]:
    """``items`` (metadata) with the bulk data of :func:`mosaic_bulk_data` fetched
    (``fetch(uri)``, ``workers`` at once) and written inline; the rest unchanged."""
    wanted = [(k, tag, uri) for k, item in enumerate(items)
              for tag, uri in mosaic_bulk_data(item).items()]
    if not wanted:
        return items
    with ThreadPoolExecutor(min(workers, len(wanted)), thread_name_prefix="bulkdata") as pool:
        fetched = list(pool.map(fetch, [uri for _, _, uri in wanted]))
    done = [dict(item) for item in items]
    for (k, tag, _), data in zip(wanted, fetched, strict=True):
        done[k][tag] = {"vr": items[k][tag].get("vr", "OB"),
                        "InlineBinary": base64.b64encode(data).decode("ascii")}
    return done


def _never_fetched(tag: Any, vr: str, uri: str) -> None:
    """The bulk-data handler of :meth:`pydicom.Dataset.from_json`: nothing is fetched (the
    element is left empty)."""
    return None


def header_bytes(item: dict[str, Any]) -> bytes:
    """The attributes of one instance's metadata ``item`` (DICOM JSON model) as the bytes of
    a Part-10 file (explicit VR little endian) without pixel data, for the header walk.

    Raises
    ------
    Exception
        What pydicom raises for JSON it cannot read or a data set it cannot write.
    """
    from pydicom import Dataset, dcmwrite
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import UID

    kept = {tag: value for tag, value in item.items()
            if tag not in _PIXEL_TAGS and not tag.startswith(_META_GROUP)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = Dataset.from_json(kept, bulk_data_uri_handler=_never_fetched)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.get("SOPClassUID", "")
    meta.MediaStorageSOPInstanceUID = dataset.get("SOPInstanceUID", "")
    meta.TransferSyntaxUID = UID(EXPLICIT_VR_LITTLE_ENDIAN)
    dataset.file_meta, dataset.preamble = meta, bytes(128)
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # values as the server wrote them, unchecked
        warnings.simplefilter("ignore")
        dcmwrite(buffer, dataset, enforce_file_format=False)
    return buffer.getvalue()
