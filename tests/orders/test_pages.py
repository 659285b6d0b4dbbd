import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orders.models import Order
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory
from tests.queries import assert_constant_queries, assert_queries

pytestmark = pytest.mark.django_db

# The session's user, one page of orders (keyset: no COUNT(*)), their items, the items' product names.
MY_ORDERS_QUERIES = 4
PAGE_SIZE = 20


def _link(response, rel: str) -> str | None:
    """The href of the page's rel="next" (older) or rel="prev" (newer) link, as a browser would follow it."""
    match = re.search(rf'href="([^"]*)" rel="{rel}"', response.text)
    return None if match is None else "/orders/" + html.unescape(match.group(1))


def _ids(response) -> list[int]:
    return [order.pk for order in response.context["page"]]


def _orders_a_minute_apart(*, user, count: int) -> list[Order]:
    """Newest first."""
    orders = OrderFactory.create_batch(count, user=user)
    now = timezone.now()
    for minutes_ago, order in enumerate(orders):
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(minutes=minutes_ago))
    return orders


@pytest.mark.parametrize("url", ["/orders/", "/products/1/order/", "/orders/1/cancel/"])
def test_order_pages_redirect_an_anonymous_visitor_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"


def test_my_orders_lists_only_the_users_orders_newest_first_with_their_items(client, user):
    older = OrderItemFactory(order=OrderFactory(user=user), product__name="Lamp").order
    newer = OrderItemFactory(order=OrderFactory(user=user), product__name="Mouse").order
    OrderItemFactory(product__name="Someone else's")
    client.force_login(user)

    response = client.get("/orders/")

    assert response.status_code == 200
    assert list(response.context["page"]) == [newer, older]
    assert "Mouse" in response.text and "Lamp" in response.text
    assert "Someone else" not in response.text


def test_my_orders_with_no_orders_says_so(client, user):
    client.force_login(user)

    response = client.get("/orders/")

    assert response.status_code == 200
    assert "No orders yet." in response.text


def test_my_orders_runs_the_same_queries_for_1_and_50_orders(client, user):
    def add_orders(count: int) -> None:
        for _ in range(count):
            OrderItemFactory(order=OrderFactory(user=user))

    client.force_login(user)

    responses = assert_constant_queries(add_orders, lambda: client.get("/orders/"), budget=MY_ORDERS_QUERIES)

    assert all(response.status_code == 200 for response in responses.values())


def test_a_deeper_my_orders_page_runs_the_same_queries_and_counts_nothing(client, user):
    for order in _orders_a_minute_apart(user=user, count=3 * PAGE_SIZE):
        OrderItemFactory(order=order)
    client.force_login(user)
    third = _link(client.get(_link(client.get("/orders/"), "next")), "next")

    with assert_queries(MY_ORDERS_QUERIES) as queries:
        response = client.get(third)

    assert len(response.context["page"]) == PAGE_SIZE
    assert not any("COUNT(" in query["sql"] for query in queries.captured_queries)


def test_my_orders_older_links_walk_every_order_once_and_newer_links_walk_back(client, user):
    orders = _orders_a_minute_apart(user=user, count=2 * PAGE_SIZE + 5)
    client.force_login(user)

    forward, url = [], "/orders/"
    while url:
        response = client.get(url)
        forward.append(_ids(response))
        url = _link(response, "next")
    backward, url = [], _link(response, "prev")
    while url:
        response = client.get(url)
        backward.append(_ids(response))
        url = _link(response, "prev")

    assert [len(page) for page in forward] == [PAGE_SIZE, PAGE_SIZE, 5]
    assert [pk for page in forward for pk in page] == [order.pk for order in orders]
    assert backward == forward[-2::-1]


def test_my_orders_links_say_newer_and_older(client, user):
    _orders_a_minute_apart(user=user, count=2 * PAGE_SIZE + 1)
    client.force_login(user)

    second = client.get(_link(client.get("/orders/"), "next"))

    assert 'rel="prev">&larr; Newer</a>' in second.text
    assert 'rel="next">Older &rarr;</a>' in second.text


@pytest.mark.parametrize("cursor", ["not-a-cursor", "cD1ub3QtYS1kYXRl"])  # the second decodes to p=not-a-date
def test_my_orders_with_a_forged_cursor_shows_the_newest_orders(client, user, cursor):
    orders = _orders_a_minute_apart(user=user, count=PAGE_SIZE + 1)
    client.force_login(user)

    response = client.get("/orders/", {"cursor": cursor})

    assert response.status_code == 200
    assert _ids(response) == [order.pk for order in orders[:PAGE_SIZE]]


def test_ordering_from_the_product_page_places_the_order_and_takes_the_stock(client, user):
    product = ProductFactory(stock=5)
    client.force_login(user)

    response = client.post(f"/products/{product.pk}/order/", {"quantity": "2"}, follow=True)

    assert response.redirect_chain == [("/orders/", 302)]
    order = Order.objects.get(user=user)
    assert [(item.product_id, item.quantity) for item in order.items.all()] == [(product.pk, 2)]
    product.refresh_from_db()
    assert product.stock == 3
    assert f"Order {order.pk} placed" in response.text


def test_ordering_more_than_the_stock_shows_the_message_and_writes_nothing(client, user):
    product = ProductFactory(stock=1, name="Desk lamp")
    client.force_login(user)

    response = client.post(f"/products/{product.pk}/order/", {"quantity": "2"})

    assert response.status_code == 409
    assert "Only 1 of Desk lamp left in stock." in response.text
    assert f"product {product.pk}" not in response.text
    assert not Order.objects.exists()
    product.refresh_from_db()
    assert product.stock == 1


def test_the_over_stock_error_is_linked_to_the_quantity_field_which_keeps_the_typed_value(client, user):
    product = ProductFactory(stock=1)
    client.force_login(user)

    response = client.post(f"/products/{product.pk}/order/", {"quantity": "7"})

    assert 'aria-describedby="id_quantity_error"' in response.text
    assert 'id="id_quantity_error"' in response.text
    assert 'value="7"' in response.text


def test_cancelling_a_pending_order_from_my_orders_restores_the_stock_and_says_so(client, user):
    item = OrderItemFactory(order__user=user, quantity=2, product__stock=3)
    client.force_login(user)

    response = client.post(f"/orders/{item.order_id}/cancel/", follow=True)

    assert response.redirect_chain == [("/orders/", 302)]
    assert f"Order {item.order_id} cancelled" in response.text
    item.order.refresh_from_db()
    item.product.refresh_from_db()
    assert item.order.status == Order.Status.CANCELLED
    assert item.product.stock == 5


def test_my_orders_offers_cancel_only_for_pending_orders(client, user):
    pending = OrderFactory(user=user)
    paid = OrderFactory(user=user, status=Order.Status.PAID)
    client.force_login(user)

    response = client.get("/orders/")

    assert f"/orders/{pending.pk}/cancel/" in response.text
    assert f"/orders/{paid.pk}/cancel/" not in response.text


def test_cancelling_an_order_that_is_not_pending_shows_why_and_changes_nothing(client, user):
    order = OrderFactory(user=user, status=Order.Status.PAID)
    client.force_login(user)

    response = client.post(f"/orders/{order.pk}/cancel/", follow=True)

    assert "only a pending order can be cancelled" in response.text
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_user_cannot_cancel_another_users_order(client, user):
    order = OrderFactory()
    client.force_login(user)

    response = client.post(f"/orders/{order.pk}/cancel/")

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_cancelling_is_post_only(client, user):
    order = OrderFactory(user=user)
    client.force_login(user)

    assert client.get(f"/orders/{order.pk}/cancel/").status_code == 405


def test_cancelling_needs_the_csrf_token(user):
    from django.test import Client

    order = OrderFactory(user=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.post(f"/orders/{order.pk}/cancel/").status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


@pytest.mark.parametrize("quantity", ["0", "-1", "1001", "abc", ""])
def test_ordering_a_bad_quantity_is_a_form_error_and_writes_nothing(client, user, quantity):
    product = ProductFactory(stock=5)
    client.force_login(user)

    response = client.post(f"/products/{product.pk}/order/", {"quantity": quantity})

    assert response.status_code == 200
    assert "quantity" in response.context["order_form"].errors
    assert 'class="errorlist"' in response.text
    assert not Order.objects.exists()


def test_ordering_an_inactive_product_writes_nothing_and_ends_on_a_404(client, user):
    product = ProductFactory(is_active=False)
    client.force_login(user)

    response = client.post(f"/products/{product.pk}/order/", {"quantity": "1"})

    assert response.status_code == 302
    assert client.get(response.url).status_code == 404
    assert not Order.objects.exists()


def test_opening_the_order_address_after_login_goes_back_to_the_product_page(client, user):
    product = ProductFactory()
    client.force_login(user)

    response = client.get(f"/products/{product.pk}/order/")

    assert response.status_code == 302
    assert response.url == f"/products/{product.pk}/"


def test_an_unverified_account_ordering_from_the_product_page_is_told_to_verify(client, settings):
    settings.EMAIL_VERIFICATION_REQUIRED_TO_ORDER = True
    product = ProductFactory(stock=5)
    client.force_login(UserFactory(email_verified_at=None))

    response = client.post(f"/products/{product.pk}/order/", {"quantity": "1"}, follow=True)

    assert response.redirect_chain == [(f"/products/{product.pk}/", 302)]
    assert "Verify your email before placing an order" in response.text
    assert not Order.objects.exists()
