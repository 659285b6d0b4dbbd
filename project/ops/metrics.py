"""Prometheus metrics (prometheus-client) of every web process and every job worker.

- Web: ``record_request`` (called by project/ops/request_recorder.py) counts each request by route name (the URL name, never the
  path), method and status, its latency, its SQL by alias (reads and writes: the numbers
  Server-Timing measures, project/ops/server_timing.py) and the response cache's answer.
  ``/metrics`` serves them (``metrics_view``).
- Jobs: ``JobMetrics``, a Dramatiq middleware in every process that has the broker (a web process
  counts what it enqueues, a worker what it runs); a worker serves them on METRICS_WORKER_PORT
  from a process of its own (``serve_worker_metrics``, as dramatiq.middleware.prometheus does).
- At scrape time ``SharedStateCollector`` reads what needs a query: queue depth and oldest age,
  replica lag, the outbox, the job log. A failing part is logged and skipped, never raised.

Processes of one server share their counts through files (prometheus-client's multiprocess mode):
gunicorn's config sets PROMETHEUS_MULTIPROC_DIR for its workers, a job worker sets its own at boot.

Nobody reads /metrics unless METRICS_TOKEN (``Authorization: Bearer <token>``) or
METRICS_ALLOWED_NETWORKS lets them; with neither set it is a 404 and no worker opens a port.
docs/observability.md says what each series means.
"""

from __future__ import annotations

import bisect
import functools
import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import dramatiq
import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

from project import process_id
from project.caching.response_cache import cache_outcome
from project.ops.server_timing import RequestCost

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
UNROUTED = "<unrouted>"  # a 404 no URL pattern matched: one label value, whatever the path


def _use_multiprocess_values() -> None:
    # Each update of a multiprocess value asks for the process id, to notice a fork: the kept one, not os.getpid().
    values.ValueClass = values.MultiProcessValue(process_identifier=process_id.current)  # type: ignore[no-untyped-call]


if os.environ.get(MULTIPROC_ENV):  # set by config/gunicorn.conf.py before this is imported
    _use_multiprocess_values()

# --- the series updated as things happen ---------------------------------------------------------

http_requests = Counter(
    "headroom_http_requests", "Requests answered, by route name, method and status.", ["route", "method", "status"]
)
http_request_duration = Histogram(
    "headroom_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by route name.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
db_queries = Counter(
    "headroom_db_queries", "SQL statements of requests, by database alias and kind (read, write).", ["alias", "kind"]
)
db_query_seconds = Counter(
    "headroom_db_query_seconds", "Time in SQL of requests, by database alias and kind.", ["alias", "kind"]
)
response_cache_requests = Counter(
    "headroom_response_cache_requests",
    "GETs of a response-cached endpoint: hit, miss (filled from the view) or bypass (credentials, Redis down).",
    ["endpoint", "result"],
)
query_cache_reads = Counter("headroom_query_cache_reads", "cacheops query cache reads, by model.", ["model", "result"])
redis_breaker_open = Gauge(
    "headroom_redis_breaker_open",
    "1 while this server's Redis circuit breaker is open (Redis unreachable).",
    multiprocess_mode="livemax",
)
redis_breaker_trips = Counter("headroom_redis_breaker_trips", "Redis outages this server's breaker opened on.")
response_cache_memory_off = Counter(
    "headroom_response_cache_memory_off",
    "Times a process stopped answering response-cache hits from memory (its tracking connection "
    "failed, closed or fell behind) and asked Redis again until it reconnected.",
)
read_your_writes_pins = Counter(
    "headroom_read_your_writes_pins",
    "Requests whose reads were held on the primary or up-to-date replicas: write (an unsafe method), "
    "remembered (a recent write of this client), redis_down (unknown, so the primary).",
    ["reason"],
)
jobs_enqueued = Counter("headroom_jobs_enqueued", "Jobs sent to the broker (retries apart).", ["actor", "queue"])
jobs_processed = Counter("headroom_jobs_processed", "Jobs run, successful or not.", ["actor", "queue"])
jobs_failed = Counter("headroom_jobs_failed", "Job runs that raised.", ["actor", "queue"])
jobs_retried = Counter("headroom_jobs_retried", "Failed jobs sent again for a retry.", ["actor", "queue"])
jobs_dead_lettered = Counter(
    "headroom_jobs_dead_lettered", "Jobs given up on after their last retry.", ["actor", "queue"]
)
job_duration = Histogram(
    "headroom_job_duration_seconds",
    "Time a job ran, by actor and queue.",
    ["actor", "queue"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)


@functools.lru_cache(maxsize=4096)  # label values are bounded; labels() takes a lock and builds a key
def _child(metric: Any, *labels: str) -> Any:
    return metric.labels(*labels)


def enabled() -> bool:
    """Whether anyone may read the metrics: with no way in, none is served."""
    return bool(settings.METRICS_TOKEN or settings.METRICS_ALLOWED_NETWORKS)


def install() -> None:
    """Receivers for what other packages report (project/apps.py); costs nothing with METRICS_ENABLED off."""
    from cacheops.signals import cache_read

    from project.caching.redis_guard import breaker

    if not settings.METRICS_ENABLED:
        return
    cache_read.connect(_count_query_cache_read, dispatch_uid="headroom-metrics")
    breaker.on_state_change(_breaker_changed)


def _count_query_cache_read(sender: Any, func: Any, hit: bool, **kwargs: Any) -> None:
    model = getattr(getattr(sender, "_meta", None), "label", None) or "<function>"
    _safely(lambda: query_cache_reads.labels(model, "hit" if hit else "miss").inc())


def _breaker_changed(*, is_open: bool) -> None:
    if is_open:
        _safely(redis_breaker_trips.inc)
    _safely(lambda: redis_breaker_open.set(1 if is_open else 0))


def count_response_cache_memory_off() -> None:
    if settings.METRICS_ENABLED:
        _safely(response_cache_memory_off.inc)


def count_read_your_writes_pin(reason: str) -> None:
    if settings.METRICS_ENABLED:
        _safely(lambda: read_your_writes_pins.labels(reason).inc())


def _safely(update: Callable[[], object]) -> None:
    # A metric must never break what it measures.
    try:
        update()
    except Exception:
        logger.exception("metrics: an update failed")


# --- requests ------------------------------------------------------------------------------------


def record_request(request: HttpRequest, response: HttpResponse, cost: RequestCost, seconds: float) -> None:
    """Counts a request (project/ops/request_recorder.py measures it)."""
    outcome = cache_outcome(request)
    match = request.resolver_match
    if match is not None:
        route = match.view_name
    elif outcome is not None:
        route = outcome[0]  # answered by the response cache before URL resolution
    else:
        route = UNROUTED
    method = request.method if request.method in METHODS else "other"
    _child(http_requests, route, method, str(response.status_code)).inc()
    _child(http_request_duration, route).observe(seconds)
    for (alias, kind), sql in cost.sql.items():
        _child(db_queries, alias, kind).inc(sql.queries)
        _child(db_query_seconds, alias, kind).inc(sql.seconds)
    if outcome is not None:
        _child(response_cache_requests, *outcome).inc()


class _PendingHits:
    """Response-cache hits answered before Django (project/caching/wsgi_front.py), counted in this
    process's memory and added to the series once a second, and before an exposition. Each update
    of a series in multiprocess mode takes a lock and writes a memory-mapped file; a hit would make
    four of them, a few percent of what it costs. Here a hit is one dict update under a lock that
    nothing else holds; the series and their labels are those of record_request()."""

    FLUSH_INTERVAL_SECONDS = 1.0

    def __init__(self) -> None:
        self._bounds = http_request_duration._upper_bounds  # the last is +Inf
        self._counts: dict[tuple[str, int], int] = {}
        self._latencies: dict[str, list[float]] = {}  # route -> [sum of seconds, then a count per bucket]
        self._lock = threading.Lock()
        self._flusher_pid: int | None = None

    def add(self, route: str, status: int, seconds: float) -> None:
        if self._flusher_pid != process_id.current():
            self._start_flusher()
        bucket = bisect.bisect_left(self._bounds, seconds) + 1
        with self._lock:
            key = (route, status)
            self._counts[key] = self._counts.get(key, 0) + 1
            latencies = self._latencies.get(route)
            if latencies is None:
                latencies = self._latencies[route] = [0.0] * (len(self._bounds) + 1)
            latencies[0] += seconds
            latencies[bucket] += 1

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
            latencies, self._latencies = self._latencies, {}
        for (route, status), hits in counts.items():
            _child(http_requests, route, "GET", str(status)).inc(hits)
            _child(response_cache_requests, route, "hit").inc(hits)
        for route, (total, *buckets) in latencies.items():
            # Histogram.observe() once per hit, summed: its sum and the bucket each hit falls in.
            child = _child(http_request_duration, route)
            child._sum.inc(total)
            for index, in_bucket in enumerate(buckets):
                if in_bucket:
                    child._buckets[index].inc(in_bucket)

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher_pid == process_id.current():
                return
            # A forked process starts with none of its parent's counts, and a thread of its own.
            self._flusher_pid, self._counts, self._latencies = process_id.current(), {}, {}
            threading.Thread(target=self._run, name="metrics-pending-hits", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.FLUSH_INTERVAL_SECONDS)
            _safely(self.flush)


_pending_hits = _PendingHits()


def record_response_cache_hit(route: str, status: int, seconds: float) -> None:
    """Counts a hit answered before Django, as record_request() counts one the middleware answered."""
    _pending_hits.add(route, status, seconds)


def flush_pending_hits() -> None:
    _safely(_pending_hits.flush)


# --- exposition ----------------------------------------------------------------------------------


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_NETWORKS]


def may_read(*, authorization: str, address: str) -> bool:
    token = settings.METRICS_TOKEN
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _allowed_networks())


def exposition() -> tuple[bytes, str]:
    """This server's metrics: every process's, when they share a multiprocess directory, and the
    values read at scrape time."""
    flush_pending_hits()  # this process's; the others' add theirs within a second
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(SharedStateCollector())
    return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST


class _ProcessRegistry(Collector):
    """The default registry (this process's series) inside a registry of the scrape's own."""

    def collect(self) -> Iterable[Any]:
        return prometheus_client.REGISTRY.collect()


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    from project.security.client_ip import client_ip

    if not enabled():
        return HttpResponseNotFound()
    if not may_read(authorization=request.META.get("HTTP_AUTHORIZATION", ""), address=client_ip(request)):
        return HttpResponseForbidden()
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)


# --- the values read at scrape time ----------------------------------------------------------------


class SharedStateCollector(Collector):
    """Gauges that need a query, read when Prometheus scrapes: each part is cheap (a count, a GROUP BY,
    one Redis pipeline, one query per replica) and a part that fails is logged and left out."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        errors = GaugeMetricFamily(
            "headroom_metrics_collector_errors", "1 when a part of the scrape-time collector failed.", labels=["part"]
        )
        for part in ("queues", "replicas", "outbox", "job_log"):
            try:
                families = list(getattr(self, f"_{part}")())  # whole, so a failing part leaves nothing half-read
            except Exception:
                logger.warning("metrics: collecting %s failed", part, exc_info=True)
                errors.add_metric([part], 1)
            else:
                errors.add_metric([part], 0)
                yield from families
        yield errors

    @staticmethod
    def _queues() -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("headroom_queue_depth", "Messages waiting in a queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "headroom_queue_oldest_message_age_seconds",
            "Age of the oldest message waiting in a queue (Redis broker only).",
            labels=["queue"],
        )
        broker: Any = dramatiq.get_broker()  # RedisBroker or RabbitmqBroker
        queues = sorted(broker.get_declared_queues())
        if hasattr(broker, "get_queue_message_counts"):  # RabbitMQ: counts only, a peek would take the message
            for queue in queues:
                depth.add_metric([queue], broker.get_queue_message_counts(queue)[0])
        else:
            client = broker.client
            with client.pipeline(transaction=False) as pipe:
                for queue in queues:
                    pipe.llen(f"{broker.namespace}:{queue}")
                    pipe.lindex(f"{broker.namespace}:{queue}", 0)
                replies = pipe.execute()
            oldest = {}
            for queue, length, first in zip(queues, replies[::2], replies[1::2], strict=True):
                depth.add_metric([queue], length)
                if first is not None:
                    oldest[queue] = first
            now = time.time()
            for queue, message_id in oldest.items():
                data = client.hget(f"{broker.namespace}:{queue}.msgs", message_id)
                if data is not None:
                    sent = dramatiq.Message.decode(data).message_timestamp / 1000
                    age.add_metric([queue], max(0.0, now - sent))
            for queue in queues:
                if queue not in oldest:
                    age.add_metric([queue], 0)
        yield depth
        yield age

    @staticmethod
    def _replicas() -> Iterator[GaugeMetricFamily]:
        from project.routing.routers import pool

        lag_seconds = GaugeMetricFamily("headroom_replica_lag_seconds", "Replay lag of a replica.", labels=["alias"])
        lag_bytes = GaugeMetricFamily(
            "headroom_replica_lag_bytes", "WAL bytes a replica has yet to replay.", labels=["alias"]
        )
        in_rotation = GaugeMetricFamily(
            "headroom_replica_in_rotation", "1 when reads may go to the replica.", labels=["alias"]
        )
        for alias in pool.aliases:
            pool.check(alias)
            health = pool.health(alias)
            lag_seconds.add_metric([alias], health.lag_seconds)
            lag_bytes.add_metric([alias], health.lag_bytes)
            in_rotation.add_metric([alias], 1 if pool.in_rotation(alias) else 0)
        yield lag_seconds
        yield lag_bytes
        yield in_rotation

    @staticmethod
    def _outbox() -> Iterator[GaugeMetricFamily]:
        from apps.core.models import OutboxMessage

        yield GaugeMetricFamily(
            "headroom_outbox_messages",
            "Job messages kept in the outbox because the broker was unreachable.",
            value=OutboxMessage.objects.count(),
        )

    @staticmethod
    def _job_log() -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count
        from django_dramatiq.models import Task

        rows = GaugeMetricFamily("headroom_job_log_rows", "Rows of the admin's job log, by status.", labels=["status"])
        counts = dict(Task.tasks.values_list("status").annotate(Count("id")).order_by())
        for status, _label in Task.STATUSES:
            rows.add_metric([status], counts.get(status, 0))
        yield rows


# --- job workers ---------------------------------------------------------------------------------


def worker_metrics_directory() -> Path:
    return Path(settings.METRICS_DIR) / f"worker-{settings.METRICS_WORKER_PORT}"


def use_multiprocess_directory(directory: Path) -> None:
    """Count into ``directory`` from now on, so that the process serving the metrics sees this one's.
    Series are created on their first ``labels()``, so setting it at boot takes effect for all."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    _use_multiprocess_values()
    remove_files_of_dead_processes(directory)


def remove_files_of_dead_processes(directory: Path) -> None:
    """What a process that has exited left behind (its files are named <kind>_<pid>.db): the
    directory would otherwise grow with every restart."""
    for path in directory.glob("*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)


class JobMetrics(Middleware):
    """Jobs enqueued, run, failed, retried and dead-lettered, and their duration, by actor and queue."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    @property
    def forks(self) -> list[Callable[[], int]]:
        # Asked in a worker process: the exposition runs in a process of its own (dramatiq's CLI forks it).
        return [serve_worker_metrics] if settings.METRICS_ENABLED and enabled() else []

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        if settings.METRICS_ENABLED and enabled():
            use_multiprocess_directory(worker_metrics_directory())

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if os.environ.get(MULTIPROC_ENV):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def after_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None) -> None:
        counter = jobs_retried if "retries" in message.options else jobs_enqueued
        _safely(lambda: counter.labels(message.actor_name, message.queue_name).inc())

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        started = self._started.pop(message.message_id, None)
        labels = (message.actor_name, message.queue_name)
        if started is not None:
            seconds = time.perf_counter() - started
            _safely(lambda: job_duration.labels(*labels).observe(seconds))
        _safely(lambda: jobs_processed.labels(*labels).inc())
        if exception is not None:
            _safely(lambda: jobs_failed.labels(*labels).inc())

    def after_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        _safely(lambda: jobs_dead_lettered.labels(message.actor_name, message.queue_name).inc())


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def worker_metrics_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The WSGI app of a worker's port: the same rule and the same exposition as /metrics."""
    from django.db import close_old_connections

    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    if not may_read(authorization=environ.get("HTTP_AUTHORIZATION", ""), address=environ.get("REMOTE_ADDR", "")):
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"forbidden\n"]
    try:
        body, content_type = exposition()
    finally:
        close_old_connections()  # no request_finished here to close them
    start_response("200 OK", [("Content-Type", content_type)])
    return [body]


def serve_worker_metrics() -> int:
    """A Dramatiq fork function: serves this worker's metrics on METRICS_WORKER_HOST:METRICS_WORKER_PORT."""
    import django

    django.setup()
    directory = worker_metrics_directory()
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    address = (settings.METRICS_WORKER_HOST, settings.METRICS_WORKER_PORT)
    try:
        server = make_server(*address, worker_metrics_app, ThreadingWSGIServer, handler_class=_QuietHandler)
    except OSError:
        logger.exception("metrics: cannot serve the worker's metrics on %s:%s", *address)
        return 1
    logger.info("metrics: serving the worker's metrics on http://%s:%s/metrics", *address)
    server.serve_forever()
    return 0
