"""Redis trouble, for real: a gunicorn on a private redis-server that the test stops, freezes (SIGSTOP)
and restarts. Requests keep working and stay fast, caching comes back, and a write made while Redis
was unreachable is never hidden behind what the caches held before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.products.models import Product
from tests.factories import ProductFactory, StaffFactory, TokenFactory
from tests.servers import PrivateRedis, Server, private_redis, running_server
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS_URL = "/api/v1/products/"
# A request may pay one socket timeout (REDIS_SOCKET_TIMEOUT, 0.5 s) before the breaker opens.
SLOWEST_REQUEST_SECONDS = 2.0
# The breaker's cooldown: after it, each worker tries Redis again.
COOLDOWN_SECONDS = 2.0


@dataclass(frozen=True)
class Shop:
    redis: PrivateRedis
    server: Server
    product: Product
    buyer_token: str
    staff_token: str

    @property
    def detail_url(self) -> str:
        return f"{PRODUCTS_URL}{self.product.pk}/"

    def buyer(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.buyer_token}"}

    def staff(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.staff_token}"}


@pytest.fixture
def data(db) -> dict:
    """Committed rows the servers read: a product, a buyer's token and a staff member's token."""
    return {
        "product": ProductFactory(price=Decimal("10.00"), stock=1000),
        "buyer_token": TokenFactory().key,
        "staff_token": TokenFactory(user=StaffFactory()).key,
    }


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


@contextmanager
def shop_on(redis_server: PrivateRedis, data: dict, *, workers: int) -> Iterator[Shop]:
    with running_server(workers=workers, redis_url=redis_server.url) as server:
        yield Shop(redis=redis_server, server=server, **data)


@pytest.fixture
def shop(redis_server, data) -> Iterator[Shop]:
    with shop_on(redis_server, data, workers=2) as running:
        yield running


def _warm(shop: Shop) -> None:
    for url in (shop.detail_url, PRODUCTS_URL):
        wait_until(lambda url=url: shop.server.get(url).headers.get("x-response-cache") == "hit", timeout=10)


def _requests_of_a_visit(shop: Shop) -> list[tuple[str, int, float]]:
    """What a visitor and a buyer do: (what, status, seconds) for each request."""
    calls = [
        # A failed login is counted in Redis by axes, and a reset counted per address: neither may 500.
        (
            "failed login",
            lambda: shop.server.request(
                "POST",
                "/api/v1/auth/token/",
                body={"email": "someone@example.com", "password": "wrong"},
            ),
        ),
        (
            "password reset",
            lambda: shop.server.request(
                "POST",
                "/api/v1/auth/password-reset/",
                body={"email": "someone@example.com"},
            ),
        ),
        ("catalog", lambda: shop.server.get(PRODUCTS_URL)),
        ("product", lambda: shop.server.get(shop.detail_url)),
        ("catalog signed in", lambda: shop.server.get(PRODUCTS_URL, headers=shop.buyer())),
        ("me", lambda: shop.server.get("/api/v1/users/me/", headers=shop.buyer())),
        (
            "order",
            lambda: shop.server.request(
                "POST",
                "/api/v1/orders/",
                body={"items": [{"product": shop.product.pk, "quantity": 1}]},
                headers=shop.buyer(),
            ),
        ),
    ]
    replies = [(what, call()) for what, call in calls]
    return [(what, reply.status_code, reply.seconds) for what, reply in replies]


def _assert_visits_succeed_and_stay_fast(shop: Shop, *, rounds: int = 2) -> None:
    """Several rounds, spread over more than the breaker's cooldown, so each worker tries Redis again."""
    for round_number in range(rounds):
        if round_number:
            time.sleep(COOLDOWN_SECONDS + 0.2)
        for what, status, seconds in _requests_of_a_visit(shop):
            expected = {"order": 201, "failed login": 400, "password reset": 202}.get(what, 200)
            assert status == expected, f"{what}: {status}\n{shop.server.log_tail()}"
            assert seconds < SLOWEST_REQUEST_SECONDS, f"{what} took {seconds:.2f} s"


def _prices_seen(shop: Shop) -> set[str]:
    """The product's price as every kind of read shows it."""
    rows = [
        shop.server.get(shop.detail_url).json(),
        *shop.server.get(PRODUCTS_URL).json()["results"],
        *shop.server.get(PRODUCTS_URL, headers=shop.buyer()).json()["results"],
    ]
    return {row["price"] for row in rows if row["id"] == shop.product.pk}


def _change_price_through_the_api(shop: Shop, price: str) -> None:
    reply = shop.server.request("PATCH", shop.detail_url, body={"price": price}, headers=shop.staff())
    assert reply.status_code == 200, reply.body
    assert reply.seconds < SLOWEST_REQUEST_SECONDS


def _assert_never_the_old_price(shop: Shop, *, reads: int = 10) -> None:
    """Right after Redis is back, and over the breaker's cooldown, every read shows the new price."""
    for _ in range(reads):
        assert _prices_seen(shop) == {"12.50"}
        time.sleep((COOLDOWN_SECONDS + 0.5) / reads)


# --- Availability --------------------------------------------------------------------------------


def test_with_redis_stopped_every_request_succeeds_fast_and_caching_resumes_when_it_is_back(shop):
    _warm(shop)

    shop.redis.stop()

    _assert_visits_succeed_and_stay_fast(shop)
    shop.redis.start()
    _warm(shop)


def test_with_redis_frozen_every_request_succeeds_fast_and_caching_resumes_when_it_thaws(shop):
    _warm(shop)

    shop.redis.freeze()

    _assert_visits_succeed_and_stay_fast(shop)
    shop.redis.thaw()
    _warm(shop)


# --- A write while Redis is unreachable ----------------------------------------------------------


def test_a_price_changed_while_redis_was_frozen_is_never_hidden_in_the_process_that_changed_it(redis_server, data):
    with shop_on(redis_server, data, workers=1) as shop:
        _warm(shop)
        assert _prices_seen(shop) == {"10.00"}

        shop.redis.freeze()
        _change_price_through_the_api(shop, "12.50")
        shop.redis.thaw()

        _assert_never_the_old_price(shop)


OUTAGE_NOTICED_WITHIN_SECONDS = 1.0


def test_a_price_changed_while_redis_was_frozen_is_never_hidden_in_another_process(redis_server, data):
    with shop_on(redis_server, data, workers=1) as writer, shop_on(redis_server, data, workers=1) as reader:
        _warm(reader)
        assert _prices_seen(reader) == {"10.00"}

        redis_server.freeze()
        frozen_at = time.monotonic()
        _change_price_through_the_api(writer, "12.50")
        # The reader made no call during the outage: its outage probe (4 PINGs a second, 0.5 s
        # timeout) is what notices. The bound on what goes unnoticed is documented in docs/caching.md.
        time.sleep(max(0.0, OUTAGE_NOTICED_WITHIN_SECONDS - (time.monotonic() - frozen_at)))
        redis_server.thaw()

        _assert_never_the_old_price(reader)


def test_a_price_changed_while_redis_was_down_is_never_hidden_once_it_restarts_empty(shop):
    _warm(shop)
    assert _prices_seen(shop) == {"10.00"}

    shop.redis.stop()
    _change_price_through_the_api(shop, "12.50")
    shop.redis.start()

    _assert_never_the_old_price(shop)
