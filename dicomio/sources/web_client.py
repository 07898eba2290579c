"""A dicomweb-client connection to one DICOMweb service, and its failures as dicomio errors.

:func:`connect` builds the :class:`dicomweb_client.DICOMwebClient` (imported here, when a URL
is first read: ``import dicomio`` never imports it) with the credentials, time limit and
bounded retries of the :class:`~dicomio.sources.web_settings.DicomWebSettings`;
:func:`translated` is the one place where what requests, urllib3 and dicomweb-client raise
becomes a :class:`~dicomio.errors.DicomWebError`, with the credentials scrubbed from the text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from dicomio.errors import (
    DicomWebAuthError,
    DicomWebConnectionError,
    DicomWebError,
    DicomWebNotFoundError,
    DicomWebUnavailableError,
    Remedy,
    SeriesChangedError,
)
from dicomio.extras import pip_install
from dicomio.sources.web_address import WebAddress
from dicomio.sources.web_settings import DicomWebSettings

__all__ = ["CREDENTIALS", "connect", "scrubbed", "translated"]

#: What gets past a refused request: credentials, given to :func:`dicomio.dicomweb_settings`
#: (the command line names its options instead).
CREDENTIALS = Remedy("dicomweb_settings", None, "send credentials", call=True)

# Answers worth asking again (busy, or a gateway in trouble).
_RETRIED_STATUS = (429, 502, 503, 504)


def connect(address: WebAddress, settings: DicomWebSettings) -> Any:
    """A ``DICOMwebClient`` for the service of ``address``.

    The session sends HTTP basic credentials (``settings.user``/``password``, else those of
    the URL) or a bearer token (``settings.token``); every request is given
    ``settings.timeout`` seconds to connect and between bytes, and is tried up to
    ``settings.retries`` more times after a refused connection, a timeout or a busy answer
    (urllib3's retries: dicomweb-client's own are switched off, so the bound is one number).

    Raises
    ------
    DicomWebUnavailableError
        dicomweb-client is not installed.
    """
    try:
        import requests
        from dicomweb_client import DICOMwebClient
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry
    except ImportError as exc:
        raise DicomWebUnavailableError(
            f"reading DICOMweb needs dicomweb-client ({exc}): {pip_install('dicomweb')}"
        ) from None
    session = requests.Session()
    retry = Retry(total=settings.retries, connect=settings.retries, read=settings.retries,
                  status=settings.retries, backoff_factor=0.25,
                  status_forcelist=_RETRIED_STATUS, allowed_methods=("GET",),
                  raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=max(10, settings.workers))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # no .netrc credentials nor proxies picked up unseen
    user = settings.user if settings.user is not None else address.user
    password = settings.password if settings.password is not None else address.password
    if settings.token:
        session.headers["Authorization"] = f"Bearer {settings.token}"
    elif user is not None:
        session.auth = (user, password or "")
    with translated(address, settings, "connecting"):
        client = DICOMwebClient(address.root, session=session,
                                timeout=(settings.timeout, settings.timeout))
    client.set_http_retry_params(retry=False)
    return client


def scrubbed(text: str, settings: DicomWebSettings) -> str:
    """``text`` with every credential of ``settings`` replaced by ``***``."""
    for secret in settings.secrets():
        text = text.replace(secret, "***")
    return text


def _status_error(status: int, url: str, during: str, retrieving: bool) -> DicomWebError:
    where = f"{url}: {during}"
    if status in (401, 403):
        said = "refused the credentials" if status == 401 else "gave no access"
        return DicomWebAuthError(
            f"{where}: the server {said} (HTTP {status}): set DICOMIO_DICOMWEB_USER and "
            f"DICOMIO_DICOMWEB_PASSWORD (or DICOMIO_DICOMWEB_TOKEN) in the environment.",
            remedies=[CREDENTIALS])
    if status in (404, 410) and retrieving:
        return SeriesChangedError(
            f"{where}: the instance listed by the series' metadata is gone (HTTP {status}): "
            f"the series changed on the server while it was read; nothing was returned")
    if status in (404, 410):
        return DicomWebNotFoundError(
            f"{where}: not found (HTTP {status}): no DICOMweb service, study or series there")
    return DicomWebError(f"{where}: the server answered HTTP {status}")


@contextlib.contextmanager
def translated(address: WebAddress, settings: DicomWebSettings, during: str,
               retrieving: bool = False) -> Iterator[None]:
    """Turn what a request to ``address`` raises into a :class:`DicomWebError` saying what
    was being done (``during``); a missing instance while ``retrieving`` is a
    :class:`SeriesChangedError`."""
    import requests

    url = address.shown
    try:
        yield
    except DicomWebError:
        raise
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        raise _status_error(status, url, during, retrieving) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        reason = scrubbed(str(exc), settings)
        raise DicomWebConnectionError(
            f"{url}: {during}: the server could not be reached, did not answer within "
            f"{settings.timeout:g} s, or closed the connection (after {settings.retries} "
            f"retries): {reason}") from None
    except requests.RequestException as exc:  # a broken or cut answer
        raise DicomWebConnectionError(
            f"{url}: {during}: the answer was cut or broken: "
            f"{type(exc).__name__}: {scrubbed(str(exc), settings)}") from None
    except ValueError as exc:  # not JSON, a malformed URL or UID, a body that is not DICOM
        raise DicomWebNotFoundError(
            f"{url}: {during}: not a DICOMweb answer: {type(exc).__name__}: "
            f"{scrubbed(str(exc), settings)}") from None
