"""The doctor's rules on given readings: the seed's CPU thresholds, per-route latency and errors, the stage."""

from __future__ import annotations

import pytest

from project.ops.doctor import rules
from project.ops.doctor.findings import Severity
from project.ops.doctor.sources.prometheus import METRICS, PrometheusReading, queries
from project.ops.doctor.sources.stage import STAGE_VARIABLES

NOTHING_SET = dict.fromkeys(STAGE_VARIABLES, False)


def _prometheus(**values) -> rules.Readings:
    reading = {
        "window": "1h",
        "response_cache_hit_ratio": 0.9,
        "query_cache_hit_ratio": 0.9,
        "p95_seconds_by_route": {},
        "errors_share_by_route": {},
        "app_server_cpu": 0.5,
        "app_servers_up": 2,
        **values,
    }
    return rules.Readings(variables=NOTHING_SET, prometheus=PrometheusReading(**reading))


def _by_id(readings: rules.Readings) -> dict:
    return {finding.id: finding for finding in rules.prometheus_findings(readings)}


def test_app_servers_above_the_seeds_70_percent_cpu_are_told_to_scale_out():
    cpu = _by_id(_prometheus(app_server_cpu=0.85, app_servers_up=2))["cpu"]

    assert cpu.severity is Severity.AMBER
    assert cpu.message == "app servers' CPU 85% on 2 app servers over 1h (the seed scales out above 70%)"
    assert cpu.next_step == "add app servers behind the load balancer"


def test_app_servers_below_the_seeds_30_percent_cpu_are_told_to_scale_in_but_never_below_two():
    assert _by_id(_prometheus(app_server_cpu=0.1, app_servers_up=4))["cpu"].next_step == "remove an app server"
    assert _by_id(_prometheus(app_server_cpu=0.1, app_servers_up=2))["cpu"].severity is Severity.GREEN


def test_a_slow_route_and_a_failing_route_are_named():
    findings = _by_id(
        _prometheus(
            p95_seconds_by_route={"/api/v1/products/": 0.8, "/api/v1/orders/": 0.05},
            errors_share_by_route={"/api/v1/orders/": 0.05},
        )
    )

    assert findings["route.p95./api/v1/products/"].message.startswith("/api/v1/products/: p95 800 ms over 1h")
    assert "route.p95./api/v1/orders/" not in findings
    assert findings["route.5xx./api/v1/orders/"].severity is Severity.RED


def test_a_low_response_cache_hit_ratio_is_amber():
    response = _by_id(_prometheus(response_cache_hit_ratio=0.12))["cache.response"]

    assert response.severity is Severity.AMBER
    assert response.message == "response cache hit ratio 12% over 1h"


def test_every_query_uses_the_metric_names_of_one_place():
    promql = " ".join(queries("1h").values())

    for name in ("response_cache", "query_cache", "request_duration", "requests", "cpu_seconds"):
        assert METRICS[name] in promql


@pytest.mark.parametrize(
    ("set_", "stage"),
    [
        ((), "1"),
        (("DATABASE_URL",), "1-2"),
        (("DATABASE_URL", "REDIS_URL"), "2"),
        (("DATABASE_URL", "REDIS_URL", "BROKER_URL", "CDN_URL"), "2"),
        (("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URLS", "MEDIA_S3_BUCKET"), "3"),
    ],
)
def test_the_stage_follows_docs_stages_md(set_, stage):
    assert rules.stage_of({**NOTHING_SET, **dict.fromkeys(set_, True)}).number == stage


def test_between_stages_1_and_2_names_the_missing_variable():
    variables = {**NOTHING_SET, "DATABASE_URL": True}
    stage = rules.stage_of(variables)

    finding = rules.stage_findings(stage, rules.Readings(variables=variables))[0]

    assert finding.severity is Severity.AMBER
    assert finding.next_step.startswith("set REDIS_URL too")


def test_figures_read_the_way_people_read_them():
    assert rules.count(1_234_567) == "1.2M"
    assert rules.count(4000) == "4,000"
    assert rules.size(3 * 1024**3) == "3 GB"
    assert rules.duration(14 * 60) == "14 min"


def _redis(version: str) -> rules.Readings:
    from project.ops.doctor.sources.redis_server import RedisReading

    reading = RedisReading(
        hits=0, misses=0, used_memory=1, maxmemory=0, evicted_keys=0, uptime_seconds=60, version=version
    )
    return rules.Readings(variables=NOTHING_SET, redis=reading)


def _memory_hits(readings: rules.Readings):
    return {finding.id: finding for finding in rules.redis_findings(readings)}["redis.memory_hits"]


def test_a_redis_without_client_tracking_is_told_to_upgrade_for_hits_from_memory():
    finding = _memory_hits(_redis("5.0.14"))

    assert finding.severity is Severity.AMBER
    assert finding.message == "response-cache hits ask Redis each time: Redis 5.0.14 has no CLIENT TRACKING"
    assert finding.next_step.startswith("upgrade Redis to 6 or newer")


def test_with_redis_6_or_newer_hits_come_from_each_workers_memory():
    finding = _memory_hits(_redis("7.0.15"))

    assert finding.severity is Severity.GREEN
    assert finding.message == "response-cache hits from each worker's memory (Redis 7.0.15 reports every change)"


def test_with_memory_hits_turned_off_it_says_hits_ask_redis(settings):
    settings.RESPONSE_CACHE_LOCAL_COPIES = False

    finding = _memory_hits(_redis("7.0.15"))

    assert (finding.severity, finding.message) == (
        Severity.GREEN,
        "response-cache hits ask Redis each time (RESPONSE_CACHE_LOCAL_COPIES=false)",
    )
