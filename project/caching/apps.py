"""cacheops, started with the models the apps declare (listed in INSTALLED_APPS in cacheops' place)."""

from cacheops.apps import CacheopsConfig
from django.conf import settings


class QueryCacheConfig(CacheopsConfig):  # type: ignore[misc]  # cacheops ships no types
    def ready(self) -> None:
        from project.caching import declarations

        # cacheops reads settings.CACHEOPS once, in its own ready(), to choose the models it watches:
        # so the apps' caching.py are read just before, when every app's models are loaded.
        settings.CACHEOPS = declarations.discovered().query_cache
        super().ready()
