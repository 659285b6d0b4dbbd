"""Every Redis client of the web tier goes through one per-process circuit breaker.

Why: a Redis that is down, or frozen (accepting connections but never answering), must cost
a request at most one socket timeout, and then nothing while it stays down. And a write
made while Redis was unreachable could not invalidate what Redis holds; so when Redis comes
back, this process drops the caches before it trusts them again (``on_recovery``).

The clients that use it: django-redis (REDIS_CLIENT_CLASS), cacheops (CACHEOPS_CLIENT_CLASS)
and the response cache. Timeouts come from REDIS_SOCKET_TIMEOUT / REDIS_SOCKET_CONNECT_TIMEOUT.

Every process that uses Redis also runs ``OutageProbe``, a thread that PINGs it a few times a
second: a process that made no call of its own during an outage (an idle worker) must notice
it too, because another process's writes during it could not invalidate.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from project import process_id

logger = logging.getLogger(__name__)


class RedisUnavailable(redis.ConnectionError):
    """Raised without touching the network while the breaker is open, and by a call whose answer may
    predate the caches being dropped after an outage (so it must not be used): the first call after
    it, any call sent during it, and any other thread's call while the caches are being dropped."""


class RedisCircuitBreaker:
    def __init__(self, *, cooldown_seconds: float) -> None:
        self.cooldown_seconds = cooldown_seconds
        self._open_until = 0.0
        self._down_since: float | None = None
        self._outages = 0  # how many have begun: an answer to a call that spans the start of one is not used
        self._recovering_thread: int | None = None  # the thread dropping the caches; only its answers are used
        self._recovery_callbacks: list[Callable[[], None]] = []
        self._state_listeners: list[Callable[..., None]] = []  # called with is_open=True at a trip, False at recovery
        self._lock = threading.Lock()

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def allows_a_call(self) -> bool:
        return time.monotonic() >= self._open_until

    def ticket(self) -> int | None:
        """Taken before a call; None when its answer cannot be trusted whatever happens next."""
        if self._down_since is not None:
            return None
        recovering = self._recovering_thread
        if recovering is not None and recovering != threading.get_ident():
            return None
        return self._outages

    def trusts(self, ticket: int | None) -> bool:
        """Whether the answer to a call that took ``ticket`` may be used: no outage began meanwhile."""
        return ticket is not None and ticket == self._outages and self.ticket() is not None

    def record_failure(self, error: Exception) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self.cooldown_seconds
            tripped = self._down_since is None
            if tripped:
                self._down_since = time.monotonic()
                self._outages += 1
                logger.warning("Redis unreachable (%s); serving without cache for now", error)
        if tripped:
            self._tell_listeners(is_open=True)

    def record_success(self) -> bool:
        """True when this success ends an outage: the recovery callbacks have just run."""
        if self._down_since is None:  # the hot path: one attribute read
            return False
        with self._lock:
            if self._down_since is None:
                return False
            outage = time.monotonic() - self._down_since
            self._down_since = None
            self._open_until = 0.0  # the caches are dropped through the same clients, right now
            self._recovering_thread = threading.get_ident()
        self._tell_listeners(is_open=False)
        logger.warning("Redis is back after %.1f s; dropping caches written before the outage", outage)
        try:
            for callback in self._recovery_callbacks:
                callback()
        except redis.RedisError as error:
            self.record_failure(error)
        finally:
            self._recovering_thread = None
        return True

    def on_recovery(self, callback: Callable[[], None]) -> None:
        self._recovery_callbacks.append(callback)

    def on_state_change(self, listener: Callable[..., None]) -> None:
        """``listener(is_open=...)`` when an outage begins (True) and when it ends (False): the metrics."""
        if listener not in self._state_listeners:
            self._state_listeners.append(listener)

    def _tell_listeners(self, *, is_open: bool) -> None:
        for listener in self._state_listeners:
            listener(is_open=is_open)

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0
            self._down_since = None
            self._recovering_thread = None


breaker = RedisCircuitBreaker(cooldown_seconds=2.0)


class OutageProbe:
    """One daemon thread per process (started again after a fork) that PINGs Redis every
    ``interval_seconds``, so the breaker of this process opens during any outage longer than about
    interval + socket timeout; and, PINGing through the cooldown too, ends the outage (dropping
    the caches) within one interval of Redis answering again."""

    def __init__(self, *, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self.paused = False  # for tests that drive a breaker by hand
        self._pid: int | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="redis-outage-probe", daemon=True).start()

    def _run(self) -> None:
        from django.conf import settings

        from project.caching.redis_sentinel import redis_client

        client = redis_client(
            settings.REDIS_URL,
            redis_class=ProbingRedis,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_SOCKET_CONNECT_TIMEOUT,
        )
        while True:
            if not self.paused:
                with contextlib.suppress(redis.RedisError):  # the breaker has recorded it
                    client.ping()
            time.sleep(self.interval_seconds)


probe = OutageProbe(interval_seconds=0.25)


class GuardedRedis(redis.Redis):
    """redis.Redis that fails fast while the breaker is open and reports to it."""

    # Only the outage probe calls while the breaker is open: it is the breaker's half-open call.
    calls_while_open = False

    def execute_command(self, *args: Any, **options: Any) -> Any:
        probe.ensure_running()
        if not self.calls_while_open and not breaker.allows_a_call():
            raise RedisUnavailable("Redis circuit open")
        ticket = breaker.ticket()
        try:
            result = super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except (redis.ConnectionError, redis.TimeoutError) as error:
            breaker.record_failure(error)
            raise
        if breaker.record_success() or not breaker.trusts(ticket):
            raise RedisUnavailable("an answer that may predate the caches being dropped is discarded")
        return result


class OneConnectionGuardedRedis(GuardedRedis):
    """GuardedRedis on one connection per process, for cacheops and the response cache where no Sentinel
    manages connections.

    A pool checks the process id and polls the socket before every command: system calls, which
    were a sixth of a response-cache hit's CPU, and the token check of every signed-in request
    makes one such command. Threads share the connection under redis-py's lock. The connection is
    made by the first command, so a Redis that is down fails there, where the breaker sees it, and
    again after a fork, so that no two processes share a socket.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("single_connection_client", None)
        super().__init__(*args, **kwargs)
        self._single_connection_client = True  # redis-py then holds its lock around each command
        self._connection_pid: int | None = None

    def _execute_command(self, *args: Any, **options: Any) -> Any:
        if self._connection_pid != process_id.current():
            with self.single_connection_lock:
                if self._connection_pid != process_id.current():
                    self.connection = self.connection_pool.get_connection()
                    self._connection_pid = process_id.current()
        return super()._execute_command(*args, **options)  # type: ignore[no-untyped-call]


class ProbingRedis(GuardedRedis):
    calls_while_open = True
