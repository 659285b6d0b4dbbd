import pytest

from tests.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db

# Session user, filtered and total COUNT(*), one page of orders with their user joined,
# and the date hierarchy's range and days.
ORDER_CHANGELIST_QUERIES = 6
# Session user, filtered and total COUNT(*), one page of items with their order and product joined.
ORDER_ITEM_CHANGELIST_QUERIES = 4


@pytest.mark.parametrize("rows", [1, 50])
def test_order_changelist_runs_the_same_queries_for_1_and_50_orders(admin_client, django_assert_num_queries, rows):
    OrderFactory.create_batch(rows)

    with django_assert_num_queries(ORDER_CHANGELIST_QUERIES):
        response = admin_client.get("/admin/orders/order/")

    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 50])
def test_order_item_changelist_runs_the_same_queries_for_1_and_50_items(
    admin_client, django_assert_num_queries, rows
):
    OrderItemFactory.create_batch(rows)

    with django_assert_num_queries(ORDER_ITEM_CHANGELIST_QUERIES):
        response = admin_client.get("/admin/orders/orderitem/")

    assert response.status_code == 200


def test_order_change_page_renders_with_its_items(admin_client):
    order = OrderFactory()
    OrderItemFactory(order=order, product__name="Desk lamp")

    response = admin_client.get(f"/admin/orders/order/{order.pk}/change/")

    assert response.status_code == 200
    assert "Desk lamp" in response.text
