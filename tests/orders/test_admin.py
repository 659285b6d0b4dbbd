import pytest

from apps.orders.models import Order
from tests.factories import OrderFactory, OrderItemFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

# Session user, filtered and total COUNT(*), one page of orders with their user joined,
# and the date hierarchy's range and days.
ORDER_CHANGELIST_QUERIES = 6
# Session user, filtered and total COUNT(*), one page of items with their order and product joined.
ORDER_ITEM_CHANGELIST_QUERIES = 4


def test_order_changelist_runs_the_same_queries_for_1_and_50_orders(admin_client):
    responses = assert_constant_queries(
        OrderFactory.create_batch, lambda: admin_client.get("/admin/orders/order/"), budget=ORDER_CHANGELIST_QUERIES
    )

    assert all(response.status_code == 200 for response in responses.values())


def test_order_item_changelist_runs_the_same_queries_for_1_and_50_items(admin_client):
    responses = assert_constant_queries(
        OrderItemFactory.create_batch,
        lambda: admin_client.get("/admin/orders/orderitem/"),
        budget=ORDER_ITEM_CHANGELIST_QUERIES,
    )

    assert all(response.status_code == 200 for response in responses.values())


def test_order_change_page_renders_with_its_items(admin_client):
    order = OrderFactory()
    OrderItemFactory(order=order, product__name="Desk lamp")

    response = admin_client.get(f"/admin/orders/order/{order.pk}/change/")

    assert response.status_code == 200
    assert "Desk lamp" in response.text


def test_the_admin_cancel_action_cancels_pending_orders_through_the_service(admin_client):
    item = OrderItemFactory(quantity=2, product__stock=1)
    paid = OrderFactory(status=Order.Status.PAID)

    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_orders", "_selected_action": [item.order_id, paid.pk]},
        follow=True,
    )

    assert "1 order(s) cancelled." in response.text
    assert "only a pending order can be cancelled" in response.text
    item.order.refresh_from_db()
    item.product.refresh_from_db()
    assert item.order.status == Order.Status.CANCELLED
    assert item.product.stock == 3
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID


def test_an_order_line_is_captioned_with_its_product_name(admin_client):
    item = OrderItemFactory(quantity=2, product__name="Desk lamp")

    response = admin_client.get(f"/admin/orders/order/{item.order_id}/change/")

    assert "2 × Desk lamp" in response.text
    assert "× product" not in response.text
