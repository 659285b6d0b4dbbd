"""What the Prometheus metrics cost a cached hot read, in CPU, without wrk or a network: one process
serves the same response-cache hit through the kit's WSGI application (project/wsgi.py: the hit is
answered by the WSGI front, project/caching/wsgi_front.py) with the metrics on and off, in
alternating blocks (so both see the same machine; each order half the time), in prometheus-client's
multiprocess mode as under gunicorn. The reference is minimal Django (benchmarks/minimal_settings.py's
view through Django's own WSGI handler, no middleware), measured in the same blocks. Stage 1 settings
in a temp VAR_DIR (SQLite, the embedded Redis). scripts/bench-cache measures the same under gunicorn and wrk.

    PYTHONPATH=scripts .venv/bin/python -m benchmarks.metrics_cost
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BLOCKS = 20
REQUESTS_PER_BLOCK = 500
PATH = "/api/v1/categories/"


def environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }


def call(application: Callable[..., Any], path: str) -> tuple[str, dict[str, str]]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer.update(status=status, headers=dict(headers))

    body = application(environ(path), start_response)
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return answer["status"], answer["headers"]


def main() -> int:
    var_dir = Path(tempfile.mkdtemp(prefix="headroom-metrics-cost-"))
    (var_dir / "metrics").mkdir()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "VAR_DIR": str(var_dir),
            "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "metrics"),
            "DEBUG": "false",
            "SERVER_TIMING": "false",
            "N_PLUS_ONE_GUARD": "false",
            "ALLOWED_HOSTS": "testserver",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from django.conf import settings
    from django.core.management import call_command

    from project.caching.wsgi_front import ResponseCacheFront
    from project.ops import request_recorder
    from project.wsgi import application, django_application

    call_command("migrate", verbosity=0)
    front_on = application
    settings.METRICS_ENABLED = False
    front_off = ResponseCacheFront(django_application)
    settings.METRICS_ENABLED = True
    assert request_recorder.hit_recorder() is not None

    apps = {"on": front_on, "off": front_off}
    for app in apps.values():
        for _ in range(50):
            status, headers = call(app, PATH)
        assert status.startswith("200") and headers.get("X-Response-Cache") == "hit", "the read must be a hit"

    cpu_us: dict[str, list[float]] = {name: [] for name in apps}
    for block in range(BLOCKS):
        # Each order half the time: whichever runs second in a pair finds the caches of the first.
        for name in ("on", "off") if block % 2 == 0 else ("off", "on"):
            app = apps[name]
            start = time.process_time()
            for _ in range(REQUESTS_PER_BLOCK):
                call(app, PATH)
            cpu_us[name].append((time.process_time() - start) / REQUESTS_PER_BLOCK * 1e6)
    on, off = statistics.median(cpu_us["on"]), statistics.median(cpu_us["off"])
    print(f"GET {PATH} (a response-cache hit at the WSGI front), {BLOCKS} alternating blocks of {REQUESTS_PER_BLOCK}")
    print(f"CPU per request: {on:.0f} µs with the metrics, {off:.0f} µs without: {on / off - 1:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
