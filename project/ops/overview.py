"""What the ops page (/ops/) shows: current values, the last hour as charts, a state for each
database, replica, queue and cache, and the scaling doctor's verdict (docs/observability.md).

Nothing here judges: the states are the doctor's findings. The services' figures (replicas, queues,
jobs, Redis) are the doctor's readings; the request path's (rate, latency, 5xx, cache hit ratios,
reads per alias) come from the minute buckets and go through the doctor's own rules for the kit's
signals, the ones it applies to Prometheus's figures. Readings and verdict are kept VERDICT_CACHE_SECONDS
in the cache: the PostgreSQL statistics can take a while to read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone

from project.caching.redis_guard import breaker
from project.ops import minute_buckets
from project.ops.charts import Chart, bar_chart
from project.ops.doctor import rules
from project.ops.doctor.findings import Finding, Severity, Verdict
from project.ops.doctor.rules import count, duration, percent, size
from project.ops.doctor.sources.kit import kit_reading
from project.ops.doctor.verdict import diagnose, take_readings

VERDICT_CACHE_KEY = "ops:page:readings-and-verdict"
VERDICT_CACHE_SECONDS = 30
CURRENT_MINUTES = 5  # "now" is the last five minutes, the current one included


@dataclass(frozen=True)
class Signal:
    label: str
    value: str
    state: str = ""  # a Severity's value; empty where no rule applies
    note: str = ""  # the finding behind the state, when it says more than the value


@dataclass
class OpsOverview:
    generated_at: str
    current_window: str
    buckets_available: bool
    current: list[Signal]
    databases: list[Signal]
    replicas: list[Signal]
    queues: list[Signal]
    jobs: list[Signal]
    caches: list[Signal]
    route_findings: list[Finding]
    charts: list[Chart]
    verdict: Verdict
    verdict_age_seconds: float = field(default=0.0)


def readings_and_verdict() -> tuple[rules.Readings, Verdict, float]:
    """The doctor's readings and verdict, at most VERDICT_CACHE_SECONDS old, and their age."""
    kept = cache.get(VERDICT_CACHE_KEY)
    if kept is not None:
        readings, verdict, taken_at = kept
        return readings, verdict, max(0.0, time.time() - taken_at)
    readings = take_readings()
    verdict = diagnose(readings)
    cache.set(VERDICT_CACHE_KEY, (readings, verdict, time.time()), VERDICT_CACHE_SECONDS)
    return readings, verdict, 0.0


def breaker_signal() -> Signal:
    """This process's breaker: every web process has its own (project/caching/redis_guard.py)."""
    if not breaker.is_down:
        return Signal("Redis circuit breaker", "closed", Severity.GREEN, "this process reaches Redis")
    if breaker.allows_a_call():
        return Signal("Redis circuit breaker", "half-open", Severity.AMBER, "Redis was unreachable; trying again")
    return Signal("Redis circuit breaker", "open", Severity.RED, "Redis unreachable: serving without cache")


def ops_overview(*, now: float | None = None) -> OpsOverview:
    readings, verdict, age = readings_and_verdict()
    by_id = {finding.id: finding for finding in verdict.findings}
    minutes = minute_buckets.last_minutes(now=now)
    available = minutes is not None
    hour = minutes or []
    current = minute_buckets.merged(hour[-CURRENT_MINUTES:])
    # The current minute is still filling: the rate is over the time that has passed.
    seconds = (CURRENT_MINUTES - 1) * 60 + ((time.time() if now is None else now) % 60 or 60)
    window = f"the last {CURRENT_MINUTES} min"
    kit = rules.prometheus_findings(
        rules.Readings(variables=readings.variables, prometheus=kit_reading(current, window=window))
    )
    kit_by_id = {finding.id: finding for finding in kit}
    route_findings = [finding for finding in kit if finding.id.startswith("route.")]

    def state_of(finding: Finding | None) -> str:
        return finding.severity.value if finding is not None else ""

    latency = current.overall
    p95 = latency.quantile_seconds(0.95)
    slow = [f for f in route_findings if f.id.startswith("route.p95.")]
    failing = [f for f in route_findings if f.id.startswith("route.5xx.")]
    requests_state = Severity.GREEN.value if latency.requests else ""
    current_signals = [
        Signal(
            "Requests",
            f"{latency.requests / seconds:.2f}/s",
            "",
            f"{count(latency.requests)} in {window}",
        ),
        Signal(
            "p95 latency",
            f"{p95 * 1000:.0f} ms" if p95 is not None else "–",
            (Severity.AMBER.value if slow else requests_state),
            f"{len(slow)} route{'s' if len(slow) > 1 else ''} over the threshold" if slow else "",
        ),
        Signal(
            "5xx",
            percent(latency.error_share) if latency.error_share is not None else "–",
            (Severity.RED.value if failing else requests_state),
            f"{count(latency.errors)} answers" if latency.errors else "",
        ),
        *[
            Signal(
                f"{name.capitalize()} cache hit ratio",
                percent(ratio) if ratio is not None else "–",
                state_of(kit_by_id.get(f"cache.{name}")),
                kit_by_id[f"cache.{name}"].message if f"cache.{name}" in kit_by_id else "",
            )
            for name, ratio in (
                ("response", current.response_cache_hit_ratio),
                ("query", current.query_cache_hit_ratio),
            )
        ],
        breaker_signal(),
    ]

    total_reads = sum(current.reads_by_alias.values())
    aliases = sorted(set(current.reads_by_alias) | set(current.writes_by_alias) | {"default"})
    databases = []
    for alias in aliases:
        reads, writes = current.reads_by_alias.get(alias, 0), current.writes_by_alias.get(alias, 0)
        served = f", {percent(reads / total_reads)} of all reads" if total_reads else ""
        databases.append(
            Signal(
                alias,
                f"{percent(reads / (reads + writes))} reads" if reads + writes else "–",
                state_of(by_id.get(f"replicas.{alias}")),
                f"{count(reads)} reads, {count(writes)} writes in {window}{served}",
            )
        )

    if not readings.variables["DATABASE_REPLICA_URLS"]:
        replicas = [Signal("Read replicas", "none", "", "stage 3 adds them: DATABASE_REPLICA_URLS (docs/replicas.md)")]
    elif readings.replicas is None:
        replicas = [Signal("Read replicas", "unknown", Severity.UNKNOWN.value, by_id["replicas"].message)]
    else:
        replicas = [
            Signal(
                replica.alias,
                f"lag {replica.lag_seconds:.1f} s",
                state_of(by_id.get(f"replicas.{replica.alias}")),
                by_id[f"replicas.{replica.alias}"].message,
            )
            for replica in readings.replicas
        ]

    if readings.queues is None:
        queues = [Signal("Job queues", "unknown", Severity.UNKNOWN.value, by_id["queues"].message)]
    else:
        queues = [
            Signal(
                f"queue {queue.name}",
                f"{count(queue.depth)} waiting"
                + (f", oldest {duration(queue.oldest_seconds)}" if queue.oldest_seconds is not None else ""),
                state_of(by_id.get(f"queue.{queue.name}")),
                by_id[f"queue.{queue.name}"].next_step,
            )
            for queue in readings.queues
        ]

    if readings.jobs is None:
        jobs = [Signal("Dead letters and outbox", "unknown", Severity.UNKNOWN.value, by_id["jobs"].message)]
    else:
        dead, outbox = by_id["jobs.dead_letters"], by_id["jobs.outbox"]
        jobs = [
            Signal("Dead letters", count(readings.jobs.dead_letters), state_of(dead), dead.next_step),
            Signal("Outbox", count(readings.jobs.outbox_size), state_of(outbox), outbox.next_step),
        ]

    redis = readings.redis
    caches = [
        *(s for s in current_signals if s.label.endswith("cache hit ratio")),
        Signal(
            "Redis hit ratio",
            percent(redis.hit_ratio) if redis and redis.hit_ratio is not None else "–",
            state_of(by_id.get("redis.hit_ratio") or by_id.get("redis")),
            (by_id.get("redis.hit_ratio") or by_id["redis"]).message,
        ),
    ]
    if redis is not None:
        caches += [
            Signal(
                "Redis memory", size(redis.used_memory), state_of(by_id["redis.memory"]), by_id["redis.memory"].message
            ),
            Signal(
                "Redis evictions",
                count(redis.evicted_keys),
                state_of(by_id["redis.evictions"]),
                by_id["redis.evictions"].next_step,
            ),
        ]

    return OpsOverview(
        generated_at=timezone.now().isoformat(timespec="seconds"),
        current_window=window,
        buckets_available=available,
        current=current_signals,
        databases=databases,
        replicas=replicas,
        queues=queues,
        jobs=jobs,
        caches=caches,
        route_findings=route_findings,
        charts=hour_charts(hour),
        verdict=verdict,
        verdict_age_seconds=age,
    )


def hour_charts(hour: list[minute_buckets.Minute]) -> list[Chart]:
    labels = [time.strftime("%H:%M", time.gmtime(minute.start)) for minute in hour]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    charts = [
        bar_chart("Requests per minute", [m.overall.requests for m in hour], labels, fmt=count),
        bar_chart("p95 latency", [m.overall.quantile_seconds(0.95) for m in hour], labels, fmt=ms),
        bar_chart("5xx per minute", [m.overall.errors for m in hour], labels, fmt=count),
        bar_chart(
            "Response-cache hit ratio",
            [m.response_cache_hit_ratio for m in hour],
            labels,
            fmt=percent,
            scale_to=1.0,
        ),
        bar_chart("Query-cache hit ratio", [m.query_cache_hit_ratio for m in hour], labels, fmt=percent, scale_to=1.0),
    ]
    aliases = sorted({alias for minute in hour for alias in minute.reads_by_alias})
    charts += [
        bar_chart(f"Reads per minute on {alias}", [m.reads_by_alias.get(alias, 0) for m in hour], labels, fmt=count)
        for alias in aliases
    ]
    return charts
