"""Routing reads to a replica changes where queries run, not how many there are.

The replica here is a mirror of the test database (Django's TEST MIRROR), so the data is the
same and only routing differs; the health of the replica is set by hand.
"""

import time

import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from project.routing import routers
from tests.factories import OrderItemFactory, ProductFactory, TokenFactory, UserFactory

REPLICA = "mirror_replica"  # an alias of this module's own, whatever replicas the settings have
connections.settings[REPLICA] = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def replica_routing():
    health = routers.pool.health(REPLICA)
    with override_settings(DATABASE_REPLICAS=[REPLICA]):
        health.replay_lsn, health.lag_seconds, health.lag_bytes = None, 0.0, 0
        health.checked_at, health.down_until = time.monotonic() + 3600, float("-inf")
        yield
    routers.pool._health.pop(REPLICA, None)


def _queries_per_alias(client, path):
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(connections[REPLICA]) as replica:
        response = client.get(path)
    assert response.status_code == 200
    return len(primary.captured_queries), len(replica.captured_queries)


@pytest.mark.parametrize("rows", [1, 50])
def test_the_order_list_runs_the_same_queries_on_a_replica(api_client, replica_routing, rows):
    user = UserFactory()
    for _ in range(rows):
        OrderItemFactory(order__user=user, product=ProductFactory())
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")

    on_primary, on_replica = _queries_per_alias(api_client, "/api/v1/orders/")

    assert (on_primary, on_replica) == (0, 4)  # as without replicas: token, orders, their items, product names
