"""How dicomio talks to a DICOMweb service: credentials, time limits, retries, parallel
requests, the cache folder, the transfer syntax asked for.

Every setting comes from :func:`dicomweb_settings` (a context manager, for Python callers and
the command line's options), else from an environment variable, else from its default:

=========================  ==============================  =====================================
setting                    environment variable            default
=========================  ==============================  =====================================
``user``, ``password``     ``DICOMIO_DICOMWEB_USER``,      none (or those written in the URL)
                           ``DICOMIO_DICOMWEB_PASSWORD``
``token``                  ``DICOMIO_DICOMWEB_TOKEN``      none (a bearer token)
``cache``                  ``DICOMIO_DICOMWEB_CACHE``      none (nothing written to disk)
``timeout``                ``DICOMIO_DICOMWEB_TIMEOUT``    30 s to connect and between bytes
``retries``                ``DICOMIO_DICOMWEB_RETRIES``    2 more tries of a failed request
``workers``                ``DICOMIO_DICOMWEB_WORKERS``    4 instances retrieved at once
``transfer_syntax``        ``DICOMIO_DICOMWEB_TRANSFER``   ``*``: as stored, decoded locally
=========================  ==============================  =====================================

Credentials are never shown: not in a setting's ``repr``, an error message, nor provenance.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from dicomio.errors import InvalidArgumentError

__all__ = ["DicomWebSettings", "carried", "current_settings", "dicomweb_settings"]

#: The prefix of the environment variables.
ENVIRONMENT = "DICOMIO_DICOMWEB_"

# Setting name -> environment variable suffix, where they differ.
_VARIABLES = {"transfer_syntax": "TRANSFER"}


@dataclass(frozen=True)
class DicomWebSettings:
    """The settings of DICOMweb requests (see the module's table).

    Attributes
    ----------
    user, password
        HTTP basic authentication.
    token
        A bearer token (sent as ``Authorization: Bearer ...``); wins over ``user``.
    cache
        A folder keeping each retrieved instance (``<host>/<study>/<series>/<sop>.dcm``), read
        instead of the server the next time.
    timeout
        Seconds to connect, and to wait for the next bytes of an answer.
    retries
        How many more times a request is tried after a refused connection, a timeout or a
        429/502/503/504 answer (with a growing pause: 0.25 s, 0.5 s, ...).
    workers
        How many instances are retrieved at once.
    transfer_syntax
        ``"*"``: each instance as stored (decoded by dicomio); a UID asks the server to
        transcode to it.
    progress
        Called with (instances retrieved, instances in all) after each one (the command line's
        progress bar).
    """

    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    cache: Path | None = None
    timeout: float = 30.0
    retries: int = 2
    workers: int = 4
    transfer_syntax: str = "*"
    progress: Callable[[int, int], None] | None = field(default=None, repr=False,
                                                        compare=False)

    def secrets(self) -> tuple[str, ...]:
        """The credentials set, to scrub from any text shown."""
        return tuple(s for s in (self.password, self.token) if s)


_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

_GIVEN: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "dicomio_dicomweb_settings", default=None)


def _from_environment(name: str, kind: type) -> Any:
    variable = ENVIRONMENT + _VARIABLES.get(name, name.upper())
    text = os.environ.get(variable)
    if not text:
        return None
    try:
        return Path(text) if name == "cache" else kind(text)
    except ValueError:
        raise InvalidArgumentError(f"{variable}={text!r} is not a {kind.__name__}") from None


def current_settings() -> DicomWebSettings:
    """The settings in force: those given to :func:`dicomweb_settings`, else the environment's,
    else the defaults."""
    given = _GIVEN.get() or {}
    values: dict[str, Any] = {}
    kinds = {"timeout": float, "retries": int, "workers": int}
    for item in fields(DicomWebSettings):
        if given.get(item.name) is not None:  # None given: the environment's, or default
            values[item.name] = given[item.name]
        elif item.name != "progress":
            found = _from_environment(item.name, kinds.get(item.name, str))
            if found is not None:
                values[item.name] = found
    settings = DicomWebSettings(**values)
    if settings.timeout <= 0 or settings.retries < 0 or settings.workers < 1:
        raise InvalidArgumentError(
            f"DICOMweb settings out of range: timeout {settings.timeout} (> 0), retries "
            f"{settings.retries} (>= 0), workers {settings.workers} (>= 1)")
    return replace(settings, cache=None if settings.cache is None else Path(settings.cache))


@contextlib.contextmanager
def dicomweb_settings(**settings: Any) -> Iterator[DicomWebSettings]:
    """Use these DICOMweb settings (the :class:`DicomWebSettings` fields) inside the block.

    >>> with dicomweb_settings(user="me", password=secret, cache="dicom-cache"):  # doctest: +SKIP
    ...     vol = dicomio.load_volume("https://pacs/dicom-web/studies/1.2/series/1.2.3")
    """
    names = {item.name for item in fields(DicomWebSettings)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise InvalidArgumentError(f"unknown DICOMweb settings {unknown}; known: "
                                   f"{sorted(names)}")
    if settings.get("cache") is not None:
        settings["cache"] = Path(settings["cache"]).expanduser()
    token = _GIVEN.set({**(_GIVEN.get() or {}), **settings})
    try:
        yield current_settings()
    finally:
        _GIVEN.reset(token)


def _with_settings(given: dict[str, Any], function: Callable[[_Item], _Result],
                   item: _Item) -> _Result:
    with dicomweb_settings(**given):
        return function(item)


def carried(function: Callable[[_Item], _Result]) -> Callable[[_Item], _Result]:
    """``function`` run with the settings given to :func:`dicomweb_settings` here, wherever it
    runs: a worker process or a Dask worker does not share this process' context, so the
    settings travel with the work (credentials included, to the workers that use them; the
    ``progress`` callback stays here). ``function`` itself when none is given."""
    given = {name: value for name, value in (_GIVEN.get() or {}).items()
             if name != "progress" and value is not None}
    return functools.partial(_with_settings, given, function) if given else function
