"""Server-Timing: what a request cost, in a header browsers' devtools show (Network › Timing).

    Server-Timing: db;dur=3.2;desc="4 queries", cache;desc="2 hits 1 miss", app;dur=12.5

- ``db``: time in SQL and the number of queries, over every database alias (the primary and each
  replica), counted by an ``execute_wrapper`` installed on each connection for this request only.
- ``cache``: reads of cacheops' query cache (its ``cache_read`` signal), hits and misses.
- ``response-cache;desc="hit"``: the response cache (project/caching/response_cache.py) answered, before
  sessions, auth and the view ran; then ``db`` and ``cache`` are 0 by construction.
- ``app``: the whole request below this middleware, in milliseconds.

A request's numbers live in a context variable and in wrappers on its own thread's connections,
so concurrent requests (threads or asyncio tasks) never mix. Settings add the middleware only
when SERVER_TIMING is on, so when off none of this runs, not even the signal receiver.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from cacheops.signals import cache_read
from django.db import connections
from django.http import HttpRequest, HttpResponse

from project.caching.response_cache import answered_from_cache
from project.ops.doctor.sources.postgres import READ_KINDS, WRITE_KINDS, statement_kind

HEADER = "Server-Timing"


@dataclass
class RequestCost:
    db_seconds: float = 0.0
    queries: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    # Per database alias (the ops page's read share): statements that read, and that write.
    reads_by_alias: dict[str, int] = field(default_factory=dict)
    writes_by_alias: dict[str, int] = field(default_factory=dict)

    def count_query(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        """A connection execute_wrapper (https://docs.djangoproject.com/en/5.2/topics/db/instrumentation/)."""
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.db_seconds += time.perf_counter() - start
            self.queries += 1
            kind = statement_kind(sql)
            counts = (
                self.reads_by_alias if kind in READ_KINDS else self.writes_by_alias if kind in WRITE_KINDS else None
            )
            if counts is not None:
                alias = context["connection"].alias
                counts[alias] = counts.get(alias, 0) + 1


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


def count_cache_reads() -> None:
    """Connected by the middlewares that measure, not in ready(): with neither on, no receiver costs a
    cache read anything."""
    cache_read.connect(_count_cache_read, dispatch_uid="headroom-server-timing")


@contextmanager
def measuring() -> Iterator[RequestCost]:
    """This request's cost; nested (the ops recorder around Server-Timing), the outer one's."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    cost = RequestCost()
    token = _current.set(cost)
    try:
        with ExitStack() as stack:
            # Every alias, replicas included; a connection object is per thread (or per asyncio
            # context), so the wrapper sees only this request's queries. Nothing connects here.
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(cost.count_query))
            yield cost
    finally:
        _current.reset(token)


class ServerTimingMiddleware:
    # Sync only, like the middlewares after it (response cache, read-your-writes): under ASGI
    # Django runs the whole chain in a thread, so an async path here would never be taken.
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        count_cache_reads()

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
