"""Two guards on cacheops' queryset cache, so that it never stores a stale result.

1. The stale-fill race: a read misses, runs its SQL and sees the old row; a write commits and
   invalidates; then the read stores what it saw, served until the next write or the TTL.
   cacheops guards this for ``cached_as(keep_fresh=True)`` only. Here every queryset miss does
   the same: before its SQL it caches a marker under the query's own invalidation conditions,
   and stores its result only if the marker is still there (cacheops' ``precall_key``), i.e. if
   no write touching those rows was invalidated in between. Counts use ``keep_fresh=True``.
2. Replicas: a write invalidates, then the next read lands on a replica that has not replayed
   it yet and caches the old row again. So a miss of a cached queryset reads the primary
   (``use_primary``). Misses are the rare case; replicas keep serving every uncached read.
"""

from __future__ import annotations

import uuid
from typing import Any

from cacheops import cached_as
from cacheops.conf import settings as cacheops_settings
from cacheops.getset import cache_thing, getting
from cacheops.redis import handle_connection_failure, redis_client
from cacheops.signals import cache_read
from django.db.models import QuerySet

from project.routing.routers import use_primary

# Long enough for any query to finish; the marker is deleted by an invalidation or expires.
MARKER_TIMEOUT_SECONDS = 300


# ``self: Any``: cacheops' patched QuerySet, whose private attributes have no types.
def _fetch_all_without_stale_fills(self: Any) -> None:
    if self._result_cache is not None or not self._should_cache("fetch"):
        self._no_monkey._fetch_all(self)
        return

    cache_key = self._cache_key()
    timeout = self._cacheprofile["timeout"]
    with getting(cache_key, self._cond_dnfs, self._prefix, lock=self._cacheprofile["lock"]) as cache_data:
        cache_read.send(sender=self.model, func=None, hit=cache_data is not None)
        if cache_data is not None:
            self._result_cache = cacheops_settings.CACHEOPS_SERIALIZER.loads(cache_data)
        else:
            marker_key = f"{self._prefix}fill:{uuid.uuid4().hex}"
            marker_timeout = min(timeout, MARKER_TIMEOUT_SECONDS)
            cache_thing(self._prefix, marker_key, "FILLING", self._cond_dnfs, marker_timeout, dbs=[self.db])
            with use_primary():
                self._result_cache = list(self._iterable_class(self))
            cache_thing(
                self._prefix,
                cache_key,
                self._result_cache,
                self._cond_dnfs,
                timeout,
                dbs=[self.db],
                precall_key=marker_key,
            )
            _forget_marker(marker_key)
    self._no_monkey._fetch_all(self)


@handle_connection_failure  # type: ignore[untyped-decorator]
def _forget_marker(marker_key: str) -> None:
    redis_client.unlink(marker_key)


def _count_without_stale_fills(self: Any) -> int:
    if not self._should_cache("count"):
        return int(self._no_monkey.count(self))
    if self._result_cache is not None:
        return len(self._result_cache)

    def count_on_primary() -> int:
        with use_primary():
            return int(self._no_monkey.count(self))

    return int(cached_as(self, keep_fresh=True)(count_on_primary)())


def install() -> None:
    """Replace cacheops' QuerySet methods (installed by cacheops' own ready())."""
    QuerySet._fetch_all = _fetch_all_without_stale_fills  # type: ignore[method-assign]
    QuerySet.count = _count_without_stale_fills  # type: ignore[method-assign]
