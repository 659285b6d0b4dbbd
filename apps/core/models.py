"""What the job machinery keeps in the database: idempotency keys and the outbox; and the API's
idempotent requests (the Idempotency-Key header)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
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


class IdempotentRequest(models.Model):
    """An API request sent with an Idempotency-Key header, and the response it got.

    Written in the transaction of the request's effect (an order), so there is never an effect
    without its key nor a key without its effect. The same user, key and request get this
    response again (apps.core.services.idempotent_request_run); rows older than a day are deleted.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of the method, path and canonical JSON body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} ({self.response_status})"
