"""Redis's INFO: hit ratio, memory against maxmemory, evictions (counters since Redis started), version."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from django.conf import settings


@dataclass(frozen=True)
class RedisReading:
    hits: int
    misses: int
    used_memory: int
    maxmemory: int  # 0: no limit
    evicted_keys: int
    uptime_seconds: int
    version: str = ""

    @property
    def tracks_clients(self) -> bool:
        """Whether it has CLIENT TRACKING (Redis 6+), which hits from memory need."""
        major = self.version.split(".", 1)[0]
        return major.isdigit() and int(major) >= 6

    @property
    def hit_ratio(self) -> float | None:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


def read_redis() -> RedisReading:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        info = client.info()
    finally:
        client.close()
    return RedisReading(
        hits=int(info["keyspace_hits"]),
        misses=int(info["keyspace_misses"]),
        used_memory=int(info["used_memory"]),
        maxmemory=int(info.get("maxmemory", 0)),
        evicted_keys=int(info["evicted_keys"]),
        uptime_seconds=int(info["uptime_in_seconds"]),
        version=str(info.get("redis_version", "")),
    )
