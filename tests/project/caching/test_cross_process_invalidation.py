"""A write in one process is seen by the very next read in another (a real gunicorn with 2 workers),
for every write path: the invalidation receivers are connected in every process (ready()), the
caches they invalidate live in the shared Redis, and the copies a worker keeps of response-cache
entries (project/caching/local_copies.py) are dropped by what Redis reports before the next read."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient
from zeal import zeal_ignore

from apps.orders import services as order_services
from apps.orders.services import OrderLine
from apps.products import services
from apps.products.models import Product
from tests.factories import ProductFactory, TokenFactory
from tests.redis_keys import cache_keys
from tests.servers import Server, running_server
from tests.workers import database_url_for_subprocesses

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS_URL = "/api/v1/products/"


@pytest.fixture(scope="module")
def web_server(django_db_setup) -> Server:
    with running_server(workers=2) as server:
        yield server


@pytest.fixture
def product(db) -> Product:
    return ProductFactory(price=Decimal("10.00"), stock=10)


@pytest.fixture
def reader_token(db) -> str:
    return TokenFactory().key


def _warm(server: Server, product: Product, token: str) -> None:
    """Fill both caches in the server with the product as it is now, and check that they hold it."""
    for url in (f"{PRODUCTS_URL}{product.pk}/", PRODUCTS_URL):
        server.get(url)
        assert server.get(url).headers.get("x-response-cache") == "hit", url
    for _ in range(2):
        server.get(PRODUCTS_URL, headers={"Authorization": f"Token {token}"})
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        assert any(b":co:q:" in key for key in cache_keys(client)), "the query cache holds nothing"
    finally:
        client.close()


def _seen(server: Server, product: Product, token: str) -> dict[str, Any]:
    """The product as the server's next reads show it: anonymous detail and list, and a signed-in list."""
    detail = server.get(f"{PRODUCTS_URL}{product.pk}/")
    anonymous = server.get(PRODUCTS_URL).json()["results"]
    signed_in = server.get(PRODUCTS_URL, headers={"Authorization": f"Token {token}"}).json()["results"]
    return {
        "detail": detail.json() if detail.status_code == 200 else detail.status_code,
        "anonymous list": next((row for row in anonymous if row["id"] == product.pk), None),
        "signed-in list": next((row for row in signed_in if row["id"] == product.pk), None),
    }


def _assert_all_show(seen: dict[str, Any], **fields: Any) -> None:
    for read, row in seen.items():
        assert isinstance(row, dict), f"{read}: {row}"
        assert {name: row[name] for name in fields} == fields, read


def test_a_staff_api_patch_is_seen_by_the_next_read_in_another_process(web_server, product, reader_token, staff_client):
    _warm(web_server, product, reader_token)

    response = staff_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"price": "12.50"})

    assert response.status_code == 200
    _assert_all_show(_seen(web_server, product, reader_token), price="12.50")


def test_an_admin_change_is_seen_by_the_next_read_in_another_process(web_server, product, reader_token, admin_client):
    _warm(web_server, product, reader_token)

    response = admin_client.post(
        f"/admin/products/product/{product.pk}/change/",
        {
            "category": product.category_id,
            "name": product.name,
            "slug": product.slug,
            "description": product.description,
            "price": "12.50",
            "stock": product.stock,
            "is_active": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    _assert_all_show(_seen(web_server, product, reader_token), price="12.50")


def test_a_service_update_is_seen_by_the_next_read_in_another_process(web_server, product, reader_token):
    _warm(web_server, product, reader_token)

    services.product_update(product=product, price=Decimal("12.50"), name="Renamed")

    _assert_all_show(_seen(web_server, product, reader_token), price="12.50", name="Renamed")


def test_each_of_a_hundred_writes_in_a_row_is_seen_by_the_next_reads_of_every_worker(web_server, product):
    """The workers answer repeated hits from memory (project/caching/local_copies.py): each write
    must reach them before the reads that follow it, however warm their copies are."""
    detail = f"{PRODUCTS_URL}{product.pk}/"
    for _ in range(4):  # a copy in each worker
        web_server.get(detail)
    stale = []

    for cents in range(1001, 1101):
        price = f"{cents / 100:.2f}"
        with zeal_ignore([{"model": "products.Product", "field": "get()"}]):  # a write per turn, on purpose
            services.product_update(product=product, price=Decimal(price))
        shown = [web_server.get(detail).json()["price"] for _ in range(4)]
        stale += [(price, seen) for seen in shown if seen != price]

    assert stale == []


def test_a_write_by_a_management_command_is_seen_by_the_next_read_in_the_web_server(web_server, product, reader_token):
    """A process that never loads the URLconf or the API (a shell, a job worker) still invalidates."""
    _warm(web_server, product, reader_token)

    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from decimal import Decimal; from apps.products import services; "
            "from apps.products.models import Product; "
            f"services.product_update(product=Product.objects.get(pk={product.pk}), price=Decimal('12.50'))",
        ],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.test_settings",
            "DATABASE_URL": database_url_for_subprocesses(),
            "REDIS_URL": settings.REDIS_URL,
        },
        check=True,
        capture_output=True,
        timeout=60,
    )

    _assert_all_show(_seen(web_server, product, reader_token), price="12.50")


def test_the_stock_an_order_takes_is_seen_by_the_next_read_in_another_process(
    web_server, product, reader_token, user_client
):
    _warm(web_server, product, reader_token)

    response = user_client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 3}]})

    assert response.status_code == 201
    _assert_all_show(_seen(web_server, product, reader_token), stock=7)


def test_the_stock_a_cancellation_restores_is_seen_by_the_next_read_in_another_process(
    web_server, product, reader_token, user
):
    order = order_services.order_create(user=user, items=[OrderLine(product_id=product.pk, quantity=3)])
    _warm(web_server, product, reader_token)
    _assert_all_show(_seen(web_server, product, reader_token), stock=7)
    client = APIClient()
    client.force_authenticate(user)

    response = client.post(f"/api/v1/orders/{order.pk}/cancel/")

    assert response.status_code == 200
    _assert_all_show(_seen(web_server, product, reader_token), stock=10)


def test_products_taken_off_sale_in_bulk_are_gone_from_the_next_read_in_another_process(
    web_server, product, reader_token
):
    _warm(web_server, product, reader_token)

    services.products_set_active(product_ids=[product.pk], is_active=False)

    assert _seen(web_server, product, reader_token) == {"detail": 404, "anonymous list": None, "signed-in list": None}


def test_products_created_in_bulk_are_in_the_next_read_in_another_process(web_server, product, reader_token):
    _warm(web_server, product, reader_token)

    created = services.products_bulk_create(
        products=[
            Product(category=product.category, name=f"Imported {n}", slug=f"imported-{n}", price=Decimal("5.00"))
            for n in range(2)
        ]
    )

    for new in created:
        _assert_all_show(_seen(web_server, new, reader_token), price="5.00")
    assert len(web_server.get(PRODUCTS_URL).json()["results"]) == 3
