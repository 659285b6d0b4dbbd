"""Jobs about reports. Actors load by id and call a service; nothing else."""

import dramatiq

from apps.reports import services


@dramatiq.actor(max_retries=3, min_backoff=10_000, max_backoff=300_000, time_limit=30 * 60_000)
def generate_report(*, report_id: int) -> None:
    services.report_generate(report_id=report_id)
