"""`manage.py seed_scale`: realistic orders at any size, COPY on PostgreSQL, never in production."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Min, Sum
from django.http import HttpRequest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.orders.models import Order
from apps.products.models import Category, Product
from apps.seeding.management.commands.seed_scale import SEED_PASSWORD
from apps.users.models import User
from tests.factories import OrderItemFactory

PRODUCTS_URL = "/api/v1/products/"


def _seed(*, users: int = 20, products: int = 10, orders: int = 100) -> str:
    out = StringIO()
    call_command("seed_scale", users=users, products=products, orders=orders, stdout=out)
    return out.getvalue()


def _assert_realistic_orders(*, since: datetime) -> None:
    line_counts = Order.objects.annotate(lines=Count("items")).aggregate(fewest=Min("lines"), most=Max("lines"))
    assert line_counts["fewest"] >= 1 and line_counts["most"] <= 5
    dates = Order.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert since - timedelta(days=730) <= dates["first"] and dates["last"] <= timezone.now()
    item_sum = ExpressionWrapper(Sum(F("items__quantity") * F("items__unit_price")), output_field=DecimalField())
    assert not [order for order in Order.objects.annotate(item_sum=item_sum) if order.total != order.item_sum]


@pytest.mark.django_db
def test_seed_scale_writes_users_products_and_orders_of_1_to_5_items_over_2_years_whose_totals_add_up():
    started = timezone.now()

    output = _seed()

    assert (User.objects.count(), Product.objects.count(), Order.objects.count()) == (20, 10, 100)
    assert Category.objects.count() >= 1
    _assert_realistic_orders(since=started)
    for table in ("users_user", "products_product", "orders_order", "orders_orderitem"):
        assert table in output


@pytest.mark.django_db
def test_seed_scale_skews_orders_towards_a_few_users_who_can_log_in():
    _seed(users=50, orders=2000)

    per_user = sorted(Order.objects.values("user").annotate(n=Count("id")).values_list("n", flat=True))
    assert per_user[-1] >= 10 * per_user[len(per_user) // 2]  # the busiest user, against the median
    assert authenticate(HttpRequest(), username=User.objects.first().email, password=SEED_PASSWORD) is not None


@pytest.mark.django_db
def test_seed_scale_adds_after_existing_rows_and_new_writes_still_work():
    OrderItemFactory()
    _seed()

    assert Order.objects.count() == 101 and User.objects.count() == 21
    OrderItemFactory()


@pytest.mark.django_db
@override_settings(IS_PRODUCTION=True)
def test_seed_scale_refuses_to_run_in_production_and_writes_nothing():
    with pytest.raises(CommandError, match="never runs in production"):
        _seed()

    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)  # cacheops caches and invalidates committed data only
def test_seed_scale_drops_the_cached_catalog():
    client = APIClient()
    assert len(client.get(PRODUCTS_URL).json()["results"]) == 0
    assert client.get(PRODUCTS_URL)["X-Response-Cache"] == "hit"

    _seed()

    assert len(client.get(PRODUCTS_URL).json()["results"]) == Product.objects.filter(is_active=True).count() > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the command drops and re-adds foreign keys in its own transaction
def test_seed_scale_on_postgresql_copies_every_table_and_resets_the_sequences(postgres):
    started = timezone.now()
    OrderItemFactory()

    output = _seed()

    assert "foreign keys and indexes of orders rebuilt" in output
    assert (User.objects.count(), Product.objects.count(), Order.objects.count()) == (21, 11, 101)
    _assert_realistic_orders(since=started)
    item = OrderItemFactory()  # the sequences start after the copied ids
    assert item.order.pk > Order.objects.exclude(pk=item.order.pk).aggregate(last=Max("id"))["last"]
