"""Routing reads to a replica changes where queries run, not how many there are.

The replica here is a mirror of the test database (Django's TEST MIRROR), so the data is the
same and only routing differs; the health of the replica is set by hand.
"""

import pytest
from django.test import override_settings

from tests.factories import OrderItemFactory, ProductFactory, TokenFactory, UserFactory
from tests.queries import assert_constant_queries, assert_queries
from tests.replicas import mirror_replica, routing_to

REPLICA = mirror_replica("mirror_replica")  # an alias of this module's own, whatever replicas the settings have

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def replica_routing():
    with routing_to(REPLICA):
        yield


def test_the_order_list_runs_the_same_queries_on_a_replica(api_client, replica_routing):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")

    def add_orders(count: int) -> None:
        for _ in range(count):
            OrderItemFactory(order__user=user, product=ProductFactory())

    def list_orders_reading_nothing_from_the_primary():
        with assert_queries(0, using="default"):
            return api_client.get("/api/v1/orders/")

    # As without replicas, uncached: the token with its user, the orders, their items, product names.
    # The query cache off, as when Redis is down (a fill of the query cache reads the primary by
    # design, apps/core/query_cache.py).
    with override_settings(CACHEOPS_ENABLED=False):
        responses = assert_constant_queries(
            add_orders, list_orders_reading_nothing_from_the_primary, budget=4, using=REPLICA
        )

    assert all(response.status_code == 200 for response in responses.values())
