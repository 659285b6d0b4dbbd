"""config/gunicorn.conf.py as production runs it: JSON access logs, a control socket per instance."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import free_port, http_status
from tests.workers import wait_until

BASE_DIR = Path(settings.BASE_DIR)
VENV_BIN = Path(sys.executable).parent


@contextmanager
def gunicorn_with_the_shipped_config(
    var_dir: Path, *, access_log: Path | None = None, port: int | None = None
) -> Iterator[int]:
    """One gunicorn from config/gunicorn.conf.py (one worker); yields its port once it answers."""
    port = port or free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.test_settings",
        "VAR_DIR": str(var_dir),
        "REDIS_URL": settings.REDIS_URL,  # not an embedded Redis of var_dir's own
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESSLOG": str(access_log or "-"),
    }
    env.pop("GUNICORN_CONTROL_SOCKET", None)
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "project.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: http_status(port, "/healthz") == 200, timeout=30, interval=0.1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_the_metrics_directory_is_emptied_at_start_and_each_worker_counts_into_it(tmp_path):
    port = free_port()
    directory = tmp_path / "var" / "metrics" / f"web-127-0-0-1-{port}"
    directory.mkdir(parents=True)
    (directory / "counter_999999.db").write_bytes(b"a previous run's counts")

    with gunicorn_with_the_shipped_config(tmp_path / "var", port=port):
        http_status(port, "/healthz")
        files = sorted(path.name for path in directory.iterdir())

    assert "counter_999999.db" not in files
    assert any(name.startswith("counter_") for name in files), files
    assert any(name.startswith("histogram_") for name in files), files


def test_every_access_log_line_is_json_even_when_the_client_sends_quotes_and_backslashes(tmp_path):
    access_log = tmp_path / "access.log"
    nasty = 'say "hi" \\ back\\slash %s %(h)s'
    with gunicorn_with_the_shipped_config(tmp_path / "var", access_log=access_log) as port:
        http_status(port, '/healthz?q="quoted"\\back%22', headers={"User-Agent": nasty, "Referer": nasty})
        http_status(port, "/no-such-page", headers={"User-Agent": nasty})

    records = [json.loads(line) for line in access_log.read_text().splitlines()]
    assert {
        "uri": '/healthz?q="quoted"\\back%22',
        "status": 200,
        "user_agent": nasty,
        "referer": nasty,
    }.items() <= records[-2].items()
    assert {"uri": "/no-such-page", "status": 404, "user_agent": nasty}.items() <= records[-1].items()


def test_the_access_log_keeps_no_reset_link_verification_link_or_secret_query_parameter(tmp_path):
    access_log = tmp_path / "access.log"
    reset_link = "http://127.0.0.1/password-reset/MQ/cf1b2a-0123456789abcdef/"
    with gunicorn_with_the_shipped_config(tmp_path / "var", access_log=access_log) as port:
        http_status(port, "/password-reset/MQ/cf1b2a-0123456789abcdef/")
        http_status(port, "/verify-email/InVzZXIi:1tX:secret/")
        http_status(port, "/healthz?token=secret-token&page=2", headers={"Referer": reset_link})

    records = [json.loads(line) for line in access_log.read_text().splitlines()]
    assert [record["uri"] for record in records[-3:]] == [
        "/password-reset/MQ/[REDACTED]/",
        "/verify-email/[REDACTED]/",
        "/healthz?token=[REDACTED]&page=2",
    ]
    assert records[-1]["referer"] == "http://127.0.0.1/password-reset/MQ/[REDACTED]/"
    assert "cf1b2a" not in access_log.read_text() and "secret" not in access_log.read_text()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A unix socket's path has room for about 100 bytes; pytest's tmp_path under pytest-xdist
    (.../popen-gw0/test_two_instances_on_one_host0/) takes most of them."""
    with tempfile.TemporaryDirectory(prefix="hr-") as path:
        yield Path(path)


def test_two_instances_on_one_host_each_answer_on_a_control_socket_of_their_own(short_dir):
    var_dir = short_dir / "var"
    with gunicorn_with_the_shipped_config(var_dir) as first, gunicorn_with_the_shipped_config(var_dir) as second:
        for port in (first, second):
            socket_path = var_dir / "run" / f"gunicorn-127-0-0-1-{port}.ctl"
            result = subprocess.run(
                [str(VENV_BIN / "gunicornc"), "-s", str(socket_path), "-c", "show listeners", "-j"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert f"127.0.0.1:{port}" in result.stdout


def raw_reply(port: int, request: bytes) -> tuple[bytes, bytes]:
    """The status line and body gunicorn sends back to `request`, sent as is on a plain socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def test_a_request_line_over_the_limit_is_a_json_414_in_the_error_shape(tmp_path):
    with gunicorn_with_the_shipped_config(tmp_path / "var") as port:
        head, body = raw_reply(
            port, b"GET /api/v1/products/?q=" + b"x" * 6000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
        )

    assert head.startswith(b"HTTP/1.1 414 ")
    assert b"Content-Type: application/json" in head
    assert json.loads(body)["error"]["code"] == "uri_too_long"


def test_headers_over_the_limit_are_a_json_431_in_the_error_shape(tmp_path):
    headers = b"".join(b"X-Filler-%d: y\r\n" % number for number in range(120))
    with gunicorn_with_the_shipped_config(tmp_path / "var") as port:
        head, body = raw_reply(port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n")

    assert head.startswith(b"HTTP/1.1 431 ")
    assert set(json.loads(body)["error"]) == {"code", "message", "fields"}
