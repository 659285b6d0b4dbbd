"""Broker middleware that settings cannot express: outbox relay at boot, the admin's job log,
and read-your-writes for jobs when read replicas are on.

The broker itself is chosen in settings (BROKER_URL: Redis by default, amqp:// for RabbitMQ).
"""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
from django_dramatiq.middleware import AdminMiddleware
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware


class RelayOutboxAtWorkerBoot(Middleware):
    """Each worker process, once booted, asks for the outbox to be relayed (apps.core.services.outbox_relay).

    Messages kept while the broker was unreachable are sent as soon as a worker can reach it,
    without waiting for the scheduler's next minute.
    """

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from apps.core.actors import relay_outbox

        relay_outbox.send()


class JobLog(AdminMiddleware):  # type: ignore[misc]  # django_dramatiq is untyped
    """django_dramatiq's job log for the admin, without its race: a message is put on the queue
    before ``after_enqueue`` runs, so a fast worker can record "running" or "done" first. Here
    an enqueue never overwrites those; a retry's re-enqueue still turns "failed" into "delayed"."""

    def after_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None) -> None:
        from django.utils import timezone
        from django_dramatiq.models import Task

        status = Task.STATUS_DELAYED if delay else Task.STATUS_ENQUEUED
        fields = {"status": status, "message_data": message.encode(), "updated_at": timezone.now()}
        if (
            Task.tasks.filter(id=message.message_id)
            .exclude(status__in=[Task.STATUS_RUNNING, Task.STATUS_DONE])
            .update(**fields)
        ):
            return
        # One INSERT, not get_or_create's SELECT then INSERT: this runs on the request path for every
        # new job. A row a worker wrote meanwhile wins (it is further along than "enqueued").
        Task.tasks.bulk_create(
            [Task(id=message.message_id, actor_name=message.actor_name, queue_name=message.queue_name, **fields)],
            ignore_conflicts=True,
        )


class ReadYourWritesForJobs(Middleware):
    """A job enqueued after a write reads what that write wrote, with read replicas on.

    The message carries the primary's WAL position at enqueue time (send_on_commit enqueues
    after the commit); the worker then reads only from replicas that have replayed it, else
    from the primary (project/routing/routers.py). Without replicas it does nothing and costs nothing.
    """

    def __init__(self) -> None:
        self._active = threading.local()

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None) -> None:
        from django.conf import settings

        from project.routing.routers import primary_wal_lsn

        if settings.DATABASE_REPLICAS and "min_lsn" not in message.options:
            message.options["min_lsn"] = primary_wal_lsn()

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        from project.routing.routers import routing

        block = routing(min_lsn=message.options.get("min_lsn"))
        block.__enter__()
        self._active.block = block

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        self._leave_block()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._leave_block()

    def _leave_block(self) -> None:
        block = getattr(self._active, "block", None)
        if block is not None:
            self._active.block = None
            block.__exit__(None, None, None)
