"""What the caching tests share: a look into the test Redis, and a count of query cache reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import redis
from cacheops.signals import cache_read
from django.conf import settings

from tests.redis_keys import cache_keys, forget_everything_cached  # noqa: F401 - used by the tests here


@pytest.fixture
def redis_db() -> redis.Redis:
    """A plain client on the test Redis db, to look at what the caches wrote (not through the breaker)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def response_cache_entries(client: redis.Redis) -> list[bytes]:
    """The response cache's entries, without its version tokens."""
    return [
        key for key in client.scan_iter(match=f"{settings.CACHE_KEY_PREFIX}:rc:*", count=1000)
        if not key.startswith(f"{settings.CACHE_KEY_PREFIX}:rc:tag:".encode())
    ]


@dataclass
class QueryCacheReads:
    """Every read of cacheops' query cache, from its ``cache_read`` signal."""

    hits: int = 0
    misses: int = 0
    models: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.hits = self.misses = 0
        self.models.clear()


@pytest.fixture
def query_cache_reads():
    reads = QueryCacheReads()

    def count(sender, func, hit, **kwargs) -> None:
        if hit:
            reads.hits += 1
        else:
            reads.misses += 1
        reads.models.append(getattr(sender, "__name__", str(sender)))

    cache_read.connect(count, dispatch_uid="tests-query-cache-reads")
    yield reads
    cache_read.disconnect(dispatch_uid="tests-query-cache-reads")
