"""Jobs about the catalog. Actors load by id and call a service; nothing else."""

import dramatiq

from apps.products import services


@dramatiq.actor(max_retries=3, min_backoff=10_000, max_backoff=300_000, time_limit=30 * 60_000)
def run_product_import(*, import_id: int) -> None:
    services.product_import_run(import_id=import_id)
