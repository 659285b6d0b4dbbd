"""One query cache entry under a key of the caller's own, invalidated by cacheops like a cached queryset.

For the hottest signed-in reads (the API token check, a user's orders page) a cached queryset costs
too much on a hit: cacheops compiles the queryset's SQL on every call, to hash it into the key, and
one entry per queryset means one Redis round trip each. ``cached_read`` reads one entry, by a key
the caller names, in one GET; a miss runs ``fill``, which reads the database and says which rows the
result depends on, in cacheops' terms (``Conditions``). cacheops then drops the entry on commit of
any save or delete that matches them, in every process, as it does its own entries.

The stale-fill race (a write committing between the fill's read and its store) is closed as
project/caching/query_cache_guard.py closes it for querysets: before ``fill`` runs, a marker is
cached under ``guard`` (which must cover every row ``fill`` may read), and the entry is stored only
if the marker survived. A fill reads the primary (``using``): a replica may not have replayed the
write whose invalidation caused the miss.

Redis down (cacheops degrades, and the breaker of project/caching/redis_guard.py fails fast): every
call runs ``fill``, a database read, and stores nothing. Inside a transaction that has written, as
cacheops does, the cache is neither read nor written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from cacheops.conf import settings as cacheops_settings
from cacheops.getset import cache_thing
from cacheops.redis import handle_connection_failure, redis_client
from cacheops.sharding import get_prefix
from cacheops.signals import cache_read
from cacheops.transaction import transaction_states
from django.db import router
from django.db.models import Model

T = TypeVar("T")

# cacheops' invalidation conditions: table -> a disjunction of conjunctions {column (attname): value}.
# {"orders_order": [{"user_id": 7}]}: any write to an order of user 7. {"users_user": [{}]}: any user write.
Conditions = dict[str, list[dict[str, Any]]]

# Long enough for any fill to finish; the marker is deleted by an invalidation or expires.
MARKER_TIMEOUT_SECONDS = 300


def rows(model: type[Model], *conjunctions: dict[str, Any]) -> Conditions:
    """The conditions of ``model``'s rows matching any of ``conjunctions``; none at all: any row."""
    return {model._meta.db_table: list(conjunctions) or [{}]}


def cached_read(
    *,
    key: str,
    model: type[Model],
    guard: Conditions,
    fill: Callable[[str], tuple[T, Conditions | None]],
    timeout: int,
) -> T:
    """The entry under ``key``, else ``fill(using)``'s value, stored under the conditions it returns
    (not stored when they are None).

    ``model`` names the read (the query cache metrics count it under this model) and its database:
    ``using`` is the primary of ``model`` for a fill, where it would be for any read when nothing is
    stored (the cache off, or inside a transaction that has written). ``guard`` must cover every
    row ``fill`` may read.
    """
    using = router.db_for_write(model)
    if not cacheops_settings.CACHEOPS_ENABLED or transaction_states[using].is_dirty():
        return fill(router.db_for_read(model))[0]  # an uncached read, routed as any other
    prefix = get_prefix(dbs=[using])
    cache_key = f"{prefix}{key}"
    found, value = _read(cache_key, model)
    if found:
        return cast(T, value)
    marker_key = f"{prefix}fill:{uuid.uuid4().hex}"
    cache_thing(prefix, marker_key, "FILLING", guard, min(timeout, MARKER_TIMEOUT_SECONDS), dbs=[using])
    try:
        value, depends_on = fill(using)
        if depends_on is not None:
            cache_thing(prefix, cache_key, value, depends_on, timeout, dbs=[using], precall_key=marker_key)
    finally:
        _forget(marker_key)
    return value


def cached_value(*, key: str, model: type[Model]) -> tuple[bool, Any]:
    """(True, the entry under ``key``) when one is stored, else (False, None): never the database.
    For an answer that is only worth giving from the cache (project/caching/signed_in_front.py)."""
    using = router.db_for_write(model)
    if not cacheops_settings.CACHEOPS_ENABLED or transaction_states[using].is_dirty():
        return False, None
    # A miss is not counted: the caller reads again, with cached_read(), which counts it.
    return _read(f"{get_prefix(dbs=[using])}{key}", model, count_miss=False)


def _read(cache_key: str, model: type[Model], *, count_miss: bool = True) -> tuple[bool, Any]:
    data = _get(cache_key)
    if data is not None or count_miss:
        cache_read.send(sender=model, func=None, hit=data is not None)
    if data is None:
        return False, None
    return True, cacheops_settings.CACHEOPS_SERIALIZER.loads(data)


@handle_connection_failure  # type: ignore[untyped-decorator]
def _get(cache_key: str) -> bytes | None:
    data: bytes | None = redis_client.get(cache_key)
    return data


@handle_connection_failure  # type: ignore[untyped-decorator]
def _forget(marker_key: str) -> None:
    redis_client.unlink(marker_key)
