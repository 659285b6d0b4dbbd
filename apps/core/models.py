"""What the job machinery keeps in the database: idempotency keys and the outbox."""

from __future__ import annotations

from django.db import models


class JobStatus(models.TextChoices):
    """Where a job-backed record (a report, an import) stands; one set for every such model."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class IdempotencyKey(models.Model):
    """A side effect that happened once and must never happen again (an email sent, say).

    The unique key is taken in the same transaction as the effect, so a redelivered message
    finds it and does nothing (apps.core.emails.email_send_once).
    """

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class OutboxMessage(models.Model):
    """A job message that could not reach the broker when its transaction committed.

    apps.core.services.outbox_relay sends it later: at every worker start and every minute.
    """

    message_id = models.UUIDField(unique=True)
    actor_name = models.CharField(max_length=200)
    queue_name = models.CharField(max_length=100)
    # dramatiq's encoded message, so the re-sent message has the same id and arguments.
    data = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.message_id}"
