"""The N+1 guard (django-zeal): on in every test (tests/conftest.py) and in development requests,
a related object or .get() loaded again and again from one line of code raises NPlusOneError."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from zeal import NPlusOneError, zeal_context, zeal_ignore

from apps.orders import services as order_services
from apps.orders.models import Order
from apps.orders.services import OrderLine
from apps.products import selectors
from apps.products.models import Product
from project.ops.n_plus_one import NPlusOneGuardMiddleware
from tests.factories import OrderFactory, ProductFactory
from tests.queries import assert_queries

# Committed data, as in production: inside a test's transaction cacheops neither caches nor invalidates.
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def orders(db) -> None:
    OrderFactory.create_batch(3)


def test_a_loop_reading_each_orders_user_without_select_related_raises(orders):
    with pytest.raises(NPlusOneError, match=r"N\+1 detected on orders\.Order\.user"):
        for order in Order.objects.all():
            order.user.email  # noqa: B018 - the lazy load is the point


def test_the_same_loop_on_a_queryset_with_select_related_passes(orders):
    with assert_queries(1):
        emails = [order.user.email for order in Order.objects.select_related("user")]

    assert len(emails) == 3


def test_zeal_ignore_allows_a_named_n_plus_one_and_only_that_one(orders):
    with zeal_ignore([{"model": "orders.Order", "field": "user"}]):
        emails = [order.user.email for order in Order.objects.all()]

        with pytest.raises(NPlusOneError, match=r"orders\.Order\.get\(\)"):
            for order_id in Order.objects.values_list("id", flat=True):
                Order.objects.get(pk=order_id)

    assert len(emails) == 3


def _view_getting_each_order(request: HttpRequest) -> HttpResponse:
    for order_id in Order.objects.values_list("id", flat=True):
        Order.objects.get(pk=order_id)
    return HttpResponse("ok")


def test_a_request_with_an_n_plus_one_raises_in_the_guard_middleware(orders):
    guard = NPlusOneGuardMiddleware(_view_getting_each_order)

    with pytest.raises(NPlusOneError):
        guard(RequestFactory().get("/api/v1/orders/"))


def test_the_guard_middleware_allows_the_admins_single_object_loads(orders):
    """zeal names Django's own .get()s by one middleware line; under /admin/ they are not a loop."""
    guard = NPlusOneGuardMiddleware(_view_getting_each_order)

    assert guard(RequestFactory().get("/admin/orders/order/1/change/")).status_code == 200


def test_a_get_in_a_loop_raises(orders):
    with pytest.raises(NPlusOneError, match=r"orders\.Order\.get\(\)"):
        for order_id in Order.objects.values_list("id", flat=True):
            Order.objects.get(pk=order_id)


@committed
def test_a_catalog_read_from_the_query_cache_passes_the_guard():
    """cacheops stores and replays the selector's rows with their categories: no lazy load on a hit."""
    ProductFactory.create_batch(3)
    first = [product.category.name for product in selectors.products_for_catalog()]

    with assert_queries(0):
        second = [product.category.name for product in selectors.products_for_catalog()]

    assert first == second and len(second) == 3


@committed
def test_a_lazy_load_of_a_cached_model_in_a_loop_still_raises():
    """A query cache hit is still a round trip per row (to Redis): the guard does not look away."""
    ProductFactory.create_batch(3)

    with pytest.raises(NPlusOneError, match=r"products\.Product\.category"):
        for product in Product.objects.all():
            product.category.name  # noqa: B018 - the lazy load is the point


def _start_django(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print('zeal' in settings.INSTALLED_APPS, settings.MIDDLEWARE[0])",
        ],
        cwd=settings.BASE_DIR,
        # Only the variables given here decide: none of this run's environment's.
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "N_PLUS_ONE_GUARD")},
            "DJANGO_SETTINGS_MODULE": "project.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_guard_is_on_by_default_in_development():
    result = _start_django(ENVIRONMENT="development")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "project.ops.n_plus_one.NPlusOneGuardMiddleware"]


def test_the_guard_is_off_by_default_in_production():
    result = _start_django(ENVIRONMENT="production", SECRET_KEY="x" * 50)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


def test_production_refuses_the_guard():
    result = _start_django(ENVIRONMENT="production", SECRET_KEY="x" * 50, N_PLUS_ONE_GUARD="true")

    assert result.returncode != 0
    assert "N_PLUS_ONE_GUARD" in result.stderr


def _place_and_cancel(*, user, lines: int) -> tuple[int, int]:
    products = ProductFactory.create_batch(lines, stock=10)
    # Each service call in a guard context of its own, as each is a request of its own.
    with zeal_context(), CaptureQueriesContext(connection) as placing:
        order = order_services.order_create(user=user, items=[OrderLine(product_id=p.pk, quantity=2) for p in products])
    with zeal_context(), CaptureQueriesContext(connection) as cancelling:
        order_services.order_cancel(user=user, order_id=order.pk)
    assert list(Product.objects.filter(pk__in=[p.pk for p in products]).values_list("stock", flat=True)) == [10] * lines
    return len(placing), len(cancelling)


def test_placing_and_cancelling_an_order_cost_the_same_queries_for_1_and_5_products(user):
    """Stock is written in one UPDATE, not one save() per product (cacheops re-reads each saved row)."""
    assert _place_and_cancel(user=user, lines=1) == _place_and_cancel(user=user, lines=5)
