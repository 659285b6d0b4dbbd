"""Read-your-writes across requests, by WAL position (after GitLab's database load balancer).

- A request with an unsafe method (POST, PUT, PATCH, DELETE) reads the primary from start to
  end. If it succeeded, the primary's WAL position after it is remembered in Redis for
  REPLICA_STICKY_SECONDS, under every identity of the client: its credential (the token or
  the session cookie, hashed) and its IP address. The IP is what covers a client that signs up,
  then fetches a token, then reads with that token: the credential is new, the address is not.
- Any later request of that client reads only from replicas that have replayed up to the
  remembered position (one MGET per request), else from the primary.
- If a replica fails in the middle of a safe request, the replica leaves rotation and the view
  runs once more on the primary, so the client never sees the failure.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django_redis import get_redis_connection

from project.ops.metrics import count_read_your_writes_pin
from project.routing import routers

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_keys(request: HttpRequest) -> list[str]:
    """The Redis keys under which this client's last write position is kept."""
    identities = []
    credential = request.META.get("HTTP_AUTHORIZATION") or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if credential:
        identities.append("cred:" + hashlib.sha256(credential.encode()).hexdigest()[:32])
    identities.append("ip:" + (request.META.get("REMOTE_ADDR") or "unknown"))
    return [f"{settings.CACHE_KEY_PREFIX}:ryw:{identity}" for identity in identities]


def remembered_lsn(request: HttpRequest) -> int | None:
    """Raises redis.RedisError when Redis cannot say."""
    values = get_redis_connection("default").mget(client_keys(request))
    return max((int(value) for value in values if value), default=None)


def remember_lsn(request: HttpRequest, lsn: int) -> None:
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for key in client_keys(request):
            pipe.set(key, lsn, ex=settings.REPLICA_STICKY_SECONDS)
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("read-your-writes: could not remember the write position: %s", error)


# Marks a request already run again on the primary, so a second failure is not retried.
RETRIED_ON_PRIMARY = "headroom.retried_on_primary"


class ReadYourWritesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        if request.method not in SAFE_METHODS:
            count_read_your_writes_pin("write")
            with routers.routing(pinned_to_primary=True):
                response = self.get_response(request)
            if response.status_code < 400:
                try:
                    lsn = routers.primary_wal_lsn()
                except DatabaseError as error:
                    # The primary was lost after the commit: the client still gets its answer.
                    logger.warning("read-your-writes: could not read the write position: %s", error)
                    lsn = None
                if lsn is not None:
                    remember_lsn(request, lsn)
            if settings.DATABASE_ROUTE_HEADER:
                response["X-DB-Reads"] = routers.PRIMARY
            return response
        try:
            min_lsn = remembered_lsn(request)
        except redis.RedisError:
            # Without Redis we cannot know what this client wrote: the primary is always right.
            count_read_your_writes_pin("redis_down")
            routing = routers.routing(pinned_to_primary=True)
        else:
            if min_lsn is not None:
                count_read_your_writes_pin("remembered")
            routing = routers.routing(min_lsn=min_lsn)
        with routing:
            response = self.get_response(request)
            used = routers.current_state().replicas_used
        if settings.DATABASE_ROUTE_HEADER:
            response["X-DB-Reads"] = ",".join(sorted(used)) or routers.PRIMARY
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A replica failed mid-request: take it out of rotation and run the view again on the primary."""
        if request.method not in SAFE_METHODS or not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        failed = routers.current_state().replicas_used
        match = request.resolver_match
        if not failed or match is None or request.META.get(RETRIED_ON_PRIMARY):
            return None
        for alias in failed:
            routers.pool.mark_down(alias, exception)
        routers.forget_replicas_used()
        request.META[RETRIED_ON_PRIMARY] = True
        with routers.use_primary():
            response: HttpResponse = match.func(request, *match.args, **match.kwargs)
            return response
