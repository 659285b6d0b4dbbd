"""Writes of the job machinery: re-sending what the outbox kept, pruning the job log."""

from __future__ import annotations

import logging
from datetime import timedelta

import dramatiq
from django.db import transaction
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
