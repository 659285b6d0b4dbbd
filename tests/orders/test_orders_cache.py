"""A user's orders from the query cache (apps/orders/selectors.py, apps/orders/caching.py): a warm
list runs no SQL, and every write to an order is read back by the very next request. Across real
worker processes: tests/orders/test_signed_in_reads_across_workers.py."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.orders import services
from apps.orders.models import Order
from apps.orders.services import OrderLine
from apps.products import services as product_services
from apps.users.models import User
from tests.factories import OrderItemFactory, ProductFactory, TokenFactory
from tests.queries import assert_queries, assert_query_cache_reads
from tests.replicas import mirror_replica, routing_to

# Committed data, as in production: inside a test's transaction cacheops neither caches nor invalidates.
pytestmark = pytest.mark.django_db(transaction=True)

ORDERS_URL = "/api/v1/orders/"


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def token():
    return TokenFactory()


@pytest.fixture
def owner(token) -> APIClient:
    return _client(token.key)


def _orders_of(token, *, count: int = 3) -> list[Order]:
    return [OrderItemFactory(order__user_id=token.user_id).order for _ in range(count)]


def _listed(client: APIClient) -> dict[int, str]:
    """Order id -> status, as the next list request shows them."""
    response = client.get(ORDERS_URL)
    assert response.status_code == 200
    return {row["id"]: row["status"] for row in response.json()["results"]}


def _warm(client: APIClient) -> dict[int, str]:
    _listed(client)
    with assert_queries(0):
        return _listed(client)


def test_a_warm_orders_list_runs_no_sql(owner, token):
    orders = _orders_of(token)
    _listed(owner)

    # The token with its user, the page (its orders, their items and product names, serialized).
    with assert_queries(0), assert_query_cache_reads(hits=2):
        response = owner.get(ORDERS_URL)

    assert [row["id"] for row in response.json()["results"]] == [order.pk for order in reversed(orders)]
    assert all(len(row["items"]) == 1 for row in response.json()["results"])


def test_a_product_renamed_is_shown_by_the_next_request(owner, token):
    order = _orders_of(token, count=1)[0]
    _warm(owner)
    product = order.items.get().product

    product_services.product_update(product=product, name="Renamed")

    with assert_queries(3):  # the page is read again: the orders, their items, the product names
        response = owner.get(ORDERS_URL)
    assert response.json()["results"][0]["items"][0]["product_name"] == "Renamed"


def test_a_product_not_on_the_page_leaves_it_cached(owner, token):
    _orders_of(token, count=1)
    other = ProductFactory()
    _warm(owner)

    product_services.product_update(product=other, name="Renamed")

    with assert_queries(0):
        owner.get(ORDERS_URL)


def test_each_page_of_the_list_is_cached_and_dropped_on_its_own(owner, token):
    orders = _orders_of(token, count=3)
    first = owner.get(ORDERS_URL, {"page_size": 2}).json()
    second_url = first["next"]
    assert [row["id"] for row in owner.get(second_url).json()["results"]] == [orders[0].pk]

    placed = services.order_create(
        user=User.objects.get(pk=token.user_id), items=[OrderLine(product_id=ProductFactory().pk, quantity=1)]
    )

    assert [row["id"] for row in owner.get(ORDERS_URL, {"page_size": 2}).json()["results"]] == [
        placed.pk,
        orders[2].pk,
    ]
    assert [row["id"] for row in owner.get(second_url).json()["results"]] == [orders[0].pk]


def test_an_order_placed_is_listed_by_the_next_request(owner, token):
    _orders_of(token)
    _warm(owner)
    product = ProductFactory(stock=5)

    response = owner.post(ORDERS_URL, {"items": [{"product": product.pk, "quantity": 1}]}, format="json")

    assert response.status_code == 201
    assert _listed(owner)[response.json()["id"]] == "pending"


def test_an_order_placed_in_another_process_is_listed_by_the_next_request(owner, token):
    _warm(owner)

    order = services.order_create(
        user=User.objects.get(pk=token.user_id), items=[OrderLine(product_id=ProductFactory().pk, quantity=1)]
    )

    assert order.pk in _listed(owner)


def test_a_cancellation_is_listed_by_the_next_request(owner, token):
    order = _orders_of(token)[0]
    _warm(owner)

    assert owner.post(f"{ORDERS_URL}{order.pk}/cancel/").status_code == 200

    assert _listed(owner)[order.pk] == "cancelled"
    assert owner.get(f"{ORDERS_URL}{order.pk}/").json()["status"] == "cancelled"


def test_a_cancellation_by_staff_in_the_admin_is_listed_by_the_next_request(owner, token, admin_client):
    order = _orders_of(token)[0]
    _warm(owner)
    owner.get(f"{ORDERS_URL}{order.pk}/")  # the detail cached too

    response = admin_client.post("/admin/orders/order/", {"action": "cancel_orders", "_selected_action": [order.pk]})

    assert response.status_code == 302
    assert _listed(owner)[order.pk] == "cancelled"
    assert owner.get(f"{ORDERS_URL}{order.pk}/").json()["status"] == "cancelled"


def test_each_user_is_listed_only_their_own_orders_from_a_shared_cache():
    tokens = [TokenFactory(), TokenFactory(), TokenFactory()]
    mine = {token.pk: {order.pk for order in _orders_of(token, count=2)} for token in tokens}
    for token in tokens:
        _warm(_client(token.key))

    for token in tokens:
        assert set(_listed(_client(token.key))) == mine[token.pk]


def test_another_users_order_never_shows_through_a_warm_detail(owner, token):
    theirs = _orders_of(TokenFactory(), count=1)[0]
    _warm(owner)

    assert owner.get(f"{ORDERS_URL}{theirs.pk}/").status_code == 404
    assert owner.get(f"{ORDERS_URL}{theirs.pk}/").status_code == 404


# --- Read-your-writes with replicas ---------------------------------------------------------------

REPLICA = mirror_replica("orders_cache_mirror_replica")


@pytest.fixture
def replica_routing():
    with routing_to(REPLICA):
        yield


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_with_replicas_the_list_after_your_own_order_is_read_from_the_primary(owner, token, replica_routing):
    _orders_of(token)
    _warm(owner)
    product = ProductFactory(stock=5)

    placed = owner.post(ORDERS_URL, {"items": [{"product": product.pk, "quantity": 1}]}, format="json")

    with assert_queries(0, using=REPLICA):  # the miss the write caused fills from the primary
        assert placed.json()["id"] in _listed(owner)
    with assert_queries(0, using=["default", REPLICA]):
        assert placed.json()["id"] in _listed(owner)


@pytest.mark.parametrize("query", [{"junk": "1"}, {"page_size": "abc"}, {"page_size": "1000"}, {"page_size": "²"}])
def test_a_list_with_other_query_parameters_is_answered_and_not_cached(owner, token, query):
    _orders_of(token, count=2)
    owner.get("/api/v1/users/me/")  # the token cached

    for _ in range(2):
        with assert_query_cache_reads(hits=1):  # the token only
            response = owner.get(ORDERS_URL, query)
        assert len(response.json()["results"]) == 2
