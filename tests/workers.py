"""A real job worker process for tests: `manage.py rundramatiq`, as production starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def database_url_for_subprocesses() -> str:
    """The URL of the database this test run uses (the test database, not the configured one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return postgres_url(db, name=db["NAME"])


def postgres_url(db: dict, *, name: str) -> str:
    """A DATABASES entry back as a URL, with its host list and target_session_attrs (failover)."""
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    hosts = (db["HOST"] or "localhost").split(",")
    ports = str(db["PORT"] or "").split(",")
    if len(ports) == 1:
        ports *= len(hosts)
    netloc = ",".join(f"{host}:{port or 5432}" for host, port in zip(hosts, ports, strict=True))
    options = {key: value for key, value in db.get("OPTIONS", {}).items() if key == "target_session_attrs"}
    return f"postgres://{auth}@{netloc}/{name}" + (f"?{urlencode(options)}" if options else "")


@contextmanager
def running_worker(
    *, threads: int = 2, env: dict[str, str] | None = None, queues: list[str] | None = None
) -> Iterator[subprocess.Popen]:
    """``env`` adds to or overrides the worker's environment (EMAIL_URL=..., DJANGO_SETTINGS_MODULE=...);
    ``queues``: only these queues (``--queues``), else all of them."""
    worker = subprocess.Popen(
        [
            sys.executable,
            *("manage.py", "rundramatiq", "--processes", "1", "--threads", str(threads)),
            *(("--queues", *queues) if queues else ()),
        ],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.test_settings",
            "DATABASE_URL": database_url_for_subprocesses(),
            **(env or {}),
        },
        start_new_session=True,  # so that stopping it also stops the dramatiq processes it forks
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and every process it forked: no shutdown hook runs, nothing is acked.
    Returns once none of them runs any more, so their sockets are closed."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    wait_until(lambda: not _live_processes_in_group(worker.pid), timeout=10, interval=0.02)


def _live_processes_in_group(pgid: int) -> list[int]:
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # state, ppid, pgrp: zombies hold no sockets
            live.append(int(stat.parent.name))
    return live


def wait_until(condition: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
