"""Enqueueing jobs only once the data they read is committed, and never losing one."""

from __future__ import annotations

import inspect
import logging
from typing import Any

import dramatiq
from django.db import transaction

from apps.core.models import OutboxMessage

logger = logging.getLogger(__name__)


# By name, never by importing actors.py: an actor imports its service, and the reverse would be an
# import cycle (docs/jobs.md). The name and the arguments are checked here, at the call.
def send_on_commit(actor_name: str, /, **kwargs: Any) -> None:
    """Send the job ``actor_name(**kwargs)`` after the surrounding transaction commits (at once if none).

    A message sent inside the transaction can reach a worker before the commit, which then
    reads rows that do not exist yet; a rolled-back transaction must send nothing at all.
    If the broker cannot be reached, the message waits in the outbox instead (docs/jobs.md).
    """
    actor = dramatiq.get_broker().get_actor(actor_name)
    inspect.signature(actor.fn).bind(**kwargs)
    transaction.on_commit(lambda: send_or_keep(actor.message(**kwargs)), robust=False)


def send_or_keep(message: dramatiq.Message[Any]) -> None:
    """Enqueue ``message``; if the broker fails, keep it in the outbox for outbox_relay to send."""
    try:
        dramatiq.get_broker().enqueue(message)
    except Exception as error:  # any failure to hand the message over: keep it, never lose it
        logger.warning(
            "broker unreachable, %s %s kept in the outbox: %r", message.actor_name, message.message_id, error
        )
        OutboxMessage.objects.create(
            message_id=message.message_id,
            actor_name=message.actor_name,
            queue_name=message.queue_name,
            data=message.encode().decode(),
            last_error=f"{type(error).__name__}: {error}"[:1000],
        )


# The two classes of queue, each consumed by its own worker pool (docs/jobs.md#two-classes-of-queue):
# a job someone is waiting for (an email) never waits behind a report that takes a worker minutes.
# Every actor names its class with queue_name=; "default" keeps what queues hold across an upgrade.
INTERACTIVE_QUEUE = "default"
HEAVY_QUEUE = "heavy"

# Emails: an SMTP outage of up to about two hours is retried through (15 s, 30 s, ... 1 h apart);
# after the last retry the message is dead-lettered, and staff see it in the admin.
EMAIL_JOB_OPTIONS: dict[str, Any] = {
    "max_retries": 8,
    "min_backoff": 15_000,
    "max_backoff": 3_600_000,
    "time_limit": 60_000,
}
