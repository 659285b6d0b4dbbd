from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest
from django.test import override_settings
from django.urls import reverse
from zeal import zeal_ignore

from apps.orders.models import Order
from apps.products.models import Category, Product
from apps.seeding.management.commands.seed_demo import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CATALOG,
    DEMO_EMAIL,
    DEMO_ORDERS,
    DEMO_PASSWORD,
)
from apps.users.models import User

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Category, Product, User, Order)}


def test_seed_demo_creates_a_catalog_a_demo_user_and_a_superuser():
    _seed()

    assert Category.objects.count() == 5
    assert Product.objects.count() == 30
    # Two sign-ins in one test, each one User.get() from the same line of the auth backend: no loop.
    with zeal_ignore([{"model": "users.User", "field": "get()"}]):
        assert authenticate(HttpRequest(), username=DEMO_EMAIL, password=DEMO_PASSWORD) is not None
        admin = authenticate(HttpRequest(), username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    assert admin.is_staff and admin.is_superuser


def test_seed_demo_prints_the_passwords_and_where_to_use_them():
    output = _seed()

    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in output
    assert f"{ADMIN_EMAIL} / {ADMIN_PASSWORD}" in output
    assert "http://127.0.0.1:8000/login/" in output
    assert "http://127.0.0.1:8000/admin/" in output


def test_seed_demo_run_twice_changes_no_row_count():
    _seed()
    first = _row_counts()

    _seed()

    assert _row_counts() == first


def test_seed_demo_leaves_existing_rows_as_they_are():
    _seed()
    product = Product.objects.get(slug="desk-lamp")
    product.stock = 1
    product.save()

    _seed()

    product.refresh_from_db()
    assert product.stock == 1


def test_seed_demo_places_the_demo_users_orders_through_the_orders_services_once():
    _seed()
    demo = User.objects.filter(email=DEMO_EMAIL).first()
    orders = list(Order.objects.filter(user=demo).prefetch_related("items").order_by("id"))

    assert [order.status for order in orders] == [
        Order.Status.CANCELLED if demo_order.cancelled else Order.Status.PENDING for demo_order in DEMO_ORDERS
    ]
    assert all(order.total == sum(item.quantity * item.unit_price for item in order.items.all()) for order in orders)
    initial_stock = {name: stock for items in CATALOG.values() for name, _, stock in items}
    desk = Product.objects.get(name="Standing desk")
    headphones = Product.objects.get(name="Studio headphones")
    assert desk.stock == initial_stock["Standing desk"] - 1  # taken by a pending order
    assert headphones.stock == initial_stock["Studio headphones"]  # given back by the cancelled one

    output = _seed()

    assert Order.objects.filter(user=demo).count() == len(DEMO_ORDERS)
    assert "none placed" in output


def test_seed_demo_orders_show_on_the_demo_users_my_orders_page(client):
    _seed()
    client.force_login(User.objects.filter(email=DEMO_EMAIL).first())

    response = client.get(reverse("pages:orders"))

    assert response.status_code == 200
    assert len(response.context["page"]) == len(DEMO_ORDERS)
    for demo_order in DEMO_ORDERS:
        assert all(name in response.text for name, _ in demo_order.lines)
    assert "Cancelled" in response.text and "Pending" in response.text


@override_settings(IS_PRODUCTION=True)
def test_seed_demo_refuses_to_run_in_production_and_writes_nothing():
    with pytest.raises(CommandError, match="never runs in production"):
        _seed()

    assert not User.objects.exists()
