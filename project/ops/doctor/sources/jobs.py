"""What the job machinery keeps in the database: dead letters (the job log's failed jobs) and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone
from django_dramatiq.models import Task

from apps.core.models import OutboxMessage


@dataclass(frozen=True)
class JobsReading:
    dead_letters: int  # jobs that failed after their last retry, within the job log's JOB_LOG_MAX_AGE
    dead_letters_by_actor: dict[str, int]
    outbox_size: int
    outbox_oldest_seconds: float | None


def read_jobs() -> JobsReading:
    failed = Task.tasks.filter(status=Task.STATUS_FAILED).order_by().values("actor_name").annotate(jobs=Count("id"))
    by_actor = {row["actor_name"]: row["jobs"] for row in failed}
    outbox = OutboxMessage.objects.aggregate(oldest=Min("created_at"))
    oldest = outbox["oldest"]
    return JobsReading(
        dead_letters=sum(by_actor.values()),
        dead_letters_by_actor=by_actor,
        outbox_size=OutboxMessage.objects.count(),
        outbox_oldest_seconds=(timezone.now() - oldest) / timedelta(seconds=1) if oldest else None,
    )
