"""A real Orthanc server with its DICOMweb plugin, for the DICOMweb tests.

:func:`start_orthanc` runs the ``Orthanc`` binary (Debian packages ``orthanc`` and
``orthanc-dicomweb``: ``.ci/run`` installs them) on a free loopback port, with a temporary
storage folder and a generated configuration: HTTP authentication on (user :data:`USER`,
password :data:`PASSWORD`), the DICOM network server off, the DICOMweb plugin at
``/dicom-web``. Tests skip, saying why, where the binary or the plugin is not installed. Files
are uploaded through Orthanc's REST API (``POST /instances``), and instances deleted through it
(``DELETE /instances/<id>``) to change a series under a reader's feet.

Orthanc's own Lua filter (``IncomingHttpRequestFilter``, configuration ``LuaScripts``) logs
every request it is asked (:meth:`Orthanc.requests`, :meth:`Orthanc.retrievals`: what reached
the server, seen by the server), and refuses (HTTP 403) each retrieval of DICOM data — an
instance, a series or a study retrieved, frames, rendered images; not metadata, not a
header's bulk data — while :meth:`Orthanc.refusing_retrieval` is on.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

USER, PASSWORD = "dicomio", "s3cret-test-password"

#: Where the Debian package orthanc-dicomweb puts the plugin.
PLUGINS = (Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so"),
           Path("/usr/lib/orthanc/libOrthancDicomWeb.so"))

#: How long Orthanc may take to start answering.
START_SECONDS = 30.0

#: What a retrieval of DICOM data is (a WADO-RS path, its query left out): a study, a series or
#: an instance retrieved, frames, rendered images; not a search, metadata or bulk data.
RETRIEVAL = re.compile(r"^/dicom-web/studies/[^/]+(/series/[^/]+(/instances/[^/]+)?)?"
                       r"(/frames/.*|/rendered)?$")

# The Lua filter: logs each request ("METHOD URI") to requests.log, and refuses retrievals
# (RETRIEVAL, in Lua patterns) while a file "refuse" is in the server's folder.
_FILTER = """
local folder = "{folder}"
local function retrieval(uri)
  if string.find(uri, "^/dicom%-web/studies/") == nil then return false end
  if string.find(uri, "/metadata$") or string.find(uri, "/bulk/") then return false end
  if string.find(uri, "/frames/") or string.find(uri, "/rendered$") then return true end
  return string.find(uri, "/instances/[^/]+$") ~= nil
      or string.find(uri, "/series/[^/]+$") ~= nil
      or string.find(uri, "^/dicom%-web/studies/[^/]+$") ~= nil
end
function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  local log = io.open(folder .. "/requests.log", "a")
  log:write(method .. " " .. uri .. "\\n")
  log:close()
  if retrieval(uri) then
    local flag = io.open(folder .. "/refuse", "r")
    if flag ~= nil then
      flag:close()
      return false
    end
  end
  return true
end
"""


def free_port() -> int:
    """A loopback TCP port nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _plugin() -> Path | None:
    return next((path for path in PLUGINS if path.is_file()), None)


@dataclass
class Orthanc:
    """A running Orthanc: its process, folder and address."""

    process: subprocess.Popen[bytes]
    folder: Path
    port: int

    @property
    def url(self) -> str:
        """The REST API's root."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb(self) -> str:
        """The DICOMweb service root."""
        return f"{self.url}/dicom-web"

    def request(self, method: str, path: str, data: bytes | None = None) -> Any:
        """Call the REST API as the test user; the decoded JSON answer."""
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        if data is not None:
            request.add_header("Content-Type", "application/dicom")
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def upload(self, path: Path) -> dict[str, Any]:
        """Store the file ``path`` (``POST /instances``); Orthanc's answer (its ``ID``...)."""
        answer = self.request("POST", "/instances", path.read_bytes())
        assert answer["Status"] in ("Success", "AlreadyStored"), answer
        return dict(answer)

    def instance_id(self, sop_instance_uid: str) -> str:
        """Orthanc's identifier of the instance ``sop_instance_uid``."""
        found = self.request("POST", "/tools/lookup", sop_instance_uid.encode())
        return next(item["ID"] for item in found if item["Type"] == "Instance")

    def delete(self, sop_instance_uid: str) -> None:
        """Delete an instance (``DELETE /instances/<id>``)."""
        self.request("DELETE", f"/instances/{self.instance_id(sop_instance_uid)}")

    def stop(self) -> None:
        """Stop the server (killed if it does not stop within 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        """What Orthanc printed."""
        return (self.folder / "orthanc.log").read_text(errors="replace")

    def requests(self) -> list[str]:
        """Every request the server was asked since :meth:`forget_requests`, as
        ``"METHOD /uri"`` (its Lua filter's log)."""
        path = self.folder / "requests.log"
        return path.read_text().splitlines() if path.exists() else []

    def retrievals(self) -> list[str]:
        """The URIs of the retrievals of DICOM data (:data:`RETRIEVAL`) among
        :meth:`requests`, refused or not."""
        return [uri for method, _, uri in (line.partition(" ") for line in self.requests())
                if method == "GET" and RETRIEVAL.match(uri)]

    def forget_requests(self) -> None:
        """Start the request log afresh."""
        (self.folder / "requests.log").unlink(missing_ok=True)

    @contextlib.contextmanager
    def refusing_retrieval(self) -> Iterator[None]:
        """Within: every retrieval of DICOM data is refused (HTTP 403)."""
        flag = self.folder / "refuse"
        flag.touch()
        try:
            yield
        finally:
            flag.unlink()


def _configuration(folder: Path, port: int, plugin: Path) -> dict[str, Any]:
    return {
        "Name": "dicomio-tests",
        "StorageDirectory": str(folder / "db"),
        "IndexDirectory": str(folder / "db"),
        "HttpPort": port,
        "DicomServerEnabled": False,
        "DicomPort": free_port(),
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "HttpServerEnabled": True,
        "HttpThreadsCount": 8,
        "StorageCompression": False,
        "Plugins": [str(plugin)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False,
                     "StudiesMetadata": "Full", "SeriesMetadata": "Full"},
        "LuaScripts": [str(folder / "filter.lua")],
    }


def start_orthanc(folder: Path) -> Orthanc:
    """Start Orthanc with its storage in ``folder``; skips the test when it is not installed.

    Raises
    ------
    RuntimeError
        Orthanc did not answer within :data:`START_SECONDS` (its log in the message).
    """
    binary = shutil.which("Orthanc") or next(
        (p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if Path(p).is_file()), None)
    plugin = _plugin()
    if binary is None or plugin is None:
        pytest.skip("Orthanc or its DICOMweb plugin is not installed (Debian packages orthanc "
                    "and orthanc-dicomweb: apt-get install orthanc orthanc-dicomweb)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "orthanc.json"
    config.write_text(json.dumps(_configuration(folder, port, plugin), indent=2))
    (folder / "filter.lua").write_text(_FILTER.replace("{folder}", str(folder)))
    with open(folder / "orthanc.log", "wb") as log:
        process = subprocess.Popen([binary, str(config)], cwd=folder, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Orthanc(process, folder, port)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc stopped at start:\n{server.log()[-3000:]}")
        try:
            plugins = server.request("GET", "/plugins")
            if "dicom-web" in plugins:
                return server
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"Orthanc did not answer in {START_SECONDS} s:\n{server.log()[-3000:]}")
