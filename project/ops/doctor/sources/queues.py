"""Each job queue's depth and the age of its oldest message, read from the broker.

Redis broker: the queue is a list of message ids (oldest first) and a hash of the messages, whose
``message_timestamp`` dates the oldest. RabbitMQ: a passive queue_declare gives the depth only
(no management API is assumed), so the age is unknown.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import dramatiq
from django.conf import settings
from dramatiq.brokers.redis import RedisBroker


@dataclass(frozen=True)
class QueueReading:
    name: str
    depth: int
    oldest_seconds: float | None  # None: empty, or the broker cannot tell (RabbitMQ)


def queue_names(broker: dramatiq.Broker) -> list[str]:
    """The queues the actors use; their delay and dead-letter queues left out."""
    return sorted(name for name in broker.get_declared_queues() if not name.endswith((".DQ", ".XQ")))


def read_queues() -> list[QueueReading]:
    broker = dramatiq.get_broker()
    if isinstance(broker, RedisBroker):
        return [_redis_queue(broker, name) for name in queue_names(broker)]
    if settings.BROKER_IS_RABBITMQ:
        return _rabbitmq_queues(queue_names(broker))
    raise LookupError(f"the broker {type(broker).__name__} is not read by the doctor")


def _redis_queue(broker: RedisBroker, name: str) -> QueueReading:
    key = f"{broker.namespace}:{name}"
    depth = int(broker.client.llen(key))
    oldest_id = broker.client.lindex(key, 0)
    oldest = None
    if oldest_id is not None:
        data = broker.client.hget(f"{key}.msgs", oldest_id)
        if data is not None:
            oldest = max(0.0, time.time() - json.loads(data)["message_timestamp"] / 1000)
    return QueueReading(name=name, depth=depth, oldest_seconds=oldest)


def _rabbitmq_queues(names: list[str]) -> list[QueueReading]:
    import pika  # type: ignore[import-untyped]

    options = settings.DRAMATIQ_BROKER["OPTIONS"]
    parameters = pika.URLParameters(options["url"])
    parameters.connection_attempts = 1
    connection = pika.BlockingConnection(parameters)
    try:
        readings = []
        for name in names:
            channel = connection.channel()
            try:
                declared = channel.queue_declare(queue=name, passive=True)
            except pika.exceptions.ChannelClosedByBroker:  # not declared yet: nothing was ever sent to it
                readings.append(QueueReading(name=name, depth=0, oldest_seconds=None))
                continue
            readings.append(QueueReading(name=name, depth=declared.method.message_count, oldest_seconds=None))
            channel.close()
        return readings
    finally:
        connection.close()
