"""Writes of the job machinery: re-sending what the outbox kept, pruning the job log, deleting
expired rows with their files; and the API's idempotent requests (the Idempotency-Key header)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dramatiq
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone
from django_dramatiq.models import Task

from apps.core.errors import DomainError
from apps.core.models import IdempotentRequest, OutboxMessage

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
    deleted: int = Task.tasks.filter(updated_at__lt=timezone.now() - max_age).delete()[0]
    return deleted


def rows_with_files_delete(*, rows: models.QuerySet[Any], batch_size: int = 200) -> int:
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


# How long a key replays its response; after that the same key is a new request (and the row goes).
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: Any
    replayed: bool


def idempotent_request_run(
    *,
    user_id: int,
    key: str,
    fingerprint: str,
    run: Callable[[], tuple[int, Any]],
) -> IdempotentResponse:
    """Run ``run`` once per (user_id, key): it returns the response's status and body, which are kept
    for IDEMPOTENCY_KEY_TTL and given back, unrun, to a retry of the same request.

    ``run``'s writes and the kept response commit in one transaction. An error raised by ``run``
    rolls both back, so a retry runs again (nothing happened the first time). The same key with
    another request (``fingerprint``) is a 422; while the first request with a key is still
    running, a second one is a 409 (on PostgreSQL; SQLite runs one write transaction at a time,
    so there the second waits and gets the response).
    """
    with transaction.atomic():
        if not _idempotency_key_lock(user_id=user_id, key=key):
            raise DomainError(
                code="idempotency_key_in_use",
                message="A request with this Idempotency-Key is still being processed; retry it in a moment.",
                status=409,
            )
        kept = IdempotentRequest.objects.filter(user_id=user_id, key=key).first()
        if kept is not None and kept.created_at < timezone.now() - IDEMPOTENCY_KEY_TTL:
            kept.delete()
            kept = None
        if kept is not None:
            if kept.fingerprint != fingerprint:
                raise DomainError(
                    code="idempotency_key_reused",
                    message="This Idempotency-Key was used for another request; use a new key for a new request.",
                    fields={"Idempotency-Key": ["Used for another request in the last 24 hours."]},
                    status=422,
                )
            return IdempotentResponse(status=kept.response_status, body=kept.response_body, replayed=True)
        status, body = run()
        IdempotentRequest.objects.create(
            user_id=user_id, key=key, fingerprint=fingerprint, response_status=status, response_body=body
        )
    return IdempotentResponse(status=status, body=body, replayed=False)


def _idempotency_key_lock(*, user_id: int, key: str) -> bool:
    """Take the (user, key) lock until the transaction ends, or return False at once if it is taken.

    A transaction-scoped advisory lock: the key's row does not exist until the first request
    commits, so there is no row to lock, and waiting on the unique index would hold a retry for
    the whole of the first request. SQLite serialises write transactions, so there is nothing to lock.
    """
    if connection.vendor != "postgresql":
        return True
    digest = hashlib.sha256(f"idempotency-key:{user_id}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def idempotent_requests_prune(*, max_age: timedelta = IDEMPOTENCY_KEY_TTL) -> int:
    """Delete the kept responses of keys older than ``max_age``; returns how many."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - max_age).delete()
    return deleted
