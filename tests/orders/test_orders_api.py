from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.orders.models import Order, OrderItem
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/"


def _order_of(*lines: tuple[int, int]) -> dict:
    return {"items": [{"product": product_id, "quantity": quantity} for product_id, quantity in lines]}


def _nothing_was_written(*products) -> bool:
    """No order or item exists and every product still has the stock it was made with."""
    stock_now = dict(type(products[0]).objects.filter(pk__in=[p.pk for p in products]).values_list("pk", "stock"))
    unchanged = stock_now == {product.pk: product.stock for product in products}
    return unchanged and not Order.objects.exists() and not OrderItem.objects.exists()


def test_order_is_created_with_items_unit_prices_and_total(user_client, user):
    lamp = ProductFactory(price=Decimal("12.50"))
    bulb = ProductFactory(price=Decimal("2.00"))

    response = user_client.post(ORDERS_URL, _order_of((lamp.pk, 2), (bulb.pk, 3)), format="json")

    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get()
    assert (body["id"], body["status"], body["total"]) == (order.pk, "pending", "31.00")
    assert sorted(body["items"], key=lambda item: item["product"]) == [
        {"product": lamp.pk, "product_name": lamp.name, "quantity": 2, "unit_price": "12.50"},
        {"product": bulb.pk, "product_name": bulb.name, "quantity": 3, "unit_price": "2.00"},
    ]
    assert order.user == user


def test_order_takes_its_quantities_out_of_stock(user_client):
    product = ProductFactory(stock=5)

    user_client.post(ORDERS_URL, _order_of((product.pk, 2)), format="json")

    product.refresh_from_db()
    assert product.stock == 3


def test_order_lines_for_the_same_product_are_merged(user_client):
    product = ProductFactory(stock=5)

    response = user_client.post(ORDERS_URL, _order_of((product.pk, 2), (product.pk, 1)), format="json")

    assert response.status_code == 201
    assert [(item["product"], item["quantity"]) for item in response.json()["items"]] == [(product.pk, 3)]
    product.refresh_from_db()
    assert product.stock == 2


def test_order_keeps_the_unit_price_paid_when_the_price_changes_later(user_client):
    product = ProductFactory(price=Decimal("10.00"))
    order_id = user_client.post(ORDERS_URL, _order_of((product.pk, 1)), format="json").json()["id"]
    product.price = Decimal("99.00")
    product.save()

    response = user_client.get(f"{ORDERS_URL}{order_id}/")

    assert response.json()["items"][0]["unit_price"] == "10.00"
    assert response.json()["total"] == "10.00"


def test_order_for_more_than_stock_is_rejected_and_writes_nothing(user_client):
    product = ProductFactory(name="Desk Lamp", stock=2)

    response = user_client.post(ORDERS_URL, _order_of((product.pk, 3)), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"
    assert "Desk Lamp" in response.json()["error"]["message"]
    assert _nothing_was_written(product)


def test_order_where_only_the_last_line_lacks_stock_writes_nothing(user_client):
    plenty = ProductFactory(stock=10)
    scarce = ProductFactory(stock=1)

    response = user_client.post(ORDERS_URL, _order_of((plenty.pk, 5), (scarce.pk, 2)), format="json")

    assert response.status_code == 409
    assert _nothing_was_written(plenty, scarce)


def test_order_lines_that_together_exceed_stock_are_rejected(user_client):
    product = ProductFactory(stock=3)

    response = user_client.post(ORDERS_URL, _order_of((product.pk, 2), (product.pk, 2)), format="json")

    assert response.status_code == 409
    assert _nothing_was_written(product)


def test_order_of_an_inactive_product_is_400_naming_it_and_writes_nothing(user_client):
    available = ProductFactory(stock=5)
    withdrawn = ProductFactory(is_active=False)

    response = user_client.post(ORDERS_URL, _order_of((available.pk, 1), (withdrawn.pk, 1)), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_product"
    assert str(withdrawn.pk) in response.json()["error"]["message"]
    assert _nothing_was_written(available, withdrawn)


def test_order_of_an_unknown_product_is_400_naming_it(user_client):
    response = user_client.post(ORDERS_URL, _order_of((987654, 1)), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_product"
    assert "987654" in response.json()["error"]["message"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": []},
        {"items": "x"},
        {"items": None},
        {"items": {"product": 1, "quantity": 1}},
        {"items": [1]},
        {"items": [{"quantity": 1}]},
        {"items": [{"product": "PRODUCT", "quantity": "abc"}]},
        {"items": [{"product": "PRODUCT", "quantity": 1.5}]},
        {"items": [{"product": "PRODUCT", "quantity": 0}]},
        {"items": [{"product": "PRODUCT", "quantity": -1}]},
        {"items": [{"product": "PRODUCT", "quantity": 10**30}]},
        {"items": [{"product": "PRODUCT", "quantity": 1e30}]},
        {"items": [{"product": "PRODUCT", "quantity": True}]},
        {"items": [{"product": 10**30, "quantity": 1}]},
        {"items": [{"product": 2**63, "quantity": 1}]},
        {"items": [{"product": -1, "quantity": 1}]},
        {"items": [{"product": "abc", "quantity": 1}]},
        {"items": [{"product": "PRODUCT", "quantity": 1}] * 51},
        [{"product": "PRODUCT", "quantity": 1}],
        "items",
        None,
    ],
    ids=lambda body: repr(body)[:40],
)
def test_order_with_malformed_input_is_400_and_writes_nothing(user_client, body):
    product = ProductFactory(stock=5)
    body = _with_product_id(body, product.pk)

    response = user_client.post(ORDERS_URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert _nothing_was_written(product)


def _with_product_id(body, product_id: int):
    """``body`` with every "PRODUCT" placeholder replaced by a real id, so only the fault under test remains."""
    if isinstance(body, dict):
        return {key: _with_product_id(value, product_id) for key, value in body.items()}
    if isinstance(body, list):
        return [_with_product_id(value, product_id) for value in body]
    return product_id if body == "PRODUCT" else body


@pytest.mark.parametrize("raw", [b"{bad json", b'{"items": [', b"", b"\xff\xfe"], ids=repr)
def test_order_with_a_body_that_is_not_json_is_400(user_client, raw):
    response = user_client.generic("POST", ORDERS_URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert not Order.objects.exists()


def test_order_with_json_nested_deeper_than_python_decodes_is_400(user_client):
    raw = b'{"items": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"

    response = user_client.generic("POST", ORDERS_URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert not Order.objects.exists()


def test_order_in_an_unsupported_media_type_is_415(user_client):
    response = user_client.generic("POST", ORDERS_URL, b"items=1", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_order_create_by_an_anonymous_caller_is_401(api_client):
    product = ProductFactory(stock=5)

    response = api_client.post(ORDERS_URL, _order_of((product.pk, 1)), format="json")

    assert response.status_code == 401
    assert _nothing_was_written(product)


def test_order_list_shows_only_the_callers_orders(user_client, user):
    mine = OrderFactory(user=user)
    OrderFactory()

    response = user_client.get(ORDERS_URL)

    assert response.status_code == 200
    assert [order["id"] for order in response.json()["results"]] == [mine.pk]


def test_order_list_is_newest_first(user_client, user):
    older = OrderFactory(user=user)
    newer = OrderFactory(user=user)
    Order.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))

    response = user_client.get(ORDERS_URL)

    assert [order["id"] for order in response.json()["results"]] == [newer.pk, older.pk]


def test_order_list_embeds_the_items(user_client, user):
    item = OrderItemFactory(order=OrderFactory(user=user), quantity=2, unit_price=Decimal("4.00"))

    response = user_client.get(ORDERS_URL)

    assert response.json()["results"][0]["items"] == [
        {"product": item.product.pk, "product_name": item.product.name, "quantity": 2, "unit_price": "4.00"}
    ]


def test_order_list_pages_with_a_cursor(user_client, user):
    orders = OrderFactory.create_batch(3, user=user)
    for days_ago, order in enumerate(reversed(orders)):
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=days_ago))

    first = user_client.get(ORDERS_URL, {"page_size": 2}).json()
    second = user_client.get(first["next"]).json()

    assert "count" not in first
    assert [order["id"] for order in first["results"]] == [orders[2].pk, orders[1].pk]
    assert [order["id"] for order in second["results"]] == [orders[0].pk]
    assert second["next"] is None


def test_order_list_with_a_forged_cursor_is_404(user_client):
    response = user_client.get(ORDERS_URL, {"cursor": "not-a-cursor"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_order_list_for_an_anonymous_caller_is_401(api_client):
    response = api_client.get(ORDERS_URL)

    assert response.status_code == 401


def test_an_order_is_shown_to_its_owner(user_client, user):
    order = OrderItemFactory(order=OrderFactory(user=user)).order

    response = user_client.get(f"{ORDERS_URL}{order.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == order.pk
    assert len(response.json()["items"]) == 1


def test_another_users_order_is_404(user_client):
    order = OrderFactory()

    response = user_client.get(f"{ORDERS_URL}{order.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_cancel_sets_the_order_cancelled_and_restores_stock(user_client):
    product = ProductFactory(stock=5)
    order_id = user_client.post(ORDERS_URL, _order_of((product.pk, 2)), format="json").json()["id"]

    response = user_client.post(f"{ORDERS_URL}{order_id}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    product.refresh_from_db()
    assert product.stock == 5


def test_cancelling_twice_is_409_and_restores_stock_once(user_client):
    product = ProductFactory(stock=5)
    order_id = user_client.post(ORDERS_URL, _order_of((product.pk, 2)), format="json").json()["id"]
    user_client.post(f"{ORDERS_URL}{order_id}/cancel/")

    response = user_client.post(f"{ORDERS_URL}{order_id}/cancel/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_cancellable"
    product.refresh_from_db()
    assert product.stock == 5


def test_cancelling_a_paid_order_is_409_and_keeps_it_paid(user_client, user):
    item = OrderItemFactory(order=OrderFactory(user=user, status=Order.Status.PAID), product__stock=5)

    response = user_client.post(f"{ORDERS_URL}{item.order.pk}/cancel/")

    assert response.status_code == 409
    item.order.refresh_from_db()
    item.product.refresh_from_db()
    assert item.order.status == Order.Status.PAID
    assert item.product.stock == 5


def test_cancelling_another_users_order_is_404_and_changes_nothing(user_client):
    item = OrderItemFactory(product__stock=5)

    response = user_client.post(f"{ORDERS_URL}{item.order.pk}/cancel/")

    assert response.status_code == 404
    item.order.refresh_from_db()
    item.product.refresh_from_db()
    assert item.order.status == Order.Status.PENDING
    assert item.product.stock == 5


def test_cancel_by_an_anonymous_caller_is_401(api_client):
    order = OrderFactory()

    response = api_client.post(f"{ORDERS_URL}{order.pk}/cancel/")

    assert response.status_code == 401


def test_order_list_costs_the_same_queries_for_1_and_50_orders(user_client, user):
    def add_orders(count: int) -> None:
        for order in OrderFactory.create_batch(count, user=user):
            OrderItemFactory.create_batch(2, order=order)

    # Uncached (the query cache is off inside the test's transaction): the token with its user, the
    # page of orders, their items, the items' product names.
    responses = assert_constant_queries(add_orders, lambda: user_client.get(ORDERS_URL), budget=4)

    for rows, response in responses.items():
        results = response.json()["results"]
        assert len(results) == min(rows, 20)
        assert all(len(order["items"]) == 2 for order in results)


@pytest.fixture
def unverified_client(api_client):
    api_client.force_authenticate(UserFactory(email_verified_at=None))
    return api_client


def test_an_unverified_account_cannot_order_when_verification_is_required(unverified_client, settings):
    settings.EMAIL_VERIFICATION_REQUIRED_TO_ORDER = True
    product = ProductFactory(stock=5)

    response = unverified_client.post(ORDERS_URL, _order_of((product.pk, 1)), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_unverified"
    assert "Verify your email" in response.json()["error"]["message"]
    assert _nothing_was_written(product)


def test_an_unverified_account_orders_by_default_as_api_v1_clients_did(unverified_client):
    product = ProductFactory(stock=5)

    response = unverified_client.post(ORDERS_URL, _order_of((product.pk, 1)), format="json")

    assert response.status_code == 201
