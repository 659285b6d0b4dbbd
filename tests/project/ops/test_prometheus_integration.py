"""A real Prometheus (Debian's, on a loopback port, in a temp dir) scraping a real `scripts/cluster`
(two gunicorns with two workers each, behind nginx) and a real job worker, with
config/prometheus/loopback.yml and its alert rules: after known traffic and a job, Prometheus's
HTTP API shows the series with the values sent; and every panel of config/grafana/headroom.json
runs against it. `./scripts/test -m prometheus` runs it (.ci/run does, after scripts/prometheus-check).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from project.ops.doctor.sources import prometheus as doctor_prometheus
from tests.servers import free_port, private_redis
from tests.workers import wait_until

BASE_DIR = Path(settings.BASE_DIR)
PROMETHEUS = shutil.which("prometheus")
NGINX = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
READS_PER_INSTANCE = 10
CACHED_READ = "/api/v1/categories/"
SIGNUP_JOB = "send_verification_email"

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.xdist_group("prometheus"),
    pytest.mark.skipif(
        PROMETHEUS is None, reason="prometheus is not installed: ./scripts/prometheus-check installs it"
    ),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed: ./scripts/nginx-check installs it"),
]


@dataclass(frozen=True)
class Stack:
    prometheus_port: int
    instance_ports: list[int]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar, as one sample) of ``promql``; fails on any error of the API."""
        url = f"http://127.0.0.1:{self.prometheus_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        data = answer["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def value(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None


def _request(port: int, path: str, *, body: dict[str, Any] | None = None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Host": "127.0.0.1"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def _prometheus_config(directory: Path, *, cluster_dir: Path, worker_port: int) -> Path:
    """config/prometheus/loopback.yml as shipped, with this run's paths and ports and a 1 s interval."""
    config = yaml.safe_load((BASE_DIR / "config" / "prometheus" / "loopback.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(BASE_DIR / "config" / "prometheus" / "alerts.yml")]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["headroom-web"]["file_sd_configs"] = [
        {"files": [str(cluster_dir / "prometheus-targets.json")], "refresh_interval": "1s"}
    ]
    jobs["headroom-worker"]["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"]}]
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("prometheus")
    cluster_dir = tmp / "cluster"
    worker_port = free_port()
    with private_redis() as redis:
        # As production runs it (not the test settings), on a database and Redis of its own.
        env = {name: value for name, value in os.environ.items() if not name.startswith(("DATABASE_", "BROKER_"))}
        env |= {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "REDIS_URL": redis.url,
            "CLUSTER_DIR": str(cluster_dir),
            "WEB_CONCURRENCY": "2",
            "METRICS_ALLOWED_NETWORKS": "127.0.0.1/32",
            "METRICS_WORKER_PORT": str(worker_port),
        }
        processes: list[subprocess.Popen] = []
        started = subprocess.run(
            [str(BASE_DIR / "scripts" / "cluster"), "start", "--port", str(free_port())],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        try:
            assert started.returncode == 0, started.stdout + started.stderr
            state = json.loads((cluster_dir / "cluster.json").read_text())
            worker_log = (tmp / "worker.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"],
                    cwd=BASE_DIR,
                    env=env,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            prometheus_port = free_port()
            config = _prometheus_config(tmp, cluster_dir=cluster_dir, worker_port=worker_port)
            processes.append(
                subprocess.Popen(
                    [
                        str(PROMETHEUS),
                        f"--config.file={config}",
                        f"--storage.tsdb.path={tmp / 'tsdb'}",
                        f"--web.listen-address=127.0.0.1:{prometheus_port}",
                    ],
                    stdout=(tmp / "prometheus.log").open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            stack = Stack(prometheus_port=prometheus_port, instance_ports=[i["port"] for i in state["instances"]])
            wait_until(lambda: _ready(prometheus_port), timeout=60)
            # Every target up: both gunicorns and the worker's port.
            wait_until(lambda: stack.value('count(up{job=~"headroom-.*"} == 1)') == 3, timeout=90, interval=0.5)
            yield stack
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    os.killpg(process.pid, 15)
                    process.wait(timeout=60)
            subprocess.run(
                [str(BASE_DIR / "scripts" / "cluster"), "stop"], cwd=BASE_DIR, env=env, capture_output=True, timeout=120
            )


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def traffic(stack) -> Stack:
    """Known traffic: READS_PER_INSTANCE anonymous catalog reads on each gunicorn, and a sign-up (its job
    sends the verification email)."""
    for port in stack.instance_ports:
        for _ in range(READS_PER_INSTANCE):
            assert _request(port, CACHED_READ) == 200
    signup = {"email": "prometheus@example.com", "password": "a-long-enough-password-1", "name": "P"}
    assert _request(stack.instance_ports[0], "/api/v1/auth/signup/", body=signup) == 201
    sent = READS_PER_INSTANCE * len(stack.instance_ports)
    wait_until(
        lambda: stack.value('sum(headroom_http_requests_total{route="v1:category-list"})') == sent,
        timeout=60,
        interval=0.5,
    )
    wait_until(
        lambda: stack.value(f'sum(headroom_jobs_processed_total{{job="headroom-worker",actor="{SIGNUP_JOB}"}})') == 1,
        timeout=90,
        interval=0.5,
    )
    wait_until(lambda: stack.value('sum(headroom_job_log_rows{status="done"})'), timeout=30, interval=0.5)
    return stack


def test_the_request_count_matches_what_was_sent_summed_over_every_gunicorn_worker(traffic):
    sent = READS_PER_INSTANCE * len(traffic.instance_ports)

    by_method_and_status = traffic.query(
        'sum by (method, status) (headroom_http_requests_total{route="v1:category-list"})'
    )

    assert [(row["metric"], float(row["value"][1])) for row in by_method_and_status] == [
        ({"method": "GET", "status": "200"}, sent)
    ]
    assert traffic.value('sum(headroom_http_request_duration_seconds_count{route="v1:category-list"})') == sent


def test_the_response_cache_hit_ratio_is_above_zero_after_repeated_reads(traffic):
    ratio = traffic.value(
        'sum(headroom_response_cache_requests_total{endpoint="v1:category-list",result="hit"})'
        ' / sum(headroom_response_cache_requests_total{endpoint="v1:category-list"})'
    )

    assert ratio is not None and ratio > 0.5


def test_the_sign_up_counts_its_sql_writes_and_its_jobs_from_enqueue_to_done(traffic):
    assert traffic.value('sum(headroom_db_queries_total{alias="default",kind="write"})') > 0
    assert traffic.value(f'sum(headroom_jobs_enqueued_total{{job="headroom-web",actor="{SIGNUP_JOB}"}})') == 1
    assert traffic.value(f'sum(headroom_job_duration_seconds_count{{actor="{SIGNUP_JOB}",queue="default"}})') == 1
    assert traffic.value("sum(headroom_jobs_failed_total)") in (None, 0.0)


def test_the_scrape_time_gauges_are_exported_by_web_and_worker_alike(traffic):
    for name in ("headroom_queue_depth", "headroom_queue_oldest_message_age_seconds", "headroom_job_log_rows"):
        jobs = {row["metric"]["job"] for row in traffic.query(name)}
        assert jobs == {"headroom-web", "headroom-worker"}, name
    assert traffic.value("max(headroom_outbox_messages)") == 0
    assert traffic.value("max(headroom_metrics_collector_errors)") == 0


def test_the_alert_rules_load_and_none_fires_on_a_healthy_cluster(traffic):
    # Firing, not pending: a slow first request on a loaded machine may start a `for:` clock.
    url = f"http://127.0.0.1:{traffic.prometheus_port}/api/v1/rules"
    with urllib.request.urlopen(url, timeout=10) as response:
        groups = json.load(response)["data"]["groups"]

    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["health"] for rule in rules} == {"ok"}
    assert [rule["name"] for rule in rules if rule["state"] == "firing"] == []


def grafana_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads((BASE_DIR / "config" / "grafana" / "headroom.json").read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


@pytest.mark.parametrize(("panel", "expr"), grafana_expressions(), ids=[title for title, _ in grafana_expressions()])
def test_every_grafana_panel_query_parses_and_runs(traffic, panel, expr):
    # Grafana's own variables, as it would fill them in.
    promql = expr.replace("$__rate_interval", "1m").replace("$__range", "5m")

    traffic.query(promql)


@pytest.mark.parametrize("name", sorted(doctor_prometheus.queries("5m")))
def test_every_doctor_query_parses_and_runs(traffic, name):
    traffic.query(doctor_prometheus.queries("5m")[name])


def test_the_doctor_counts_the_app_servers_and_reads_the_series_the_kit_exports(traffic, settings):
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{traffic.prometheus_port}"

    reading = doctor_prometheus.read_prometheus(window="5m")

    assert reading.app_servers_up == len(traffic.instance_ports)
    for counter in ("response_cache", "query_cache", "requests"):
        assert traffic.value(f"sum({doctor_prometheus.METRICS[counter]})") > 0, counter
