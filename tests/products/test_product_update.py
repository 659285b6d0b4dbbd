"""Catalog edits lock the row and write only what changed, so an edit never undoes an order."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from zeal import zeal_ignore

from apps.core.errors import DomainError
from apps.orders.services import OrderLine, order_create
from apps.products import selectors, services
from apps.products.models import Category, Product
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def _updates(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].startswith("UPDATE")]


def test_an_edit_from_a_stale_read_keeps_the_stock_that_orders_took():
    product = ProductFactory(stock=10)
    read_before_the_order = Product.objects.get(pk=product.pk)
    order_create(user=UserFactory(), items=[OrderLine(product_id=product.pk, quantity=3)])

    services.product_update(product=read_before_the_order, price=Decimal("12.50"))

    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("12.50"), 7)


def test_an_edit_writes_only_the_fields_that_changed():
    product = ProductFactory(name="Lamp", price=Decimal("10.00"))

    with CaptureQueriesContext(connection) as queries:
        services.product_update(product=product, name="Lamp", price=Decimal("12.50"))

    [update] = _updates(queries)
    assert '"price"' in update and '"updated_at"' in update
    assert '"stock"' not in update and '"name"' not in update and '"description"' not in update


def test_an_edit_that_changes_nothing_writes_nothing():
    product = ProductFactory(price=Decimal("10.00"))

    with CaptureQueriesContext(connection) as queries:
        services.product_update(product=product, price=Decimal("10.0"))

    assert _updates(queries) == []


def test_an_edit_moves_a_product_to_another_category():
    product = ProductFactory()
    category = CategoryFactory()

    updated = services.product_update(product=product, category=category)

    assert updated.category == category
    assert Product.objects.get(pk=product.pk).category_id == category.pk


def test_a_category_edit_from_a_stale_read_keeps_what_others_changed():
    category = CategoryFactory(name="Books", slug="books")
    stale = Category.objects.get(pk=category.pk)
    Category.objects.filter(pk=category.pk).update(slug="novels")

    services.category_update(category=stale, name="Novels")

    category.refresh_from_db()
    assert (category.name, category.slug) == ("Novels", "novels")


def test_a_new_stock_without_the_version_read_is_refused_with_428_and_writes_nothing():
    product = ProductFactory(stock=10, price=Decimal("10.00"))

    with pytest.raises(DomainError) as raised:
        services.product_update(product=product, stock=50, price=Decimal("12.50"))

    assert (raised.value.status, raised.value.code) == (428, "precondition_required")
    product.refresh_from_db()
    assert (product.stock, product.price) == (10, Decimal("10.00"))


def test_stock_sent_back_unchanged_needs_no_version():
    product = ProductFactory(stock=10)

    services.product_update(product=product, stock=10, price=Decimal("12.50"))

    assert Product.objects.get(pk=product.pk).price == Decimal("12.50")


def test_a_new_stock_with_the_current_version_is_written():
    product = ProductFactory(stock=10)
    version = selectors.product_version(product=product)

    services.product_update(product=product, expected_versions={version}, stock=50)

    assert Product.objects.get(pk=product.pk).stock == 50


def test_a_version_older_than_an_order_is_refused_with_412_and_writes_nothing():
    product = ProductFactory(stock=10)
    version = selectors.product_version(product=product)
    order_create(user=UserFactory(), items=[OrderLine(product_id=product.pk, quantity=1)])

    with pytest.raises(DomainError) as raised:
        services.product_update(product=product, expected_versions={version}, stock=50)

    assert (raised.value.status, raised.value.code) == (412, "precondition_failed")
    assert Product.objects.get(pk=product.pk).stock == 9


def test_the_version_changes_with_every_write_the_detail_shows():
    product = ProductFactory()
    versions = {selectors.product_version(product=product)}

    with zeal_ignore([{"model": "products.Product", "field": "get()"}]):
        services.stock_adjust(product_id=product.pk, delta=1, reason="Found one", user=None)
        versions.add(selectors.product_version(product=selectors.product_detail(product_id=product.pk)))
        services.category_update(category=product.category, name="Renamed")
        versions.add(selectors.product_version(product=selectors.product_detail(product_id=product.pk)))

    assert len(versions) == 3
