"""Signed-in reads served from the shared query cache are never stale in any worker: two gunicorns of
two workers each, on the real PostgreSQL and Redis, read back every write through every worker at
once: an order placed, one cancelled by its owner and one by staff, a token revoked, a user
deactivated; and no worker ever answers one user with another's data.

What proves "every worker": the access log names the process that answered each request; after each
write, requests go to each server, several at a time, until every worker has answered (each answer
checked), within a bound.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.orders import services as order_services
from apps.users.models import ApiToken, User
from tests.factories import OrderItemFactory, ProductFactory, TokenFactory
from tests.servers import Reply, Server, running_server

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ME_URL = "/api/v1/users/me/"
ORDERS_URL = "/api/v1/orders/"
WORKERS = 2
SERVERS = 2
ROUNDS = 40  # at most, per read-back: each round sends 2 × WORKERS requests to each server at once


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker) -> Iterator[list[Server]]:
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
    with running_server(workers=WORKERS) as first, running_server(workers=WORKERS) as second:
        yield [first, second]


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


def _workers_in(server: Server, log_from: int) -> set[str]:
    return set(re.findall(r"worker=<(\d+)>", server.log.read_text(errors="replace")[log_from:]))


def _read_back_through_every_worker(servers: list[Server], path: str, key: str, check: Callable[[Reply], None]) -> None:
    """``check`` every answer to GET ``path``, sent until each worker of each server has answered it."""
    with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
        for server in servers:
            log_from = len(server.log.read_text(errors="replace"))
            for _ in range(ROUNDS):
                for reply in pool.map(lambda to: to.get(path, headers=_auth(key)), [server] * (2 * WORKERS)):
                    check(reply)
                if len(_workers_in(server, log_from)) >= WORKERS:
                    break
            else:
                pytest.fail(f"not every worker answered {path} in {ROUNDS} rounds:\n{server.log_tail()}")


def _status(expected: int) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        assert reply.status_code == expected, reply.body[:500]

    return check


def _listed(expected: dict[int, str]) -> Callable[[Reply], None]:
    """The list shows exactly ``expected`` (order id -> status)."""

    def check(reply: Reply) -> None:
        assert reply.status_code == 200, reply.body[:500]
        assert {row["id"]: row["status"] for row in reply.json()["results"]} == expected

    return check


def _me(user_id: int) -> Callable[[Reply], None]:
    def check(reply: Reply) -> None:
        assert reply.status_code == 200, reply.body[:500]
        assert reply.json()["id"] == user_id

    return check


def test_every_write_is_read_back_at_once_through_every_worker_and_never_crosses_users(servers, admin_client):
    started = time.monotonic()
    phone, theirs = TokenFactory(), TokenFactory()
    laptop = TokenFactory(user=User.objects.get(pk=phone.user_id))
    mine = {OrderItemFactory(order__user_id=phone.user_id).order_id: "pending" for _ in range(3)}
    their_orders = {OrderItemFactory(order__user_id=theirs.user_id).order_id: "pending" for _ in range(2)}
    product = ProductFactory(stock=10)
    first, second = servers

    # Warm: every worker reads (and the first fills) each user's sign-in check and orders.
    for token, orders in ((phone, mine), (theirs, their_orders)):
        _read_back_through_every_worker(servers, ME_URL, token.key, _me(token.user_id))
        _read_back_through_every_worker(servers, ORDERS_URL, token.key, _listed(orders))

    # An order placed through one server is listed by every worker of both.
    order = {"items": [{"product": product.pk, "quantity": 1}]}
    placed = first.request("POST", ORDERS_URL, body=order, headers=_auth(phone.key))
    assert placed.status_code == 201, placed.body[:500]
    mine[placed.json()["id"]] = "pending"
    _read_back_through_every_worker(servers, ORDERS_URL, phone.key, _listed(mine))

    # Cancelled by its owner through the other server.
    cancelled = second.request("POST", f"{ORDERS_URL}{placed.json()['id']}/cancel/", headers=_auth(phone.key))
    assert cancelled.status_code == 200, cancelled.body[:500]
    mine[placed.json()["id"]] = "cancelled"
    _read_back_through_every_worker(servers, ORDERS_URL, phone.key, _listed(mine))

    # Cancelled by staff, through the service the admin's action calls, in this process.
    by_staff = next(iter(mine))
    order_services.order_cancel_by_staff(order_id=by_staff)
    mine[by_staff] = "cancelled"
    _read_back_through_every_worker(servers, ORDERS_URL, phone.key, _listed(mine))

    # The other user's answers never changed.
    _read_back_through_every_worker(servers, ORDERS_URL, theirs.key, _listed(their_orders))

    # A token revoked (logout, through one server) is refused by every worker; the user's other one is not.
    assert first.request("POST", "/api/v1/auth/logout/", headers=_auth(laptop.key)).status_code == 204
    _read_back_through_every_worker(servers, ME_URL, laptop.key, _status(401))
    _read_back_through_every_worker(servers, ME_URL, phone.key, _me(phone.user_id))

    # The user deactivated by staff in the admin: every token refused by every worker.
    user = User.objects.get(pk=phone.user_id)
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/change/",
        {
            "email": user.email,
            "name": user.name,
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    _read_back_through_every_worker(servers, ME_URL, phone.key, _status(401))
    _read_back_through_every_worker(servers, ORDERS_URL, phone.key, _status(401))

    # And the other user is still served, as themselves.
    _read_back_through_every_worker(servers, ME_URL, theirs.key, _me(theirs.user_id))
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    assert time.monotonic() - started < 60
