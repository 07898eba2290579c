"""``--scheduler``: an address is checked before Dask is given it. What answers there may be a
web server, a port that accepts and stays silent, or a scheme dicomio does not speak: each is a
SchedulerError saying what it is, within the connect timeout, and the command exits 2 (a usage
error) without a traceback. A real scheduler is used as before.

The listeners are real sockets served by threads of this process; the scheduler is a real
``dask.distributed.LocalCluster``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dicomio.archive.scheduler as scheduler
from dicomio.archive.executors import open_executor
from dicomio.archive.scheduler import DEFAULT_PORT, parse_address
from dicomio.cli import app
from dicomio.errors import SchedulerError
from dicomio.testing.synthetic import SeriesSpec

runner = CliRunner()
# What a web server answers to anything: its first eight bytes, read as Dask's message length,
# declare 3.5 EiB (0x312e312f50545448).
HTTP_ANSWER = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


CLOSE = b"close"


@contextmanager
def listener(answer: bytes | None) -> Iterator[str]:
    """A TCP listener on loopback that sends ``answer`` to each connection (None: sends
    nothing and keeps the connection open; CLOSE: closes it at once); yields its address."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    connections: list[socket.socket] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            if answer is CLOSE:
                connection.close()
                continue
            connections.append(connection)
            if answer is not None:
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        done.set()
        thread.join(5)
        server.close()
        for connection in connections:
            connection.close()


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(scheduler, "CONNECT_TIMEOUT", 1.0)
    return 1.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dicomio.testing.synthetic import write_series

    return write_series(tmp_path_factory.mktemp("series"), SeriesSpec(shape=(3, 8, 8))).folder


def refused(address: str) -> tuple[str, float]:
    start = time.monotonic()
    with pytest.raises(SchedulerError) as caught, open_executor(scheduler=address):
        pass
    return str(caught.value), time.monotonic() - start


def cli_refuses(folder: Path, address: str, words: str) -> None:
    result = runner.invoke(app, ["validate", str(folder), "--scheduler", address])
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output


# --- addresses ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "expected"), [
    ("tcp://node7:8786", ("node7", 8786)),
    ("node7:9000", ("node7", 9000)),
    ("tcp://node7", ("node7", DEFAULT_PORT)),
    ("tcp://[::1]:8786", ("::1", 8786)),
])
def test_addresses_dask_takes_are_read(address: str, expected: tuple[str, int]) -> None:
    assert parse_address(address) == expected


@pytest.mark.parametrize(("address", "words"), [
    ("tls://127.0.0.1:8786", "uses tls://"),
    ("ucx://127.0.0.1:8786", "uses ucx://"),
    ("inproc://127.0.0.1/1/1", "uses inproc://"),
    ("tcp://:8786", "names no host"),
    ("tcp://node7:99999", "from 1 to 65535"),
    ("tcp://node7:http", "from 1 to 65535"),
])
def test_malformed_addresses_and_other_schemes_are_refused(folder: Path, address: str,
                                                           words: str) -> None:
    message, seconds = refused(address)
    assert words in message and seconds < 1
    cli_refuses(folder, address, words)


# --- what answers -------------------------------------------------------------------------------

def test_a_web_server_is_not_a_dask_scheduler(folder: Path) -> None:
    with listener(HTTP_ANSWER) as address:
        message, seconds = refused(address)
        assert "does not speak Dask's protocol" in message and address in message
        assert seconds < 5
        cli_refuses(folder, address, "not a Dask scheduler")


def test_a_listener_that_closes_at_once_is_not_a_dask_scheduler() -> None:
    with listener(CLOSE) as address:
        message, seconds = refused(address)
    assert "closed the connection without a word" in message and seconds < 5


def test_a_silent_listener_is_given_up_after_the_timeout(folder: Path, short_timeout: float
                                                         ) -> None:
    with listener(None) as address:
        message, seconds = refused(address)
        assert f"did not answer within {short_timeout:g} s" in message
        assert short_timeout <= seconds < short_timeout + 4
        cli_refuses(folder, address, "did not answer")


def test_nothing_listening_is_refused_at_once(folder: Path) -> None:
    with listener(None) as address:
        pass  # closed: nothing listens there any more
    message, seconds = refused(address)
    assert "cannot connect" in message and seconds < 5


# --- a real scheduler ---------------------------------------------------------------------------

def test_a_real_scheduler_passes_the_checks(folder: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        for given in (address, address.removeprefix("tcp://")):
            with open_executor(scheduler=given) as executor:
                assert executor.workers == 1
                assert list(executor.map(str.upper, ["a", "b"], lambda item, why: why)) \
                    in ([(0, "A"), (1, "B")], [(1, "B"), (0, "A")])
        result = runner.invoke(app, ["validate", str(folder), "--scheduler", address])
        assert result.exit_code == 0, result.output
