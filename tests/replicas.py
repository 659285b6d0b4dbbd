"""A replica for tests that need no second server: a mirror of the test database (Django's TEST
MIRROR), so the data is the same and only routing differs; its health is set by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.test import override_settings

from project.routing import routers


def mirror_replica(alias: str) -> str:
    """Registers ``alias`` as a mirror of the default database; returns it (for ``databases=[...]``)."""
    connections.settings[alias] = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
    return alias


@contextmanager
def routing_to(alias: str) -> Iterator[None]:
    """Reads routed to the mirror ``alias``, which the router sees as healthy and caught up."""
    health = routers.pool.health(alias)
    with override_settings(DATABASE_REPLICAS=[alias]):
        health.replay_lsn, health.lag_seconds, health.lag_bytes = None, 0.0, 0
        health.checked_at, health.down_until = time.monotonic() + 3600, float("-inf")
        yield
    routers.pool._health.pop(alias, None)
