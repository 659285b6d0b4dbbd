"""Response-cache hits from each process's memory, with Redis telling every process what changed.

Why: a hit at the WSGI front (project/caching/wsgi_front.py) costs one Redis round trip and little
else, and on a loaded machine that round trip is most of its price: the send, the receive, the
worker's sleep and wake-up, Redis's own CPU on the same cores. Measured with gunicorn and wrk
(docs/performance.md, "Hits from the worker's memory"), a cached product detail answered from
memory runs at 1.13-1.24x a minimal Django view, against 0.84x when each hit asks Redis.

How: Redis's server-assisted client-side caching (https://redis.io/docs/latest/develop/reference/client-side-caching/,
Redis 6 or newer) in broadcasting mode. Each process holds one connection of its own that asked
``CLIENT TRACKING ON REDIRECT <itself> BCAST PREFIX <the response cache's prefix>`` and then
subscribed to ``__redis__:invalidate``: Redis sends it the name of every response-cache key any
client changes, fills, deletes, expires or evicts (and a null for FLUSHDB/FLUSHALL), in the event
loop turn that changes it. Before each lookup the front reads what has arrived (one non-blocking
``recv``) and drops the copies those keys touch. A copy is the entry the front validated in Redis
(``response_cache.fetch``: the entry's tokens equal its tags' tokens), kept until a key it was
read from changes.

A copy is never answered when what guarantees it may be gone:

- the connection closed, failed, or read more than BACKLOG_BYTES at once (Redis may still hold
  the rest): every copy is dropped, and Redis is asked again;
- no answer to the connection's own PING (sent once a second while requests come) within
  LIVENESS_SECONDS: a connection dropped silently on the way delivers nothing;
- the circuit breaker is open, or an outage began since the copy was kept (project/caching/redis_guard.py):
  a write during an outage cannot invalidate; the outage probe trips it within about 0.75 s;
- Sentinel (REDIS_SENTINEL): after a failover, writes go to a server that tracks nothing for us;
  RESPONSE_CACHE_LOCAL_COPIES is then off (settings refuse it on).

The order that makes a copy current: a write's invalidation reaches every subscriber in the same
Redis event loop turn as the write's reply reaches the writer, so before the writer can answer its
client, and so before any request that follows from that answer reaches another process.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hiredis
import redis
from django.conf import settings

from project import process_id
from project.caching import redis_guard, response_cache

logger = logging.getLogger(__name__)

INVALIDATION_CHANNEL = b"__redis__:invalidate"
HEARTBEAT_SECONDS = 1.0  # a PING on the tracking connection at most this often, while requests come
LIVENESS_SECONDS = 2.0  # copies are answered only while a PING sent this recently was answered
RECONNECT_SECONDS = 1.0  # after a failure, Redis is asked directly for this long before reconnecting
BACKLOG_BYTES = 16 * 1024  # more than this at once: Redis may hold more; every copy is dropped
MAX_COPY_BYTES = 32 * 1024 * 1024  # the bodies a process keeps; all are dropped beyond
MAX_KEYS = 100_000  # the keys whose changes it watches for (entries and tags); all dropped beyond

_PING = b"*1\r\n$4\r\nPING\r\n"


@dataclass(frozen=True)
class _Copy:
    cached: dict[str, Any]
    ticket: int  # the breaker's when it was kept: an outage since makes it unusable
    expires_at: float
    size: int


class LocalCopies:
    """The response cache's valid entries in this process's memory, dropped as Redis reports changes."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.prefix = f"{settings.CACHE_KEY_PREFIX}:rc:"
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._sock: socket.socket | None = None
        self.client_id: int | None = None  # the tracking connection's, as CLIENT LIST shows it
        self._connection: Any = None  # redis-py's Connection, which made the socket
        self._reader = hiredis.Reader()
        self._reconnect_at = 0.0
        self._ping_sent_at: float | None = None  # the PING not answered yet
        self._answered_ping_sent_at = float("-inf")  # when the last answered PING was sent
        self._changes = 0  # invalidations applied so far: a lookup keeps its entry only if none came meanwhile
        self._copies: dict[str, _Copy] = {}
        self._dependents: dict[str, set[str]] = {}  # a key -> the copies read from it
        self._bytes = 0

    # --- the lookup ---------------------------------------------------------------------------

    def fetch(self, keys: response_cache.Keys) -> tuple[Any, dict[str, Any] | None]:
        """As ``response_cache.fetch``: from memory when this process holds a current copy."""
        redis_guard.probe.ensure_running()
        with self._lock:
            usable = self._ready()
            ticket = redis_guard.breaker.ticket()
            if usable and ticket is not None:
                copy = self._copies.get(keys.key)
                if copy is not None and copy.ticket == ticket and copy.expires_at > self.clock():
                    return None, copy.cached
            changes = self._changes
        lookup, cached = response_cache.fetch(keys)
        if cached is not None and usable and ticket is not None and redis_guard.breaker.trusts(ticket):
            with self._lock:
                # Any invalidation applied since the lookup began may concern what it read.
                if changes == self._changes and self._sock is not None:
                    self._keep(keys, cached, ticket)
        return lookup, cached

    # --- the tracking connection --------------------------------------------------------------

    def _ready(self) -> bool:
        """Whether copies may be answered now: connected, every change that arrived applied, alive."""
        if self._pid != process_id.current():  # forked: the parent's socket and copies are not ours
            self._pid, self._sock, self._connection = process_id.current(), None, None
            self._reset()
        now = self.clock()
        try:
            sock = self._sock
            if sock is None:
                # Not while the breaker knows Redis down: the probe, not a request, finds it back.
                if now < self._reconnect_at or redis_guard.breaker.ticket() is None:
                    return False
                sock = self._connect()
            self._drain(sock)
            if self._ping_sent_at is None and now - self._answered_ping_sent_at >= HEARTBEAT_SECONDS:
                sock.send(_PING)
                self._ping_sent_at = now
        except (OSError, redis.RedisError, hiredis.ProtocolError) as error:
            self._disconnect(error, was_answering=self._sock is not None)
            if isinstance(error, redis.ResponseError):  # no CLIENT TRACKING (Redis before 6): never again
                logger.warning("response cache: no hits from memory, Redis refused CLIENT TRACKING: %s", error)
                self._reconnect_at = float("inf")
            return False
        return now - self._answered_ping_sent_at < LIVENESS_SECONDS

    def _connect(self) -> socket.socket:
        connection: Any = response_cache.client.connection_pool.make_connection()
        connection.connect()
        self._connection = connection
        sock: socket.socket = connection._sock  # redis-py made it (TLS, AUTH, SELECT); it is read here only
        self._reset()
        self.client_id = client_id = self._command(sock, b"CLIENT", b"ID")
        tracking = (b"CLIENT", b"TRACKING", b"ON", b"REDIRECT", str(client_id).encode(), b"BCAST", b"PREFIX")
        self._command(sock, *tracking, self.prefix.encode())
        self._command(sock, b"SUBSCRIBE", INVALIDATION_CHANNEL)
        sock.setblocking(False)
        self._sock = sock
        self._ping_sent_at = None
        self._answered_ping_sent_at = self.clock()  # the replies above prove it alive now
        return sock

    def _command(self, sock: socket.socket, *parts: bytes) -> Any:
        sock.sendall(b"".join([b"*%d\r\n" % len(parts), *(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)]))
        while (reply := self._reader.gets()) is False:
            data = sock.recv(65536)
            if not data:
                raise redis.ConnectionError("Redis closed the tracking connection")
            self._reader.feed(data)
        if isinstance(reply, hiredis.ReplyError):
            raise redis.ResponseError(str(reply))
        return reply

    def _drain(self, sock: socket.socket) -> None:
        received = 0
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                break
            if not data:
                raise redis.ConnectionError("Redis closed the tracking connection")
            received += len(data)
            self._reader.feed(data)
        if not received:
            return
        if received > BACKLOG_BYTES:
            self._forget_all()  # what is still in Redis's output buffer is not read yet
        while (message := self._reader.gets()) is not False:
            self._apply(message)

    def _apply(self, message: Any) -> None:
        # RESP2 (a subscriber's messages) or RESP3 (push messages), as the client's protocol is.
        kind = message[0] if isinstance(message, list) and message else message
        if kind in (b"pong", b"PONG"):
            if self._ping_sent_at is not None:
                self._answered_ping_sent_at, self._ping_sent_at = self._ping_sent_at, None
        elif kind == b"message" and message[1] == INVALIDATION_CHANNEL:
            self._invalidate(message[2])
        elif kind == b"invalidate":
            self._invalidate(message[1])
        else:
            raise redis.ConnectionError(f"unexpected on the tracking connection: {message!r}")

    def _invalidate(self, keys: list[bytes] | None) -> None:
        self._changes += 1
        if keys is None:  # FLUSHDB, FLUSHALL
            self._forget_all()
            return
        for key in keys:
            for entry_key in self._dependents.pop(key.decode(), ()):
                self._drop(entry_key)

    def _disconnect(self, error: BaseException, *, was_answering: bool) -> None:
        from project.ops.metrics import count_response_cache_memory_off  # it imports the response cache

        if was_answering:  # a failed reconnection is not news: one line per outage, not per second
            logger.warning("response cache: hits from memory off, Redis asked instead: %r", error)
            count_response_cache_memory_off()
        if self._connection is not None:
            self._connection.disconnect()
        self._sock, self._connection = None, None
        self._reconnect_at = self.clock() + RECONNECT_SECONDS
        self._reset()

    def _reset(self) -> None:
        self._reader = hiredis.Reader()
        self._ping_sent_at = None
        self._answered_ping_sent_at = float("-inf")
        self._changes += 1
        self._forget_all()

    # --- the copies ---------------------------------------------------------------------------

    def _keep(self, keys: response_cache.Keys, cached: dict[str, Any], ticket: int) -> None:
        size = len(cached["body"])
        if self._bytes + size > MAX_COPY_BYTES or len(self._dependents) > MAX_KEYS:
            self._forget_all()
        self._drop(keys.key)
        expires_at = self.clock() + settings.RESPONSE_CACHE_TTL
        self._copies[keys.key] = _Copy(cached=cached, ticket=ticket, expires_at=expires_at, size=size)
        self._bytes += size
        for key in (keys.key, *keys.tag_keys):  # a change to any of them drops it
            self._dependents.setdefault(key, set()).add(keys.key)

    def _drop(self, entry_key: str) -> None:
        copy = self._copies.pop(entry_key, None)
        if copy is not None:
            self._bytes -= copy.size

    def _forget_all(self) -> None:
        self._copies.clear()
        self._dependents.clear()
        self._bytes = 0


def local_copies() -> LocalCopies | None:
    """This process's copies, or None where they are off (RESPONSE_CACHE_LOCAL_COPIES)."""
    return LocalCopies() if settings.RESPONSE_CACHE_LOCAL_COPIES else None
