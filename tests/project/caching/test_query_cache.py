"""The query cache (cacheops): repeated reads are served from Redis, and every write path, the
bulk ones included, invalidates it and the response cache alike."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.products import selectors, services
from apps.products.models import Product
from tests.factories import CategoryFactory, ProductFactory
from tests.queries import assert_constant_queries, assert_queries, assert_query_cache_reads

# Committed data, as in production: inside a test's transaction cacheops neither caches nor invalidates.
pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS_URL = "/api/v1/products/"
HIT = "X-Response-Cache"


def _anonymous_read_is_a_hit(client: APIClient, url: str) -> None:
    client.get(url)
    assert client.get(url)[HIT] == "hit", url


# --- Hits ----------------------------------------------------------------------------------------


def test_an_authenticated_product_list_read_twice_takes_its_product_queries_from_the_query_cache(user_client):
    def add_products_and_read_them_once(count: int) -> None:
        ProductFactory.create_batch(count)
        with assert_queries(1):  # the page (keyset pagination: no COUNT(*)); the token and its user are cached
            user_client.get(PRODUCTS_URL, {"page_size": 50})

    user_client.get("/api/v1/users/me/")  # caches the token and its user

    def read_them_again():
        with assert_query_cache_reads(hits=2):  # the token with its user, the page
            return user_client.get(PRODUCTS_URL, {"page_size": 50})

    # No SQL at all: the token and its user (apps/users/authentication.py) and the page, from the query cache.
    responses = assert_constant_queries(add_products_and_read_them_once, read_them_again, budget=0)

    assert {size: len(response.json()["results"]) for size, response in responses.items()} == {1: 1, 50: 50}


def _catalog_prices() -> list[Decimal]:
    return [row.price for row in selectors.products_for_catalog()]


def test_a_product_update_is_seen_by_the_next_cached_catalog_read():
    product = ProductFactory(price=Decimal("10.00"))
    _catalog_prices()
    with assert_query_cache_reads(hits=1):
        assert _catalog_prices() == [Decimal("10.00")]

    services.product_update(product=product, price=Decimal("12.50"))

    assert _catalog_prices() == [Decimal("12.50")]


def test_a_category_rename_is_seen_by_the_next_cached_catalog_read():
    product = ProductFactory()
    list(selectors.products_for_catalog())
    with assert_query_cache_reads(hits=1):
        assert [row.category.name for row in selectors.products_for_catalog()] == [product.category.name]

    services.category_update(category=product.category, name="Renamed")

    assert [row.category.name for row in selectors.products_for_catalog()] == ["Renamed"]


# --- The stale fill ------------------------------------------------------------------------------


def test_a_query_cache_fill_that_overlaps_a_write_is_never_served():
    """A read misses and runs its SQL; a write commits and invalidates; then the read stores the old
    row. That result must never be served."""
    product = ProductFactory(price=Decimal("10.00"))
    loaded, resume = threading.Event(), threading.Event()
    seen: list[Decimal] = []

    def pause_after_the_product_select(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("SELECT") and '"products_product"' in sql and not loaded.is_set():
            loaded.set()
            assert resume.wait(timeout=10)
        return result

    def slow_read() -> None:
        try:
            with connection.execute_wrapper(pause_after_the_product_select):
                seen.extend(_catalog_prices())
        finally:
            connection.close()

    reader = threading.Thread(target=slow_read)
    reader.start()
    assert loaded.wait(timeout=10)
    services.product_update(product=Product.objects.nocache().get(pk=product.pk), price=Decimal("12.50"))
    resume.set()
    reader.join(timeout=10)

    assert seen == [Decimal("10.00")]  # the overlapping read itself saw the old row
    assert _catalog_prices() == [Decimal("12.50")]
    with assert_query_cache_reads(hits=1):  # the cache works again after the race
        assert _catalog_prices() == [Decimal("12.50")]


# --- Writes that send no signal ------------------------------------------------------------------


def test_a_plain_queryset_update_invalidates_neither_cache_so_services_never_use_it(api_client):
    """Why products_set_active() uses invalidated_update(): QuerySet.update() sends no signal."""
    product = ProductFactory(price=Decimal("10.00"))
    _catalog_prices()
    _anonymous_read_is_a_hit(api_client, f"{PRODUCTS_URL}{product.pk}/")

    Product.objects.filter(pk=product.pk).update(price=Decimal("12.50"))

    assert _catalog_prices() == [Decimal("10.00")]
    assert api_client.get(f"{PRODUCTS_URL}{product.pk}/").json()["price"] == "10.00"


def test_products_set_active_invalidates_both_caches(api_client):
    on_sale, taken_off = ProductFactory.create_batch(2)
    detail_url = f"{PRODUCTS_URL}{taken_off.pk}/"
    list(selectors.products_for_catalog())
    for url in (PRODUCTS_URL, detail_url):
        _anonymous_read_is_a_hit(api_client, url)

    changed = services.products_set_active(product_ids=[taken_off.pk], is_active=False)

    assert changed == 1
    assert [row.pk for row in selectors.products_for_catalog()] == [on_sale.pk]
    with pytest.raises(Product.DoesNotExist):
        selectors.product_detail(product_id=taken_off.pk)
    assert [row["id"] for row in api_client.get(PRODUCTS_URL).json()["results"]] == [on_sale.pk]
    assert api_client.get(detail_url).status_code == 404


def test_products_set_active_puts_products_back_on_sale_in_both_caches(api_client):
    product = ProductFactory(is_active=False)
    detail_url = f"{PRODUCTS_URL}{product.pk}/"
    assert list(selectors.products_for_catalog()) == []
    _anonymous_read_is_a_hit(api_client, PRODUCTS_URL)
    api_client.get(detail_url)

    services.products_set_active(product_ids=[product.pk], is_active=True)

    assert [row.pk for row in selectors.products_for_catalog()] == [product.pk]
    assert len(api_client.get(PRODUCTS_URL).json()["results"]) == 1
    assert api_client.get(detail_url).status_code == 200


def test_products_bulk_create_invalidates_both_caches(api_client):
    category = CategoryFactory()
    ProductFactory(category=category)
    list(selectors.products_for_catalog())
    assert selectors.products_for_catalog().count() == 1
    _anonymous_read_is_a_hit(api_client, PRODUCTS_URL)

    created = services.products_bulk_create(
        products=[
            Product(category=category, name=f"Imported {n}", slug=f"imported-{n}", price=Decimal("5.00"), stock=1)
            for n in range(3)
        ]
    )

    assert len(created) == 3
    assert len(list(selectors.products_for_catalog())) == 4
    assert selectors.products_for_catalog().count() == 4
    assert len(api_client.get(PRODUCTS_URL).json()["results"]) == 4
