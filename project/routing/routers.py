"""Where a read is routed: the primary, or a healthy replica that has replayed far enough.

Writes, migrations, transactions and ``select_for_update`` always use the primary ("default").
A read goes to a replica unless:

- routing is pinned to the primary: ``use_primary()`` (context manager or decorator), or a
  request with an unsafe method (project/routing/read_your_writes.py pins the whole request);
- the primary is inside a transaction (reads in an atomic block must see its writes);
- no replica is healthy, or none has replayed up to ``min_lsn``, the WAL position that this
  client (or this job) must see: read-your-writes.

Routing state lives in a ContextVar: per thread and per asyncio task, reset after each request
and each job, so it never leaks from one to the next.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

PRIMARY = "default"


def parse_lsn(text: str | None) -> int | None:
    """'16/B374D848' -> an int that orders like the WAL position."""
    if not text:
        return None
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(frozen=True)
class RoutingState:
    pinned_to_primary: bool = False
    min_lsn: int | None = None
    replicas_used: frozenset[str] = field(default_factory=frozenset)


_state: contextvars.ContextVar[RoutingState] = contextvars.ContextVar("db_routing", default=RoutingState())


def current_state() -> RoutingState:
    return _state.get()


@contextmanager
def routing(*, pinned_to_primary: bool | None = None, min_lsn: int | None = None) -> Iterator[None]:
    """Set routing for the block and restore what was there before, whatever happens."""
    state = _state.get()
    token = _state.set(
        replace(
            state,
            pinned_to_primary=state.pinned_to_primary if pinned_to_primary is None else pinned_to_primary,
            min_lsn=max(filter(None, (state.min_lsn, min_lsn)), default=None),
        )
    )
    try:
        yield
    finally:
        _state.reset(token)


class use_primary(ContextDecorator):  # lower case: reads as a statement, `with use_primary():`
    """Force every read in the block (or the decorated function) onto the primary."""

    def __enter__(self) -> None:
        self._routing = routing(pinned_to_primary=True)
        self._routing.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._routing.__exit__(*exc)


def _note_replica_used(alias: str) -> None:
    state = _state.get()
    if alias not in state.replicas_used:
        _state.set(replace(state, replicas_used=state.replicas_used | {alias}))


def forget_replicas_used() -> None:
    _state.set(replace(_state.get(), replicas_used=frozenset()))


@dataclass
class ReplicaHealth:
    replay_lsn: int | None = None
    lag_seconds: float = 0.0
    lag_bytes: int = 0
    checked_at: float = float("-inf")
    down_until: float = float("-inf")


class ReplicaPool:
    """The replicas of this process, their health, and the choice among them.

    A replica's health is checked at most every REPLICA_CHECK_INTERVAL seconds, by the request
    that finds it stale, with a short statement timeout. A replica lagging more than
    REPLICA_MAX_LAG_SECONDS or REPLICA_MAX_LAG_BYTES, or whose connection failed, leaves rotation
    for REPLICA_RETRY_SECONDS.
    """

    def __init__(self) -> None:
        self._health: dict[str, ReplicaHealth] = {}
        self._all_out = False
        self._lock = threading.Lock()

    @property
    def aliases(self) -> list[str]:
        return list(settings.DATABASE_REPLICAS)

    def health(self, alias: str) -> ReplicaHealth:
        with self._lock:
            return self._health.setdefault(alias, ReplicaHealth())

    def mark_down(self, alias: str, reason: object) -> None:
        health = self.health(alias)
        first = health.down_until < time.monotonic()
        health.down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        if first:
            logger.warning("replica %s out of rotation for %s s: %s", alias, settings.REPLICA_RETRY_SECONDS, reason)
        if alias in connections.settings:
            with suppress(DatabaseError):
                connections[alias].close()  # a broken connection must not be reused when it comes back

    def choose(self, *, min_lsn: int | None) -> str | None:
        """A healthy replica that has replayed up to min_lsn, or None for the primary."""
        candidates = [alias for alias in self.aliases if self._usable(alias, min_lsn=min_lsn)]
        if min_lsn is None:
            self._log_rotation_change(all_out=not candidates)
        if not candidates:
            return None
        return random.choice(candidates)

    def is_down(self, alias: str) -> bool:
        """Out of rotation after a failed check or a promotion, for REPLICA_RETRY_SECONDS."""
        return self.health(alias).down_until > time.monotonic()

    def _log_rotation_change(self, *, all_out: bool) -> None:
        """Once when the last replica leaves rotation, once when one is back: not per request."""
        if all_out != self._all_out and self.aliases:
            self._all_out = all_out
            if all_out:
                logger.warning("no healthy replica: reading from the primary")
            else:
                logger.warning("a replica is back in rotation")

    def in_rotation(self, alias: str) -> bool:
        """Whether reads without a read-your-writes position may go to ``alias`` now (no check is made)."""
        health = self.health(alias)
        return health.down_until <= time.monotonic() and not _lags_too_much(health)

    def _usable(self, alias: str, *, min_lsn: int | None) -> bool:
        health = self.health(alias)
        now = time.monotonic()
        if health.down_until > now:
            return False
        if now - health.checked_at > settings.REPLICA_CHECK_INTERVAL:
            self.check(alias)
            if health.down_until > now:
                return False
        if _lags_too_much(health):
            return False
        if min_lsn is not None and (health.replay_lsn is None or health.replay_lsn < min_lsn):
            # Cached positions are up to one check interval old: look again before giving up.
            if now - health.checked_at > settings.REPLICA_RECHECK_FOR_LSN_INTERVAL:
                self.check(alias)
            return health.replay_lsn is not None and health.replay_lsn >= min_lsn
        return True

    def check(self, alias: str) -> None:
        health = self.health(alias)
        health.checked_at = time.monotonic()
        connection = connections[alias]
        if connection.vendor != "postgresql":
            health.replay_lsn, health.lag_seconds, health.lag_bytes = None, 0.0, 0
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(settings.REPLICA_CHECK_TIMEOUT * 1000)}")
                cursor.execute(
                    "SELECT pg_last_wal_replay_lsn()::text,"
                    " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END,"
                    " pg_is_in_recovery()"
                )
                replay, lag_seconds, in_recovery = cursor.fetchone()
                cursor.execute("SET statement_timeout = 0")
        except DatabaseError as error:
            self.mark_down(alias, error)
            return
        try:
            primary_lsn = primary_wal_lsn()
        except DatabaseError:
            # The primary is lost (failover): the replica still serves reads, its lag known by time only.
            primary_lsn = None
        if not in_recovery:
            # A promoted replica is a second primary: reading from it could miss writes.
            self.mark_down(alias, "not in recovery (promoted?)")
            return
        health.replay_lsn = parse_lsn(replay)
        health.lag_seconds = float(lag_seconds)
        health.lag_bytes = max(0, primary_lsn - (health.replay_lsn or 0)) if primary_lsn else 0


def _lags_too_much(health: ReplicaHealth) -> bool:
    return bool(
        health.lag_seconds > settings.REPLICA_MAX_LAG_SECONDS or health.lag_bytes > settings.REPLICA_MAX_LAG_BYTES
    )


pool = ReplicaPool()


def primary_wal_lsn() -> int | None:
    """The primary's current WAL position, or None when it is not PostgreSQL.

    The insert position, not pg_current_wal_lsn(): with synchronous_commit off, a commit that
    has returned can still sit in WAL buffers, past the written position."""
    connection = connections[PRIMARY]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return parse_lsn(cursor.fetchone()[0])


class ReplicaRouter:
    """settings.DATABASE_ROUTERS entry: primary for writes, a replica for reads when it is safe."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        if not settings.DATABASE_REPLICAS:
            return PRIMARY
        state = _state.get()
        if state.pinned_to_primary or transaction.get_connection(PRIMARY).in_atomic_block:
            return PRIMARY
        alias = pool.choose(min_lsn=state.min_lsn)
        if alias is None:
            return PRIMARY
        _note_replica_used(alias)
        return alias

    def db_for_write(self, model: type, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # every alias holds the same data

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == PRIMARY
