"""What is cached, and how the two caches stay coherent.

- The query cache (cacheops) holds ORM results for the models the apps declare (QUERY_CACHE).
- The response cache (project/caching/response_cache.py) holds whole public API responses.
Each app declares both, and what a write to its models invalidates, in its caching.py
(project/caching/declarations.py).
Both are invalidated by one signal, cacheops' ``cache_invalidated``, sent after commit for every
save/delete, ``invalidated_update()`` and explicit ``invalidate_obj``/``invalidate_model``.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from cacheops import invalidate_model
from django.apps import apps
from django.conf import settings

from project.caching import declarations, response_cache
from project.caching.redis_guard import breaker

logger = logging.getLogger(__name__)


def on_cache_invalidated(sender: Any, obj_dict: dict[str, Any] | None, **kwargs: Any) -> None:
    if sender is None:  # cacheops.invalidate_all()
        response_cache.invalidate_all()
        return
    label = sender._meta.label_lower
    response_cache.invalidate_for_model(label=label, row=obj_dict)
    # cacheops invalidates a query by its WHERE clause only, so not a query that select_related() this model.
    for embedding_label in declarations.discovered().embedded_in.get(label, ()):
        invalidate_model(apps.get_model(embedding_label))


# cacheops' own invalidate_model() logs and swallows a Redis error; unwrapped, it raises, so a
# drop that fails keeps the outage open and is tried again, instead of passing for done.
_invalidate_model_or_raise = inspect.unwrap(invalidate_model)


def drop_all_caches() -> None:
    """Forget everything both caches hold: used when Redis comes back from an outage, during which
    writes could not invalidate (a frozen Redis keeps its old entries). Raises on a Redis error."""
    response_cache.invalidate_all(raise_errors=True)
    for label in settings.CACHEOPS:  # type: ignore[misc]  # filled in by QueryCacheConfig.ready()
        _invalidate_model_or_raise(apps.get_model(label))


def drop_caches_when_redis_recovers() -> None:
    breaker.on_recovery(drop_all_caches)
