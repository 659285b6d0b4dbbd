"""Zero downtime, proved under load: two gunicorns behind nginx (scripts/cluster, whose nginx
configuration is config/nginx/headroom.conf) keep answering every client request while one of
them is killed outright, and while scripts/deploy replaces both with new code.

Each test runs its own cluster on loopback at stage 1 (a SQLite file, a private redis-server),
with a bounded load: 10 clients for about 15 s. `./scripts/test -m scaleout` runs them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.load import Call, SteadyLoad
from tests.servers import free_port, private_redis

BASE_DIR = Path(settings.BASE_DIR)
NGINX = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")

pytestmark = [
    pytest.mark.scaleout,
    # One cluster at a time, in one pytest-xdist worker: each already loads every core.
    pytest.mark.xdist_group("scaleout"),
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed: ./scripts/cluster or ./scripts/nginx-check installs it"
    ),
]

# Reads that reach the app servers: the nginx cache is bypassed for a request with a session
# cookie (an unknown session is simply anonymous), so a cached answer never hides a failure.
READS = [
    Call("GET", "/healthz", 200),
    Call("GET", "/api/v1/products/?page_size=5", 200, {"Cookie": "sessionid=anonymous"}),
    Call("GET", "/api/v1/categories/", 200, {"Cookie": "sessionid=anonymous"}),
    Call("GET", "/api/v1/products/?ordering=name", 200, {"Cookie": "sessionid=anonymous"}),
]
# Not /readyz: on a loaded machine its 2 s deadline can pass and it answers 503, rightly.
# A write: never retried by nginx, so it fails if it is ever sent to a server on its way out.
ANONYMOUS_ORDER = Call("POST", "/api/v1/orders/", 401)


@dataclass(frozen=True)
class RunningCluster:
    port: int
    directory: Path
    env: dict[str, str]

    def state(self) -> dict[str, Any]:
        return json.loads((self.directory / "cluster.json").read_text())

    def script(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BASE_DIR / "scripts" / args[0]), *args[1:]],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def nginx_log(self) -> str:
        return (self.directory / "nginx" / "logs" / "access.log").read_text()


@contextmanager
def running_cluster(tmp_path: Path, *, instances: int = 2) -> Iterator[RunningCluster]:
    with private_redis() as redis:
        # As production runs it (not the test settings), on a database and Redis of its own.
        env = {name: value for name, value in os.environ.items() if not name.startswith(("DATABASE_", "BROKER_"))}
        env |= {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": redis.url,
            "CLUSTER_DIR": str(tmp_path / "cluster"),
            "WEB_CONCURRENCY": "2",
        }
        cluster = RunningCluster(port=free_port(), directory=tmp_path / "cluster", env=env)
        try:
            started = cluster.script("cluster", "start", "--instances", str(instances), "--port", str(cluster.port))
            assert started.returncode == 0, started.stdout + started.stderr
            yield cluster
        finally:
            stopped = cluster.script("cluster", "stop")
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def copy_of_checkout(destination: Path, *, replace_in_urls: tuple[str, str]) -> Path:
    """This checkout as the next release: the same code, with one change to project/urls.py."""
    shutil.copytree(
        BASE_DIR,
        destination,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", ".pytest_cache"),
    )
    (destination / ".venv").symlink_to(BASE_DIR / ".venv")
    urls = destination / "project" / "urls.py"
    old, new = replace_in_urls
    assert old in urls.read_text(), "project/urls.py changed: update this test's new release"
    urls.write_text(urls.read_text().replace(old, new))
    return destination


def copy_of_checkout_with_new_release(destination: Path) -> Path:
    """/healthz also names the release."""
    return copy_of_checkout(
        destination,
        replace_in_urls=(
            'return JsonResponse({"status": "ok"})',
            'return JsonResponse({"status": "ok", "release": "next"})',
        ),
    )


def describe(failures: list) -> str:
    return "\n".join(f"{failure.call.method} {failure.call.path}: {failure.what}" for failure in failures[:20])


def test_killing_an_app_server_mid_load_fails_no_client_request(tmp_path):
    with running_cluster(tmp_path) as cluster:
        victim = cluster.state()["instances"][0]
        with SteadyLoad(port=cluster.port, calls=READS, clients=10) as load:
            time.sleep(5)
            killed_at = time.monotonic()
            os.killpg(victim["pid"], signal.SIGKILL)  # the master and its workers: a crashed server
            time.sleep(8)
            tally = load.stop()

        assert tally.failures == [], describe(tally.failures)
        assert tally.answered_after(killed_at + 1) > 100, "the load was not served after the kill"
        assert f"upstream=127.0.0.1:{victim['port']}" in cluster.nginx_log(), "the killed server never had traffic"


def test_deploying_new_code_under_load_fails_no_client_request(tmp_path):
    new_release = copy_of_checkout_with_new_release(tmp_path / "next")
    with running_cluster(tmp_path) as cluster:
        old_ports = {instance["port"] for instance in cluster.state()["instances"]}
        with SteadyLoad(port=cluster.port, calls=[*READS, ANONYMOUS_ORDER], clients=10) as load:
            time.sleep(2)
            deployed = cluster.script("deploy", str(new_release))
            time.sleep(2)
            tally = load.stop()

        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert tally.failures == [], describe(tally.failures)
        assert len(tally.answered) > 200, "too little load to prove anything"
        instances = cluster.state()["instances"]
        assert {instance["code"] for instance in instances} == {str(new_release)}
        assert not old_ports & {instance["port"] for instance in instances}
        status = cluster.script("cluster", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        for _ in range(4):  # both instances, whichever nginx picks
            with urllib.request.urlopen(f"http://127.0.0.1:{cluster.port}/healthz", timeout=10) as answer:
                assert json.loads(answer.read()) == {"status": "ok", "release": "next"}


def test_a_release_that_never_gets_ready_is_not_deployed(tmp_path):
    # Imports and boots, but its /readyz fails on every request.
    broken = copy_of_checkout(
        tmp_path / "broken",
        replace_in_urls=(
            'path("readyz", readyz, name="readyz")',
            'path("readyz", lambda request: 1 / 0, name="readyz")',
        ),
    )
    with running_cluster(tmp_path) as cluster:
        before = cluster.state()["instances"]
        cluster.env["CLUSTER_READY_TIMEOUT"] = "5"
        deployed = cluster.script("deploy", "--skip-prepare", str(broken))

        assert deployed.returncode == 1
        assert "did not answer /readyz 200" in deployed.stderr
        assert cluster.state()["instances"] == before
        assert cluster.script("cluster", "status").returncode == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{cluster.port}/healthz", timeout=10) as answer:
            assert json.loads(answer.read()) == {"status": "ok"}
