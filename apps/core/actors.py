"""Jobs of the job machinery itself. Actors load by id and call a service; nothing else."""

from datetime import timedelta

import dramatiq
from django.conf import settings

from apps.core import services
from apps.core.jobs import HEAVY_QUEUE, INTERACTIVE_QUEUE


@dramatiq.actor(queue_name=INTERACTIVE_QUEUE, max_retries=0, time_limit=60_000)
def relay_outbox() -> None:
    """Scheduled every minute (project/tasks.py) and sent at every worker start (project/jobs/broker.py)."""
    services.outbox_relay()


@dramatiq.actor(queue_name=HEAVY_QUEUE, max_retries=3, time_limit=300_000)
def prune_job_log() -> None:
    services.job_log_prune(max_age=timedelta(seconds=settings.JOB_LOG_MAX_AGE))


@dramatiq.actor(queue_name=HEAVY_QUEUE, max_retries=3, time_limit=300_000)
def prune_idempotent_requests() -> None:
    """Scheduled hourly (project/tasks.py): responses kept for Idempotency-Key retries expire after a day."""
    services.idempotent_requests_prune()
