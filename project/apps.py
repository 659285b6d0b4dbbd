"""Wiring that must exist in every process (web, worker, shell), so it is connected in ready()."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "project"
    label = "project"
    verbose_name = "Headroom wiring"

    def ready(self) -> None:
        from cacheops.signals import cache_invalidated
        from django.utils.module_loading import autodiscover_modules

        from project.caching import invalidation, query_cache_guard, redis_sentinel
        from project.ops import metrics

        query_cache_guard.install()
        metrics.install()
        cache_invalidated.connect(invalidation.on_cache_invalidated, dispatch_uid="headroom-response-cache")
        invalidation.drop_caches_when_redis_recovers()
        redis_sentinel.install_scheduler_lock()
        # Every app's actors.py, in every process: services enqueue by actor name (apps/core/jobs.py).
        autodiscover_modules("actors")
