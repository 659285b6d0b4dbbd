"""The last hour of the request path, per minute, kept in Redis: what the ops page (/ops/) shows
without Prometheus, so stages 1 and 2 have it too.

One hash per minute, ``<CACHE_KEY_PREFIX>:ops:minute:<minute since the epoch>``, that expires
TTL_SECONDS after its minute began: at most 66 exist, whatever the traffic. A request adds to it
its count, 5xx, latency histogram (LATENCY_BOUNDS_MS), the same per route name (never a raw path,
so the fields stay bounded), response-cache and query-cache hits and misses, and statements that
read and write per database alias.

A request only adds to this process's pending counts, in memory: a Redis round trip per request
would cost more than the request it measures (docs/observability.md). A daemon thread per process
sends them once a second (FLUSH_INTERVAL_SECONDS) in one pipeline of HINCRBYs; a reader sends its
own process's first. Fail-open: with the circuit breaker open or Redis failing, that second's
counts are dropped (and the breaker opens), so memory stays bounded and no request ever waits.
"""

from __future__ import annotations

import bisect
import functools
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_redis import get_redis_connection

from project import process_id
from project.caching.redis_guard import breaker
from project.caching.response_cache import answered_from_cache, cache_outcome
from project.ops.server_timing import RequestCost

logger = logging.getLogger(__name__)

MINUTES_SHOWN = 60
FLUSH_INTERVAL_SECONDS = 1.0
TTL_SECONDS = 65 * 60
# The latency histogram's upper bounds, in milliseconds; one more bucket holds what is slower.
LATENCY_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000)
# A request Django answered before routing it: the response cache, or a URL that matched nothing.
ROUTE_FROM_RESPONSE_CACHE = "(response cache)"
ROUTE_UNRESOLVED = "(no route)"


def minute_key(minute: int) -> str:
    return f"{settings.CACHE_KEY_PREFIX}:ops:minute:{minute}"


def _latency_bucket(duration_s: float) -> int:
    return bisect.bisect_left(LATENCY_BOUNDS_MS, duration_s * 1000)


def record_request(
    *,
    route: str,
    status: int,
    duration_s: float,
    response_cache: str | None = None,  # "hit", "miss", or None: not a request that cache serves
    query_cache_hits: int = 0,
    query_cache_misses: int = 0,
    reads_by_alias: Mapping[str, int] | None = None,
    writes_by_alias: Mapping[str, int] | None = None,
    now: float | None = None,
) -> None:
    minute = int((time.time() if now is None else now) // 60)
    increments = _increments(route, status >= 500, _latency_bucket(duration_s), response_cache)
    if query_cache_hits or query_cache_misses or reads_by_alias or writes_by_alias:
        increments = dict(increments)
        if query_cache_hits:
            increments["qc|hit"] = query_cache_hits
        if query_cache_misses:
            increments["qc|miss"] = query_cache_misses
        for kind, counts in (("reads", reads_by_alias), ("writes", writes_by_alias)):
            for alias, number in (counts or {}).items():
                increments[f"db|{alias}|{kind}"] = number
    _pending.add(minute, increments)


def record_cache_hit(status: int, duration_s: float) -> None:
    """A hit the response cache answered before Django (project/caching/wsgi_front.py)."""
    record_request(route=ROUTE_FROM_RESPONSE_CACHE, status=status, duration_s=duration_s, response_cache="hit")


@functools.lru_cache(maxsize=4096)  # routes, latency buckets and outcomes are bounded; built once each
def _increments(route: str, error: bool, latency_bucket: int, response_cache: str | None) -> dict[str, int]:
    bucket = f"le{latency_bucket}"
    increments = {"requests": 1, bucket: 1, f"r|{route}|requests": 1, f"r|{route}|{bucket}": 1}
    if error:
        increments |= {"5xx": 1, f"r|{route}|5xx": 1}
    if response_cache:
        increments[f"rc|{response_cache}"] = 1
    return increments  # shared: never changed


class _PendingCounts:
    """This process's counts not yet in Redis, by minute; and the thread that sends them."""

    def __init__(self) -> None:
        self._counts: dict[int, dict[str, int]] = {}
        self._lock = threading.Lock()
        self._pid: int | None = None

    def add(self, minute: int, increments: dict[str, int]) -> None:
        self._ensure_flusher()
        with self._lock:
            fields = self._counts.setdefault(minute, {})
            for name, number in increments.items():
                fields[name] = fields.get(name, 0) + number

    def take(self) -> dict[int, dict[str, int]]:
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def _ensure_flusher(self) -> None:
        if self._pid == process_id.current():
            return
        with self._lock:
            if self._pid == process_id.current():
                return
            # A forked process starts with none of its parent's counts, and a thread of its own.
            self._pid, self._counts = process_id.current(), {}
            threading.Thread(target=self._run, name="ops-minute-buckets", daemon=True).start()

    @staticmethod
    def _run() -> None:
        while True:
            time.sleep(FLUSH_INTERVAL_SECONDS)
            flush()


_pending = _PendingCounts()


def flush() -> None:
    """Send this process's pending counts to Redis, in one pipeline; dropped when it fails."""
    counts = _pending.take()
    if not counts or not breaker.allows_a_call():
        return
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for minute, fields in counts.items():
            key = minute_key(minute)
            for name, number in fields.items():
                pipe.hincrby(key, name, number)
            pipe.expireat(key, minute * 60 + TTL_SECONDS)
        pipe.execute()
    except redis.RedisError as error:
        # A pipeline bypasses the guarded client's execute_command, so tell the breaker here.
        if isinstance(error, redis.ConnectionError | redis.TimeoutError):
            breaker.record_failure(error)
        logger.debug("ops minute buckets: not recorded: %s", error)


def record_response(request: HttpRequest, response: HttpResponse, cost: RequestCost, duration_s: float) -> None:
    """What the request middleware calls: the route and cache outcome as this request's own objects say."""
    response_cache: str | None
    if answered_from_cache(request):
        route, response_cache = ROUTE_FROM_RESPONSE_CACHE, "hit"
    else:
        match = request.resolver_match
        route = match.view_name if match is not None else ROUTE_UNRESOLVED
        outcome = cache_outcome(request)
        response_cache = "miss" if outcome is not None and outcome[1] == "miss" else None
    record_request(
        route=route,
        status=response.status_code,
        duration_s=duration_s,
        response_cache=response_cache,
        query_cache_hits=cost.cache_hits,
        query_cache_misses=cost.cache_misses,
        reads_by_alias=cost.reads_by_alias,
        writes_by_alias=cost.writes_by_alias,
    )


# --- reading --------------------------------------------------------------------------------


@dataclass
class Latencies:
    """Requests, 5xx answers and the latency histogram, of a minute or a window, overall or of one route."""

    requests: int = 0
    errors: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))

    def add(self, other: Latencies) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]

    @property
    def error_share(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def quantile_seconds(self, q: float) -> float | None:
        """Interpolated within the bucket, as Prometheus's histogram_quantile(); the slowest bucket
        answers its lower bound."""
        total = sum(self.histogram)
        if not total:
            return None
        rank, seen = q * total, 0
        for index, number in enumerate(self.histogram):
            if number and seen + number >= rank:
                if index == len(LATENCY_BOUNDS_MS):
                    return LATENCY_BOUNDS_MS[-1] / 1000
                lower = LATENCY_BOUNDS_MS[index - 1] if index else 0
                return (lower + (LATENCY_BOUNDS_MS[index] - lower) * (rank - seen) / number) / 1000
            seen += number
        raise AssertionError("unreachable")


@dataclass
class Minute:
    start: float  # seconds since the epoch
    overall: Latencies = field(default_factory=Latencies)
    routes: dict[str, Latencies] = field(default_factory=dict)
    response_cache: dict[str, int] = field(default_factory=dict)  # "hit", "miss"
    query_cache: dict[str, int] = field(default_factory=dict)
    reads_by_alias: dict[str, int] = field(default_factory=dict)
    writes_by_alias: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def _hit_ratio(counts: dict[str, int]) -> float | None:
        lookups = counts.get("hit", 0) + counts.get("miss", 0)
        return counts.get("hit", 0) / lookups if lookups else None

    @property
    def response_cache_hit_ratio(self) -> float | None:
        return self._hit_ratio(self.response_cache)

    @property
    def query_cache_hit_ratio(self) -> float | None:
        return self._hit_ratio(self.query_cache)

    def add(self, other: Minute) -> None:
        self.overall.add(other.overall)
        for route, latencies in other.routes.items():
            self.routes.setdefault(route, Latencies()).add(latencies)
        for mine, theirs in (
            (self.response_cache, other.response_cache),
            (self.query_cache, other.query_cache),
            (self.reads_by_alias, other.reads_by_alias),
            (self.writes_by_alias, other.writes_by_alias),
        ):
            for name, number in theirs.items():
                mine[name] = mine.get(name, 0) + number


def _parse(start: float, fields: dict[bytes, bytes]) -> Minute:
    minute = Minute(start=start)

    def count_into(latencies: Latencies, name: str, number: int) -> None:
        if name == "requests":
            latencies.requests += number
        elif name == "5xx":
            latencies.errors += number
        elif name.startswith("le") and name[2:].isdigit() and int(name[2:]) < len(latencies.histogram):
            latencies.histogram[int(name[2:])] += number

    for raw_name, raw_number in fields.items():
        name, number = raw_name.decode(), int(raw_number)
        kind, _, rest = name.partition("|")
        if not rest:
            count_into(minute.overall, name, number)
        elif kind == "r":
            route, _, counter = rest.rpartition("|")
            count_into(minute.routes.setdefault(route, Latencies()), counter, number)
        elif kind in ("rc", "qc"):
            (minute.response_cache if kind == "rc" else minute.query_cache)[rest] = number
        elif kind == "db":
            alias, _, what = rest.rpartition("|")
            (minute.reads_by_alias if what == "reads" else minute.writes_by_alias)[alias] = number
    return minute


def last_minutes(*, count: int = MINUTES_SHOWN, now: float | None = None) -> list[Minute] | None:
    """The last ``count`` minutes, oldest first, the current (partial) one last; empty minutes
    included. None when Redis cannot be read."""
    flush()
    if not breaker.allows_a_call():
        return None
    current = int((time.time() if now is None else now) // 60)
    minutes = range(current - count + 1, current + 1)
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for minute in minutes:
            pipe.hgetall(minute_key(minute))
        answers = pipe.execute()
    except redis.RedisError as error:
        if isinstance(error, redis.ConnectionError | redis.TimeoutError):
            breaker.record_failure(error)
        logger.warning("ops minute buckets: not read: %s", error)
        return None
    return [_parse(minute * 60.0, fields) for minute, fields in zip(minutes, answers, strict=True)]


def merged(minutes: list[Minute]) -> Minute:
    total = Minute(start=minutes[0].start if minutes else 0.0)
    for minute in minutes:
        total.add(minute)
    return total
