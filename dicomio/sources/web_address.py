"""A DICOMweb address: what a URL given in place of a folder names, read without the network.

A URL is recognised by its scheme (``http://``, ``https://``; also with the one slash a
:class:`~pathlib.Path` leaves of the two, so a URL that went through a ``Path`` on the command
line or in a Volume's provenance is still one). Its path names, after the service root:

- ``.../studies/<study>/series/<series>``: one series;
- ``.../studies/<study>``: every series of a study;
- ``.../studies/<study>/series/<series>/instances/<sop>``: one instance (a Volume's file);
- anything else is the service root: every series a QIDO-RS search finds, filtered by the
  URL's query string (``?PatientID=P1&Modality=CT``: QIDO-RS attributes of series or studies).

Credentials written in the URL (``https://user:secret@host/...``) are taken out of it: a
:class:`WebAddress` keeps them apart, and what it shows (:attr:`WebAddress.shown`) never has
them.

Names are paths throughout dicomio (a source's name, a header's, a skipped file's, a finding's
files), and a :class:`~pathlib.Path` collapses the ``//`` of a URL. :class:`WebName` is the one
home of the rule that shows them as URLs again: a path that prints (``str``, f-strings, JSON)
with its scheme's two slashes. :func:`as_path` makes one from whatever names a URL.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["WebAddress", "WebName", "as_path", "is_web_address", "narrowed", "parse_address"]

_Given = TypeVar("_Given")

# http:// or https:// (or http:/ once a Path has collapsed the double slash).
_SCHEME = re.compile(r"^(https?):/+", re.IGNORECASE)

# A UID: digits and dots (what ``series=`` must be to name a series on a server).
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")

# What a folder's name may not hold.
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def is_web_address(given: object) -> bool:
    """Whether ``given`` (a string or a path) is an ``http(s)`` URL."""
    return isinstance(given, (str, os.PathLike)) and bool(_SCHEME.match(os.fspath(given)))


# The concrete path class of this system: a Path subclass must derive from it before Python
# 3.12 (Path itself has no flavour there).
if TYPE_CHECKING:
    _ConcretePath = Path
else:
    _ConcretePath = type(Path())


class WebName(_ConcretePath):
    """A URL as a name: a :class:`~pathlib.Path` (so every name is one kind of thing, compared,
    sorted, hashed and pickled as paths are) that shows as the URL it is,
    ``http://host/dicom-web/...``, where a plain ``Path`` would show ``http:/host/...``.

    Paths derived from it (``parent``) are ``WebName`` too; ``Path(name)`` is a plain path
    again, so names are made by :func:`as_path`.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return _normal(super().__str__())

    def __fspath__(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


def as_path(given: str | os.PathLike[str]) -> Path:
    """``given`` as a path: a :class:`WebName` for a URL (:func:`is_web_address`), else a
    plain :class:`~pathlib.Path`."""
    return WebName(os.fspath(given)) if is_web_address(given) else Path(given)


@dataclass(frozen=True)
class WebAddress:
    """A DICOMweb URL taken apart.

    Attributes
    ----------
    root
        The service root (``https://host/dicom-web``), without credentials.
    study, series, instance
        The UIDs the path names (None where it stops before them).
    query
        The QIDO-RS search filters of the query string (at the service root).
    user, password
        Credentials written in the URL (never shown).
    """

    root: str
    study: str | None = None
    series: str | None = None
    instance: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        """The URL as errors and provenance show it: without credentials."""
        url = self.root
        for segment, uid in (("studies", self.study), ("series", self.series),
                             ("instances", self.instance)):
            if uid is None:
                break
            url += f"/{segment}/{quote(uid)}"
        return url + (f"?{urlencode(self.query)}" if self.query else "")

    @property
    def folder(self) -> Path:
        """Where what this URL names goes in a folder tree: ``<host>/<study>/<series>`` (as
        far as the URL names them; the host with its port, ``127.0.0.1_8042``), each part made
        safe for file systems. The cache folder keeps instances there, and ``convert`` into a
        folder writes a study's series into ``<host>/<study>``."""
        host = urlsplit(self.root).netloc
        parts = [host, *(uid for uid in (self.study, self.series) if uid is not None)]
        return Path(*(_UNSAFE.sub("_", part).strip("._") or "_" for part in parts))


def _normal(given: str | os.PathLike[str]) -> str:
    """``given`` with its scheme's two slashes (a Path leaves one)."""
    return _SCHEME.sub(lambda m: f"{m.group(1).lower()}://", os.fspath(given), count=1)


def parse_address(given: str | os.PathLike[str]) -> WebAddress:
    """``given`` (a URL, see :func:`is_web_address`) taken apart."""
    parts = urlsplit(_normal(given))
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    names: dict[str, str] = {}
    # The last "studies" segment followed by a UID starts what the path names; before it, the
    # service root (which may itself hold any prefix: /dicom-web, /wado, /v1/.../dicomWeb).
    start = next((i for i in range(len(segments) - 1, -1, -1) if segments[i] == "studies"),
                 len(segments))
    tail = segments[start:]
    for key, uid in zip(tail[::2], tail[1::2], strict=False):
        names[key] = uid
    root = f"{parts.scheme}://{netloc}/" + "/".join(segments[:start])
    return WebAddress(
        root=root.rstrip("/"), study=names.get("studies"), series=names.get("series"),
        instance=names.get("instances"), query=tuple(parse_qsl(parts.query)),
        user=parts.username, password=parts.password)


def narrowed(given: _Given, series: object) -> _Given | str:
    """``given`` narrowed to the series ``series`` when ``given`` is a DICOMweb service root or
    study and ``series`` a SeriesInstanceUID (so that only that series is fetched); else
    ``given`` unchanged."""
    if not is_web_address(given) or not isinstance(series, str) or not _UID.match(series):
        return given
    address = parse_address(given)  # type: ignore[arg-type]
    if address.series is not None:
        return given
    parts = urlsplit(_normal(given))  # type: ignore[arg-type]
    if address.study is not None:
        return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/series/{series}"))
    query = urlencode([*parse_qsl(parts.query), ("SeriesInstanceUID", series)])
    return urlunsplit(parts._replace(query=query))
