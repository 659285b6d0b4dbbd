"""What the Prometheus metrics cost a cached hot read, in CPU, without wrk or a network: one process
serves the same response-cache hit through Django's full middleware stack with the metrics on and
off, in alternating blocks (so both see the same machine; each order half the time), in prometheus-client's multiprocess
mode as under gunicorn. Stage 1 settings in a temp VAR_DIR (SQLite, the embedded Redis).

    PYTHONPATH=scripts .venv/bin/python -m benchmarks.metrics_cost
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BLOCKS = 20
REQUESTS_PER_BLOCK = 500
PATH = "/api/v1/categories/"


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
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    with_metrics = list(settings.MIDDLEWARE)
    without_metrics = [
        path for path in with_metrics if path != "project.ops.request_recorder.RequestRecorderMiddleware"
    ]
    clients = {}
    for name, middleware in (("on", with_metrics), ("off", without_metrics)):
        settings.MIDDLEWARE = middleware
        client = Client()
        client.handler = type(client.handler)(enforce_csrf_checks=False)
        client.handler.load_middleware()
        clients[name] = client
    for client in clients.values():
        for _ in range(50):
            response = client.get(PATH)
        assert response.get("X-Response-Cache") == "hit", "the read must be a response-cache hit"

    cpu_us: dict[str, list[float]] = {"on": [], "off": []}
    for block in range(BLOCKS):
        # Each order half the time: whichever runs second in a pair finds the caches of the first.
        for name in ("on", "off") if block % 2 == 0 else ("off", "on"):
            client = clients[name]
            start = time.process_time()
            for _ in range(REQUESTS_PER_BLOCK):
                client.get(PATH)
            cpu_us[name].append((time.process_time() - start) / REQUESTS_PER_BLOCK * 1e6)
    on, off = statistics.median(cpu_us["on"]), statistics.median(cpu_us["off"])
    print(f"GET {PATH} (a response-cache hit), {BLOCKS} alternating blocks of {REQUESTS_PER_BLOCK} requests")
    print(f"CPU per request: {on:.0f} µs with the metrics, {off:.0f} µs without: {on / off - 1:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
