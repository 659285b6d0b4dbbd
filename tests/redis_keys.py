"""The keys this test run's caches wrote: all under settings.CACHE_KEY_PREFIX, which the test
settings make unique per run, so runs side by side on one Redis never clear each other's."""

from __future__ import annotations

import redis
from django.conf import settings


def cache_keys(client: redis.Redis) -> list[bytes]:
    """Every key this run's caches wrote (the job queue, and other runs' keys, left out)."""
    return list(client.scan_iter(match=f"{settings.CACHE_KEY_PREFIX}:*", count=1000))


def forget_everything_cached(client: redis.Redis) -> None:
    """What a restart of a Redis without persistence does to the caches."""
    keys = cache_keys(client)
    if keys:
        client.unlink(*keys)


def response_cache_entries(client: redis.Redis) -> list[bytes]:
    """The response cache's entries, without its version tokens."""
    return [
        key
        for key in client.scan_iter(match=f"{settings.CACHE_KEY_PREFIX}:rc:*", count=1000)
        if not key.startswith(f"{settings.CACHE_KEY_PREFIX}:rc:tag:".encode())
    ]
