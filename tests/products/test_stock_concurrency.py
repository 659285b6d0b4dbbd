"""Staff edits racing orders: a catalog edit never undoes an order's decrement. PostgreSQL only,
since SQLite takes one write lock for the whole database and so cannot show the race."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.core.errors import DomainError
from apps.orders.services import OrderLine, order_create
from apps.products.models import Product, StockAdjustment
from apps.products.services import stock_adjust
from tests.factories import ProductFactory, StaffFactory, TokenFactory, UserFactory
from tests.threads import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BUYERS = 10
EDITORS = 10
ROUNDS = 10  # each thread's writes in a row: many chances for an edit to straddle an order
STOCK = 500


def _buy(buyer, product: Product) -> Callable[[], str]:
    def attempt() -> str:
        for _ in range(ROUNDS):
            try:
                order_create(user=buyer, items=[OrderLine(product_id=product.pk, quantity=1)])
            except DomainError as error:
                return error.code
        return "ordered"

    return attempt


def _patch_price(token: str, product: Product, price: Decimal) -> Callable[[], str]:
    def attempt() -> str:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        statuses = {
            client.patch(f"/api/v1/products/{product.pk}/", {"price": str(price)}).status_code for _ in range(ROUNDS)
        }
        return f"patched {sorted(statuses)}"

    return attempt


def test_price_patches_racing_orders_lose_no_decrement(postgres):
    product = ProductFactory(stock=STOCK)
    token = TokenFactory(user=StaffFactory()).key
    buys = [_buy(buyer, product) for buyer in UserFactory.create_batch(BUYERS)]
    edits = [_patch_price(token, product, Decimal(11 + i)) for i in range(EDITORS)]

    outcomes = race([attempt for pair in zip(buys, edits, strict=True) for attempt in pair])

    assert outcomes == {"ordered": BUYERS, "patched [200]": EDITORS}
    assert Product.objects.get(pk=product.pk).stock == STOCK - BUYERS * ROUNDS


def test_stock_adjustments_racing_orders_lose_no_unit(postgres):
    product = ProductFactory(stock=STOCK)
    staff = StaffFactory()
    buys = [_buy(buyer, product) for buyer in UserFactory.create_batch(BUYERS)]

    def adjust() -> str:
        for _ in range(ROUNDS):
            stock_adjust(product_id=product.pk, delta=2, reason="Delivery", user=staff)
        return "adjusted"

    outcomes = race([attempt for pair in zip(buys, [adjust] * EDITORS, strict=True) for attempt in pair])

    assert outcomes == {"ordered": BUYERS, "adjusted": EDITORS}
    assert Product.objects.get(pk=product.pk).stock == STOCK + 2 * EDITORS * ROUNDS - BUYERS * ROUNDS
    assert StockAdjustment.objects.filter(product=product).count() == EDITORS * ROUNDS


def test_stock_patches_with_if_match_racing_orders_lose_no_decrement(postgres):
    product = ProductFactory(stock=STOCK)
    token = TokenFactory(user=StaffFactory()).key
    buys = [_buy(buyer, product) for buyer in UserFactory.create_batch(BUYERS)]
    restocked: list[int] = []

    def restock() -> str:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        statuses = set()
        for _ in range(ROUNDS):
            read = client.get(f"/api/v1/products/{product.pk}/")
            response = client.patch(
                f"/api/v1/products/{product.pk}/", {"stock": read.json()["stock"] + 10}, HTTP_IF_MATCH=read["ETag"]
            )
            statuses.add(response.status_code)
            if response.status_code == 200:
                restocked.append(10)
        return "restocked" if statuses <= {200, 412} else f"answered {sorted(statuses)}"

    outcomes = race([attempt for pair in zip(buys, [restock] * EDITORS, strict=True) for attempt in pair])

    # A PATCH whose read an order overtook is refused (412): the client reads again, nothing is lost.
    assert outcomes == {"ordered": BUYERS, "restocked": EDITORS}
    assert Product.objects.get(pk=product.pk).stock == STOCK + sum(restocked) - BUYERS * ROUNDS
