"""Broker wiring that settings cannot express: what a worker does when it starts.

The broker itself is chosen in settings (BROKER_URL: Redis by default, amqp:// for RabbitMQ).
"""

from __future__ import annotations

import dramatiq
from django_dramatiq.middleware import AdminMiddleware
from dramatiq.middleware import Middleware


class RelayOutboxAtWorkerBoot(Middleware):
    """Each worker process, once booted, asks for the outbox to be relayed (apps.core.services.outbox_relay).

    Messages kept while the broker was unreachable are sent as soon as a worker can reach it,
    without waiting for the scheduler's next minute.
    """

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from apps.core.actors import relay_outbox

        relay_outbox.send()


class JobLog(AdminMiddleware):
    """django_dramatiq's job log for the admin, without its race: a message is put on the queue
    before ``after_enqueue`` runs, so a fast worker can record "running" or "done" first. Here
    an enqueue never overwrites those; a retry's re-enqueue still turns "failed" into "delayed"."""

    def after_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int | None) -> None:
        from django.utils import timezone
        from django_dramatiq.models import Task

        status = Task.STATUS_DELAYED if delay else Task.STATUS_ENQUEUED
        fields = {"status": status, "message_data": message.encode(), "updated_at": timezone.now()}
        if Task.tasks.filter(id=message.message_id).exclude(status__in=[Task.STATUS_RUNNING, Task.STATUS_DONE]).update(**fields):
            return
        Task.tasks.get_or_create(
            id=message.message_id,
            defaults={**fields, "actor_name": message.actor_name, "queue_name": message.queue_name},
        )
