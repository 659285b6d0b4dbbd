"""Jobs about the catalog. Actors load by id and call a service; nothing else."""

from datetime import timedelta

import dramatiq
from django.conf import settings
from django.utils import timezone

from apps.core.jobs import HEAVY_QUEUE
from apps.products import services


@dramatiq.actor(queue_name=HEAVY_QUEUE, max_retries=3, min_backoff=10_000, max_backoff=300_000, time_limit=30 * 60_000)
def run_product_import(*, import_id: int) -> None:
    services.product_import_run(import_id=import_id)


@dramatiq.actor(queue_name=HEAVY_QUEUE, max_retries=3, time_limit=30 * 60_000)
def expire_product_imports() -> None:
    """Scheduled daily (project/tasks.py): files older than MEDIA_RETENTION_DAYS go."""
    services.product_imports_expire(older_than=timezone.now() - timedelta(days=settings.MEDIA_RETENTION_DAYS))
