"""Redis Sentinel: every Redis client of the kit finds the master through the sentinels.

Set REDIS_SENTINELS=host1:26379,host2:26379 and REDIS_SENTINEL_MASTER=mymaster (docs/reliability.md).
project/settings.py reads them into REDIS_SENTINEL, and REDIS_URL then names the master
(redis://[:password@]mymaster/db). django-redis and cacheops take Sentinel in their settings;
the others get their client from ``redis_client``: the outage probe, /readyz, the scheduler's
lock and the Dramatiq broker. A client asks the sentinels for the master's address each time it
connects, so after a failover its next connection reaches the promoted replica, with no restart.

Nothing connects until a command is sent: building these clients in settings starts nothing.
"""

from __future__ import annotations

from typing import Any, TypedDict
from urllib.parse import unquote, urlsplit

import redis
from django.core.exceptions import ImproperlyConfigured
from redis.sentinel import Sentinel

DEFAULT_SENTINEL_PORT = 26379


class SentinelSettings(TypedDict):
    sentinels: list[tuple[str, int]]
    master: str
    # The sentinels' own settings (their password, timeouts), apart from the master's.
    sentinel_kwargs: dict[str, Any]


def parse_sentinels(value: str) -> list[tuple[str, int]]:
    """``"s1:26379, s2"`` -> ``[("s1", 26379), ("s2", 26379)]``; IPv6 hosts in brackets: ``[::1]:26379``."""
    sentinels = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        address = urlsplit(f"//{item}")
        try:
            port = address.port or DEFAULT_SENTINEL_PORT
        except ValueError as error:
            raise ImproperlyConfigured(f"REDIS_SENTINELS: {item!r} is not host:port") from error
        if not address.hostname:
            raise ImproperlyConfigured(f"REDIS_SENTINELS: {item!r} is not host:port")
        sentinels.append((address.hostname, port))
    return sentinels


def master_client(
    url: str, *, sentinel: SentinelSettings, redis_class: type[redis.Redis] = redis.Redis, **connection_kwargs: Any
) -> redis.Redis:
    """A client of the current master, with the database and password of ``url`` (redis://[:pw@]master/db)."""
    parts = urlsplit(url)
    manager = Sentinel(sentinel["sentinels"], sentinel_kwargs=sentinel["sentinel_kwargs"], **connection_kwargs)  # type: ignore[no-untyped-call]
    return manager.master_for(  # type: ignore[no-any-return,no-untyped-call]
        sentinel["master"],
        redis_class=redis_class,
        db=int(parts.path.strip("/") or 0),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def redis_client(url: str, *, redis_class: type[redis.Redis] = redis.Redis, **connection_kwargs: Any) -> redis.Redis:
    """A client of the Redis at ``url``: through the sentinels when REDIS_SENTINEL is set."""
    from django.conf import settings

    if settings.REDIS_SENTINEL:
        return master_client(url, sentinel=settings.REDIS_SENTINEL, redis_class=redis_class, **connection_kwargs)
    return redis_class.from_url(url, **connection_kwargs)


class ReplicatedWritesRedis(redis.Redis):
    """The Dramatiq broker's client with Sentinel: an enqueue returns only once a replica has the
    message (WAIT, on the same connection), else raises, and the message goes to the outbox
    (apps/core/jobs.py). So a message a client was told is enqueued survives the master's loss: the
    sentinels promote the replica that is furthest ahead. With no replica connected there is nothing
    to fail over to, and an enqueue is not held up."""

    wait_timeout_ms = 200  # well under BROKER_TIMEOUT, the socket timeout

    def execute_command(self, *args: Any, **options: Any) -> Any:
        # Dramatiq sends every operation through one Lua script: EVALSHA sha 1 namespace <operation> ...
        if args[0] != "EVALSHA" or len(args) < 5 or args[4] != "enqueue":
            return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        pipe = self.pipeline(transaction=False)
        pipe.execute_command(*args, **options)  # type: ignore[no-untyped-call]
        pipe.execute_command("WAIT", 1, self.wait_timeout_ms)  # type: ignore[no-untyped-call]
        result, replicated = pipe.execute()
        if not replicated and self.info("replication")["connected_slaves"]:
            raise redis.ConnectionError(f"no Redis replica took the message within {self.wait_timeout_ms} ms")
        return result


def broker_client(url: str, *, sentinel: SentinelSettings, timeout: float) -> redis.Redis:
    """The Dramatiq Redis broker's client (its ``client=`` option) through the sentinels."""
    return master_client(
        url,
        sentinel=sentinel,
        redis_class=ReplicatedWritesRedis,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )


def install_scheduler_lock() -> None:
    """dramatiq-crontab builds its lock from a plain URL; with Sentinel, the same lock on the master."""
    from django.conf import settings
    from dramatiq_crontab import utils
    from dramatiq_crontab.conf import get_settings

    if not settings.REDIS_SENTINEL:
        return
    crontab = get_settings()
    utils.lock = redis_client(settings.REDIS_URL).lock(
        "dramatiq-scheduler",
        blocking_timeout=crontab.LOCK_BLOCKING_TIMEOUT,
        timeout=crontab.LOCK_TIMEOUT,
        thread_local=False,
    )
