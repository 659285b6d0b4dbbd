"""Server-Timing: what a request cost, in a header browsers' devtools show (Network › Timing).

    Server-Timing: db;dur=3.2;desc="4 queries", cache;desc="2 hits 1 miss", app;dur=12.5

- ``db``: time in SQL and the number of queries, over every database alias (the primary and each
  replica), counted by an ``execute_wrapper`` on each connection for the request in its context.
- ``cache``: reads of cacheops' query cache (its ``cache_read`` signal), hits and misses.
- ``response-cache;desc="hit"``: the response cache (project/caching/response_cache.py) answered, before
  sessions, auth and the view ran; then ``db`` and ``cache`` are 0 by construction.
- ``app``: the whole request below this middleware, in milliseconds.

A request's numbers live in a context variable, read by the wrappers on its own thread's
connections, so concurrent requests (threads or asyncio tasks) never mix. Settings add the middleware only
when SERVER_TIMING is on, so when off none of this runs, not even the signal receiver.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from cacheops.signals import cache_read
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse

from project.caching.response_cache import answered_from_cache

HEADER = "Server-Timing"


@dataclass
class SqlCost:
    """The statements of one request on one database alias, reads (SELECT) or writes (anything else)."""

    queries: int = 0
    seconds: float = 0.0


# A statement's first keyword: reads, and writes (anything else, DDL included, counts as a write).
READ_KINDS = ("select", "with")
WRITE_KINDS = ("insert", "update", "delete", "merge", "copy")


def statement_keyword(sql: str) -> str:
    return sql.lstrip("( ").split(" ", 1)[0].lower()


def statement_kind(sql: str) -> str:
    return "read" if statement_keyword(sql) in READ_KINDS else "write"


@dataclass
class RequestCost:
    cache_hits: int = 0
    cache_misses: int = 0
    # (alias, "read" | "write") -> its cost; the metrics (project/ops/metrics.py) export it as is.
    sql: dict[tuple[str, str], SqlCost] = field(default_factory=dict)

    @property
    def queries(self) -> int:
        return sum(cost.queries for cost in self.sql.values())

    @property
    def db_seconds(self) -> float:
        return sum(cost.seconds for cost in self.sql.values())

    @property
    def reads_by_alias(self) -> dict[str, int]:
        return {alias: cost.queries for (alias, kind), cost in self.sql.items() if kind == "read"}

    @property
    def writes_by_alias(self) -> dict[str, int]:
        return {alias: cost.queries for (alias, kind), cost in self.sql.items() if kind == "write"}

    def count_query(self, *, alias: str, sql: str, seconds: float) -> None:
        cost = self.sql.setdefault((alias, statement_kind(sql)), SqlCost())
        cost.seconds += seconds
        cost.queries += 1


_current: ContextVar[RequestCost | None] = ContextVar("server_timing_request_cost", default=None)


def _count_cache_read(sender: Any, func: Any, hit: bool, **kwargs: Any) -> None:
    cost = _current.get()
    if cost is None:
        return  # a read outside a request (a job, a shell) or in a thread the request started
    if hit:
        cost.cache_hits += 1
    else:
        cost.cache_misses += 1


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def header_value(cost: RequestCost, *, app_seconds: float, response_cache_hit: bool) -> str:
    metrics = [
        f'db;dur={cost.db_seconds * 1000:.1f};desc="{_plural(cost.queries, "query", "queries")}"',
        f'cache;desc="{_plural(cost.cache_hits, "hit", "hits")} {_plural(cost.cache_misses, "miss", "misses")}"',
    ]
    if response_cache_hit:
        metrics.append('response-cache;desc="hit"')
    metrics.append(f"app;dur={app_seconds * 1000:.1f}")
    return ", ".join(metrics)


def _count_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """A connection execute_wrapper (https://docs.djangoproject.com/en/5.2/topics/db/instrumentation/)
    on every connection, for good: it counts only inside ``measuring()``, whose request is the one
    in this context (a connection object is per thread or asyncio context)."""
    cost = _current.get()
    if cost is None:
        return execute(sql, params, many, context)
    start = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        cost.count_query(alias=context["connection"].alias, sql=sql, seconds=time.perf_counter() - start)


def _wrap(connection: BaseDatabaseWrapper) -> None:
    if _count_query not in connection.execute_wrappers:
        # First, not last: a `with connection.execute_wrapper(...)` block pops the last one on exit.
        connection.execute_wrappers.insert(0, _count_query)


def _wrap_new_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    _wrap(connection)


def start_measuring() -> None:
    """Called by the middlewares that measure, not in ready(): with none of them on, no receiver costs
    a query or a cache read anything."""
    cache_read.connect(_count_cache_read, dispatch_uid="headroom-server-timing")
    install_query_counting()


def install_query_counting() -> None:
    """Once per process, by the middlewares that measure: a wrapper installed per request would cost
    every request a pass over every alias, with metrics always on."""
    connection_created.connect(_wrap_new_connection, dispatch_uid="headroom-query-counting")
    for connection in connections.all(initialized_only=True):
        _wrap(connection)


@contextmanager
def measuring() -> Iterator[RequestCost]:
    """What the request costs; the middleware that is outermost measures, one nested in it (Server-Timing
    inside the metrics) shares the same numbers instead of counting every query twice."""
    cost = _current.get()
    if cost is not None:
        yield cost
        return
    cost = RequestCost()
    token = _current.set(cost)
    try:
        yield cost
    finally:
        _current.reset(token)


class ServerTimingMiddleware:
    # Sync only, like the middlewares after it (response cache, read-your-writes): under ASGI
    # Django runs the whole chain in a thread, so an async path here would never be taken.
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        start_measuring()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        with measuring() as cost:
            response = self.get_response(request)
        return self._with_header(request, response, cost, time.perf_counter() - start)

    @staticmethod
    def _with_header(
        request: HttpRequest, response: HttpResponse, cost: RequestCost, app_seconds: float
    ) -> HttpResponse:
        response[HEADER] = header_value(cost, app_seconds=app_seconds, response_cache_hit=answered_from_cache(request))
        return response
