"""Many buyers racing for the last few units: row locks keep stock exact. PostgreSQL only,
since SQLite takes one write lock for the whole database and so cannot show the race."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from apps.core.errors import DomainError
from apps.orders.models import Order, OrderItem
from apps.orders.services import OrderLine, order_create
from apps.products.models import Product
from tests.factories import ProductFactory, TokenFactory, UserFactory
from tests.races import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BUYERS = 20
STOCK = 5


def test_concurrent_orders_sell_exactly_the_stock_and_no_more(postgres):
    product = ProductFactory(stock=STOCK)
    buyers = UserFactory.create_batch(BUYERS)

    def buy(buyer) -> Callable[[], str]:
        def attempt() -> str:
            try:
                order_create(user=buyer, items=[OrderLine(product_id=product.pk, quantity=1)])
            except DomainError as error:
                return error.code
            return "ordered"

        return attempt

    outcomes = race([buy(buyer) for buyer in buyers])

    assert outcomes == {"ordered": STOCK, "out_of_stock": BUYERS - STOCK}
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == STOCK
    assert OrderItem.objects.count() == STOCK


def test_concurrent_orders_through_the_api_sell_exactly_the_stock_and_no_more(postgres):
    product = ProductFactory(stock=STOCK)
    tokens = [TokenFactory().key for _ in range(BUYERS)]

    def buy(token: str) -> Callable[[], str]:
        def attempt() -> str:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            response = client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 1}]})
            return str(response.status_code)

        return attempt

    outcomes = race([buy(token) for token in tokens])

    assert outcomes == {"201": STOCK, "409": BUYERS - STOCK}
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == STOCK
