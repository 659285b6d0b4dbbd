"""The stage as configured: which of the variables that move the kit up a stage are in effect, and
how many job workers report in (their heartbeat, project/jobs/broker.py WorkerHeartbeat)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

import redis
from django.conf import settings

from project.jobs.broker import workers_key

# The variables of docs/stages.md, in the order of the stages.
STAGE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "BROKER_URL",
    "CDN_URL",
    "DATABASE_REPLICA_URLS",
    "MEDIA_S3_BUCKET",
)


def replica_aliases() -> list[str]:
    """The replicas DATABASE_REPLICA_URLS configured. From DATABASES, not DATABASE_REPLICAS: the test
    process empties the latter so that it reads the primary only (project/test_settings.py)."""
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


def variables_in_effect() -> dict[str, bool]:
    """Whether each is set to something beyond its stage 1 default, read from the settings they produced."""
    return {
        "DATABASE_URL": settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "REDIS_URL": not hasattr(settings, "EMBEDDED_REDIS_DIR"),
        "BROKER_URL": settings.BROKER_URL != settings.REDIS_URL,
        "CDN_URL": bool(settings.CDN_URL),
        "DATABASE_REPLICA_URLS": bool(replica_aliases()),
        "MEDIA_S3_BUCKET": bool(settings.MEDIA_S3_BUCKET),
    }


@dataclass(frozen=True)
class WorkersReading:
    processes: int  # whose last heartbeat is within WORKER_HEARTBEAT_TIMEOUT
    machines: int


def read_workers() -> WorkersReading:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        members = cast(
            list[bytes], client.zrangebyscore(workers_key(), time.time() - settings.WORKER_HEARTBEAT_TIMEOUT, "+inf")
        )
    finally:
        client.close()
    # Members are "<host>:<pid>" (project/jobs/broker.py WorkerHeartbeat).
    return WorkersReading(processes=len(members), machines=len({member.rsplit(b":", 1)[0] for member in members}))
