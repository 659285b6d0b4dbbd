"""The kit's own signals, from Prometheus's HTTP API (PROMETHEUS_URL): response-cache and query-cache
hit ratios, p95 latency and 5xx share per route, app servers' CPU and how many report in.

Every metric name and label the queries use is in METRICS, one place to align with the metrics
the kit exports (docs/doctor.md). Unset or unreachable, this source is unknown; the others run.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

METRICS = {
    # Counters of project/ops/metrics.py: the response cache and the query cache (cacheops), by result.
    "response_cache": "headroom_response_cache_requests_total",
    "query_cache": "headroom_query_cache_reads_total",
    # Histogram of request durations in seconds, and counter of responses, both labelled by route.
    "request_duration": "headroom_http_request_duration_seconds",
    "requests": "headroom_http_requests_total",
    "route_label": "route",
    "status_label": "status",
    # The app servers' scrape job, and the CPU seconds every process exports (prometheus-client).
    "app_server_job": "headroom-web",
    "cpu_seconds": "process_cpu_seconds_total",
}
TIMEOUT_SECONDS = 2.0


def queries(window: str) -> dict[str, str]:
    """PromQL per signal, over ``window`` ("1h")."""
    m = METRICS
    route, status, job = m["route_label"], m["status_label"], m["app_server_job"]

    def hit_ratio(counter: str) -> str:
        # Over hits and misses alone: bypasses (signed-in requests) are not the cache's to serve.
        rate = f"rate({m[counter]}{{result=~'hit|miss'}}[{window}])"
        return f"sum({rate.replace('hit|miss', 'hit')}) / sum({rate})"

    return {
        "response_cache_hit_ratio": hit_ratio("response_cache"),
        "query_cache_hit_ratio": hit_ratio("query_cache"),
        "p95_seconds_by_route": (
            f"histogram_quantile(0.95, sum by (le, {route}) (rate({m['request_duration']}_bucket[{window}])))"
        ),
        "5xx_share_by_route": (
            f'sum by ({route}) (rate({m["requests"]}{{{status}=~"5.."}}[{window}]))'
            f" / sum by ({route}) (rate({m['requests']}[{window}]))"
        ),
        "app_server_cpu": f'avg(rate({m["cpu_seconds"]}{{job="{job}"}}[{window}]))',
        "app_servers_up": f'count(up{{job="{job}"}} == 1)',
    }


@dataclass(frozen=True)
class PrometheusReading:
    window: str
    response_cache_hit_ratio: float | None  # None: no traffic, or the metric is not exported
    query_cache_hit_ratio: float | None
    p95_seconds_by_route: dict[str, float]
    errors_share_by_route: dict[str, float]
    app_server_cpu: float | None  # CPU seconds per second, per process: 1.0 is one core busy
    app_servers_up: int | None


def read_prometheus(*, window: str = "1h") -> PrometheusReading:
    if not settings.PROMETHEUS_URL:
        raise LookupError("PROMETHEUS_URL is not set")
    promql = queries(window)
    return PrometheusReading(
        window=window,
        response_cache_hit_ratio=_scalar(promql["response_cache_hit_ratio"]),
        query_cache_hit_ratio=_scalar(promql["query_cache_hit_ratio"]),
        p95_seconds_by_route=_by_label(promql["p95_seconds_by_route"]),
        errors_share_by_route=_by_label(promql["5xx_share_by_route"]),
        app_server_cpu=_scalar(promql["app_server_cpu"]),
        app_servers_up=None if (up := _scalar(promql["app_servers_up"])) is None else int(up),
    )


def _query(promql: str) -> list[dict[str, object]]:
    url = f"{settings.PROMETHEUS_URL}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"PROMETHEUS_URL must be http(s)://…, not {settings.PROMETHEUS_URL!r}")
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked above
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus answered {body.get('errorType')}: {body.get('error')}")
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def _value(sample: dict[str, object]) -> float | None:
    value = float(sample["value"][1])  # type: ignore[index]
    return None if value != value else value  # NaN: a ratio of no traffic


def _scalar(promql: str) -> float | None:
    result = _query(promql)
    return _value(result[0]) if result else None


def _by_label(promql: str) -> dict[str, float]:
    label = METRICS["route_label"]
    values = {}
    for sample in _query(promql):
        value = _value(sample)
        if value is not None:
            values[str(sample["metric"].get(label, "?"))] = value  # type: ignore[attr-defined]
    return values
