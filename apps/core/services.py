"""Writes of the job machinery: re-sending what the outbox kept, pruning the job log, deleting
expired rows with their files."""

from __future__ import annotations

import logging
from datetime import timedelta

import dramatiq
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from django_dramatiq.models import Task

from apps.core.models import OutboxMessage

logger = logging.getLogger(__name__)


def outbox_relay(*, batch_size: int = 100) -> int:
    """Enqueue the messages the outbox kept, oldest first; returns how many were sent.

    Rows are locked (skipped by a concurrent relay) and deleted in the transaction that sent
    them. A send that fails stops the relay and leaves the rest for the next run. A message can
    be sent twice if the commit fails after the send; every actor is idempotent for that.
    """
    broker = dramatiq.get_broker()
    sent = 0
    while True:
        with transaction.atomic():
            rows = list(OutboxMessage.objects.select_for_update(skip_locked=True).order_by("id")[:batch_size])
            if not rows:
                return sent
            for row in rows:
                try:
                    broker.enqueue(dramatiq.Message.decode(row.data.encode()))
                except Exception as error:  # the broker is still down: keep this row and the rest
                    logger.warning("outbox relay stopped at %s: %r", row, error)
                    OutboxMessage.objects.filter(pk=row.pk).update(
                        attempts=row.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:1000]
                    )
                    return sent
                row.delete()
                sent += 1


def job_log_prune(*, max_age: timedelta) -> int:
    """Delete the admin's job log rows (django_dramatiq's Task) older than ``max_age``."""
    deleted, _ = Task.tasks.filter(updated_at__lt=timezone.now() - max_age).delete()
    return deleted


def rows_with_files_delete(*, rows: models.QuerySet, batch_size: int = 200) -> int:
    """Delete ``rows`` and each one's file in default_storage (its ``file`` field, a name), a
    batch at a time; returns how many rows were deleted.

    Files go first, then their rows: a run that fails halfway leaves rows whose files are gone,
    which the next run deletes (deleting a missing file does nothing, on disk and on S3), and
    never a file that no row points to. Two runs at once delete the same things twice, harmlessly.
    """
    deleted, after = 0, 0
    while batch := list(rows.filter(pk__gt=after).order_by("pk").values_list("pk", "file")[:batch_size]):
        for _, name in batch:
            if name:
                default_storage.delete(name)
        ids = [pk for pk, _ in batch]
        rows.filter(pk__in=ids).delete()
        deleted, after = deleted + len(batch), ids[-1]
    return deleted
