"""The Dask cluster of ``--scheduler``: its address checked at the boundary, reached within a
time limit.

An address comes from outside, and what answers at it may be anything: a web server, a port
that accepts and says nothing, a scheduler behind TLS. Before Dask's client is given an address,
:func:`parse_address` checks its form (``tcp://host:port``, ``host:port``; other schemes are
refused by name) and :func:`probe` connects with a timeout of :data:`CONNECT_TIMEOUT` seconds
and reads the first message, which a Dask scheduler sends at once: a listener that stays silent,
closes, or sends bytes that cannot be a Dask message (Dask would try to allocate what their
first eight bytes declare) is refused with a :class:`~dicomio.errors.SchedulerError` saying so.
The client itself is then made within a deadline too, and any failure of it is a
``SchedulerError``. The command line exits 2 on it (a usage error).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

from dicomio.archive.budget import Budget
from dicomio.errors import SchedulerError
from dicomio.extras import pip_install
from dicomio.parallel import usable_cores

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["CONNECT_TIMEOUT", "DEFAULT_PORT", "SCHEMES", "dask_client", "parse_address",
           "probe"]

#: The schemes dicomio connects over: plain TCP (``tls://`` needs certificates it does not
#: configure, ``ucx://`` and ``inproc://`` are not for a scheduler elsewhere).
SCHEMES = ("tcp",)
CONNECT_TIMEOUT = 10.0
"""Seconds to connect to a scheduler and hear its first message (and, again, for Dask's client
to register)."""
#: The port of an address without one: Dask's.
DEFAULT_PORT = 8786
# A scheduler's first message (its handshake) is about 60 bytes; garbage declares anything.
_FIRST_MESSAGE_MAX = 1 << 16


def parse_address(address: str) -> tuple[str, int]:
    """The host and port of a scheduler address.

    Raises
    ------
    SchedulerError
        A scheme other than :data:`SCHEMES`, no host, or a port that is not 1 to 65535.
    """
    scheme, separator, rest = address.partition("://")
    if not separator:
        scheme, rest = "tcp", address
    if scheme.lower() not in SCHEMES:
        raise SchedulerError(
            f"the scheduler address {address!r} uses {scheme}://; dicomio connects to Dask "
            f"schedulers over tcp:// only: give tcp://host:port (a TLS cluster can be reached "
            f"through an SSH tunnel), or 'local' to start a cluster here")
    if rest.startswith("["):  # [IPv6]:port
        host, _, port_text = rest[1:].partition("]")
        port_text = port_text.removeprefix(":")
    else:
        host, _, port_text = rest.rpartition(":") if ":" in rest else (rest, "", "")
    host = host.strip().rstrip("/")
    port_text = port_text.strip().rstrip("/")
    if not host:
        raise SchedulerError(f"the scheduler address {address!r} names no host: give "
                             f"tcp://host:port")
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SchedulerError(f"the scheduler address {address!r}: the port must be a number "
                             f"from 1 to 65535")
    return host, int(port_text)


def _receive(sock: socket.socket, size: int, deadline: float, address: str) -> bytes:
    """Exactly ``size`` bytes from ``sock`` before ``deadline``."""
    data = b""
    while len(data) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise SchedulerError(f"{address} closed the connection without a word: it is not "
                                 f"a Dask scheduler")
        data += chunk
    return data


def probe(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Connect to the scheduler at ``address`` and read its first message, within
    ``timeout`` seconds.

    Raises
    ------
    SchedulerError
        The address is malformed, nothing listens there, nothing answers in time, or what
        answers is not a Dask scheduler.
    """
    host, port = parse_address(address)
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            (size,) = struct.unpack("<Q", _receive(sock, 8, deadline, address))
            if not 16 <= size <= _FIRST_MESSAGE_MAX:
                raise SchedulerError(
                    f"{address} does not speak Dask's protocol (its first message declares "
                    f"{size} bytes): it is not a Dask scheduler")
            (frames,) = struct.unpack("<Q", _receive(sock, 8, deadline, address))
            if not 1 <= frames <= (size - 8) // 8:
                raise SchedulerError(f"{address} does not speak Dask's protocol: it is not a "
                                     f"Dask scheduler")
    except TimeoutError:
        raise SchedulerError(f"{address} did not answer within {timeout:g} s: it is not a Dask "
                             f"scheduler, or it is too busy or too far") from None
    except OSError as exc:
        raise SchedulerError(f"cannot connect to the Dask scheduler at {address}: "
                             f"{exc.strerror or exc}") from None


def _connect(address: str, timeout: float) -> Client:
    """Dask's client of ``address``, made within ``timeout`` (Dask's own wait for a handshake
    has no end): in a thread of its own, given up on when late."""
    from distributed import Client

    made: dict[str, object] = {}

    def connect() -> None:
        try:
            made["client"] = Client(address, timeout=f"{timeout}s")
        except BaseException as exc:  # whatever Dask raises on a bad peer is reported below
            made["error"] = exc

    thread = threading.Thread(target=connect, name="dicomio-dask-connect", daemon=True)
    thread.start()
    thread.join(2 * timeout)
    if thread.is_alive():
        raise SchedulerError(f"{address} did not complete Dask's handshake within "
                             f"{2 * timeout:g} s")
    error = made.get("error")
    if isinstance(error, BaseException):
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise error
        raise SchedulerError(f"cannot connect to the Dask scheduler at {address}: "
                             f"{type(error).__name__}: {error}") from None
    return cast("Client", made["client"])


@contextmanager
def dask_client(scheduler: str, workers: int | None, budget: Budget
                ) -> Iterator[tuple[Client, str]]:
    """A client of the cluster ``scheduler`` names (``"local"``: one started here, of
    ``workers`` processes with ``budget``'s memory ceiling each), and its address.

    Raises
    ------
    SchedulerError
        Dask is not installed, or the address is refused (see :func:`probe`).
    """
    if scheduler != "local":
        # The address is checked first: what answers there is the user's mistake with or
        # without Dask installed.
        probe(scheduler, CONNECT_TIMEOUT)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerError(f"--scheduler needs Dask: {pip_install('dask')}") from None
    if scheduler == "local":
        memory = budget.memory_mib << 20 if budget.memory_mib else 0
        # Any free port for the dashboard: two runs side by side must not collide on 8787.
        with LocalCluster(n_workers=workers or usable_cores(), threads_per_worker=1,
                          processes=True, dashboard_address=":0",
                          memory_limit=memory) as cluster, Client(cluster) as client:
            yield client, str(cluster.scheduler_address)
        return
    address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
    with _connect(address, CONNECT_TIMEOUT) as client:
        yield client, scheduler
