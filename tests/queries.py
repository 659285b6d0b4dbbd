"""Query budgets, after Zulip's assert_database_query_count: one helper counts the queries of a
block and, when the count is wrong, fails with every query's SQL, numbered.

    with assert_queries(2):  # the token with its user, the page
        response = client.get(url)

    assert_constant_queries(lambda count: ProductFactory.create_batch(count), lambda: client.get(url), budget=1)

Where caching is the point, assert_query_cache_reads() counts cacheops' hits and misses too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from cacheops.signals import cache_read
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

T = TypeVar("T")


class CapturedQueries:
    """The queries a block ran on each alias; ``captured_queries`` as Django's context has them,
    each with its ``alias``."""

    def __init__(self, captures: dict[str, CaptureQueriesContext]) -> None:
        self._captures = captures

    @property
    def captured_queries(self) -> list[dict[str, Any]]:
        return [
            {**query, "alias": alias} for alias, capture in self._captures.items() for query in capture.captured_queries
        ]

    def __len__(self) -> int:
        return sum(len(capture) for capture in self._captures.values())

    def numbered_sql(self) -> str:
        return (
            "\n".join(
                f"{number}. [{query['alias']}] {query['sql']}" for number, query in enumerate(self.captured_queries, 1)
            )
            or "(none)"
        )


@contextmanager
def capture_queries(using: str | Iterable[str] = DEFAULT_DB_ALIAS) -> Iterator[CapturedQueries]:
    aliases = [using] if isinstance(using, str) else list(using)
    with ExitStack() as stack:
        captures = {alias: stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in aliases}
        yield CapturedQueries(captures)


@contextmanager
def assert_queries(expected: int, *, using: str | Iterable[str] = DEFAULT_DB_ALIAS) -> Iterator[CapturedQueries]:
    """The block runs ``expected`` queries, counted over every alias in ``using`` (a replica's too)."""
    with capture_queries(using) as captured:
        yield captured
    if len(captured) != expected:
        pytest.fail(f"expected {expected} queries, ran {len(captured)}:\n{captured.numbered_sql()}")


def assert_constant_queries(
    add_rows: Callable[[int], object],
    request: Callable[[], T],
    *,
    budget: int,
    sizes: Sequence[int] = (1, 50),
    using: str | Iterable[str] = DEFAULT_DB_ALIAS,
) -> dict[int, T]:
    """An N+1 check: ``request()`` runs ``budget`` queries with ``sizes[0]`` rows, and the same once
    ``add_rows(count)`` has added rows up to each next size. Returns what each request returned, by size."""
    aliases = [using] if isinstance(using, str) else list(using)
    results: dict[int, T] = {}
    captured: dict[int, CapturedQueries] = {}
    made = 0
    for size in sizes:
        add_rows(size - made)
        made = size
        with capture_queries(aliases) as captured[size]:
            results[size] = request()
    if any(len(queries) != budget for queries in captured.values()):
        pytest.fail(
            f"expected {budget} queries at every size:\n"
            + "\n".join(
                f"--- {size} rows: {len(queries)} queries\n{queries.numbered_sql()}"
                for size, queries in captured.items()
            )
        )
    return results


@dataclass
class QueryCacheReads:
    """Every read of cacheops' query cache, from its ``cache_read`` signal."""

    hits: int = 0
    misses: int = 0
    reads: list[str] = field(default_factory=list)


@contextmanager
def assert_query_cache_reads(*, hits: int, misses: int = 0) -> Iterator[QueryCacheReads]:
    """The block reads cacheops' query cache ``hits`` times from Redis, and misses it ``misses`` times."""
    counted = QueryCacheReads()

    def count(sender, func, hit, **kwargs) -> None:
        if hit:
            counted.hits += 1
        else:
            counted.misses += 1
        counted.reads.append(f"{'hit' if hit else 'miss'} {getattr(sender, '__name__', sender)}")

    cache_read.connect(count, dispatch_uid="tests-query-cache-reads")
    try:
        yield counted
    finally:
        cache_read.disconnect(dispatch_uid="tests-query-cache-reads")
    if (counted.hits, counted.misses) != (hits, misses):
        pytest.fail(
            f"expected {hits} query cache hits and {misses} misses, got {counted.hits} and {counted.misses}: "
            f"{counted.reads}"
        )
