"""Broker middleware that settings cannot express: outbox relay at boot, the admin's job log,
and read-your-writes for jobs when read replicas are on.

The broker itself is chosen in settings (BROKER_URL: Redis by default, amqp:// for RabbitMQ).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import dramatiq
import redis
from django.conf import settings
from django_dramatiq.middleware import AdminMiddleware
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)


class RelayOutboxAtWorkerBoot(Middleware):
    """Each worker process, once booted, asks for the outbox to be relayed (apps.core.services.outbox_relay).

    Messages kept while the broker was unreachable are sent as soon as a worker can reach it,
    without waiting for the scheduler's next minute.
    """

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from apps.core.actors import relay_outbox

        relay_outbox.send()


class JobLog(AdminMiddleware):  # type: ignore[misc]  # django_dramatiq is untyped
    """django_dramatiq's job log for the admin, without its races: a message is put on the queue
    before ``after_enqueue`` runs, so a fast worker can record "running", "done" or "failed" first.
    Here an enqueue never overwrites "running" or "done", and only a delayed one (a retry) turns
    "failed" into "delayed". An enqueue without delay overwrites no "failed": the worker moves a
    retry whose backoff is over from the delay queue to its queue with one, and the retry can run
    and fail for good before that enqueue's hook runs (seen in CI on RabbitMQ: the final "failed"
    became "enqueued")."""

    def after_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None) -> None:
        from django.utils import timezone
        from django_dramatiq.models import Task

        status = Task.STATUS_DELAYED if delay else Task.STATUS_ENQUEUED
        fields = {"status": status, "message_data": message.encode(), "updated_at": timezone.now()}
        further_along = (
            [Task.STATUS_RUNNING, Task.STATUS_DONE]
            if delay
            else [Task.STATUS_RUNNING, Task.STATUS_DONE, Task.STATUS_FAILED]
        )
        if Task.tasks.filter(id=message.message_id).exclude(status__in=further_along).update(**fields):
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


def workers_key() -> str:
    """A sorted set in Redis: each job worker process and the time of its last heartbeat."""
    return f"{settings.CACHE_KEY_PREFIX}:ops:workers"


class WorkerHeartbeat(Middleware):
    """Each worker process writes the time into a Redis sorted set every WORKER_HEARTBEAT_INTERVAL
    seconds, so `manage.py doctor` can count the workers that report in (project/ops/doctor/).

    Dramatiq's own heartbeats cannot tell: every process that enqueues writes one too. A stopped
    worker removes itself; a killed one stops counting after WORKER_HEARTBEAT_TIMEOUT.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="worker-heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)  # a beat in flight must not write the member back after its removal
        try:
            with self._client() as client:
                client.zrem(self._key(), self._member())
        except redis.RedisError as error:  # it stops counting after WORKER_HEARTBEAT_TIMEOUT anyway
            logger.warning("worker heartbeat not removed: %r", error)

    def _beat(self) -> None:
        while not self._stop.is_set():
            try:
                with self._client() as client:
                    client.zadd(self._key(), {self._member(): time.time()})
                    # Processes gone for a day are forgotten, so the set stays small.
                    client.zremrangebyscore(self._key(), "-inf", time.time() - 24 * 60 * 60)
            except Exception as error:  # Redis down: the doctor shows no worker; the worker keeps working
                logger.warning("worker heartbeat not written: %r", error)
            self._stop.wait(settings.WORKER_HEARTBEAT_INTERVAL)

    @staticmethod
    def _client() -> redis.Redis:
        return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)

    @staticmethod
    def _key() -> str:
        return workers_key()

    @staticmethod
    def _member() -> str:
        return f"{socket.gethostname()}:{os.getpid()}"
