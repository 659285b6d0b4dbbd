"""The kit's own signals (cache hit ratios, p95 and 5xx per route): from Prometheus when
PROMETHEUS_URL is set, else from the ops page's per-minute counters in Redis, so stage 1 and 2
have them too."""

from __future__ import annotations

from django.conf import settings

from project.ops import minute_buckets
from project.ops.doctor.sources.prometheus import PrometheusReading, read_prometheus

WINDOW = "1h"


def read_kit_signals() -> PrometheusReading:
    if settings.PROMETHEUS_URL:
        return read_prometheus(window=WINDOW)
    if not settings.OPS_MINUTE_BUCKETS:
        raise LookupError("PROMETHEUS_URL is not set and OPS_MINUTE_BUCKETS is off")
    minutes = minute_buckets.last_minutes()
    if minutes is None:
        raise LookupError("PROMETHEUS_URL is not set and the per-minute counters in Redis cannot be read")
    return kit_reading(minute_buckets.merged(minutes), window=WINDOW)


def kit_reading(minute: minute_buckets.Minute, *, window: str) -> PrometheusReading:
    """The minute buckets as the reading the doctor's rules take from Prometheus."""
    return PrometheusReading(
        window=window,
        response_cache_hit_ratio=minute.response_cache_hit_ratio,
        query_cache_hit_ratio=minute.query_cache_hit_ratio,
        p95_seconds_by_route={
            route: p95 for route, latencies in minute.routes.items() if (p95 := latencies.quantile_seconds(0.95))
        },
        errors_share_by_route={
            route: share for route, latencies in minute.routes.items() if (share := latencies.error_share) is not None
        },
        app_server_cpu=None,
        app_servers_up=None,
    )
