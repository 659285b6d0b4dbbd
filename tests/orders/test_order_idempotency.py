"""POST /api/v1/orders/ with an Idempotency-Key: a retried request never places a second order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core import services
from apps.core.models import IdempotentRequest
from apps.core.services import idempotent_requests_prune
from apps.orders.models import Order
from apps.products.models import Product
from tests.factories import ProductFactory, TokenFactory, UserFactory
from tests.threads import race

ORDERS_URL = "/api/v1/orders/"
KEY = "7c1d5a0e-8f55-4b8e-9a57-2f0e1c3b9d42"


def _order_of(product, quantity: int = 1) -> dict:
    return {"items": [{"product": product.pk, "quantity": quantity}]}


def _post(client: APIClient, body: dict, key: str | None = KEY):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(ORDERS_URL, body, format="json", **headers)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_gets_the_first_response_and_places_one_order(user_client):
    product = ProductFactory(stock=5)

    first = _post(user_client, _order_of(product))
    retry = _post(user_client, _order_of(product))

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 4


@pytest.mark.django_db
def test_the_same_body_with_its_keys_in_another_order_is_the_same_request(user_client):
    product = ProductFactory()
    _post(user_client, {"items": [{"product": product.pk, "quantity": 1}]})

    retry = _post(user_client, {"items": [{"quantity": 1, "product": product.pk}]})

    assert retry.status_code == 201
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_replay_is_the_first_response_even_after_the_order_changed(user_client):
    product = ProductFactory()
    first = _post(user_client, _order_of(product))
    user_client.post(f"{ORDERS_URL}{first.json()['id']}/cancel/")

    retry = _post(user_client, _order_of(product))

    assert retry.json() == first.json()
    assert retry.json()["status"] == "pending"


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422_and_places_nothing(user_client):
    product = ProductFactory(stock=5)
    _post(user_client, _order_of(product, quantity=1))

    response = _post(user_client, _order_of(product, quantity=2))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 4


@pytest.mark.django_db
def test_a_key_older_than_a_day_is_a_new_request(user_client):
    product = ProductFactory(stock=5)
    _post(user_client, _order_of(product))
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    retry = _post(user_client, _order_of(product))

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Order.objects.count() == 2
    assert IdempotentRequest.objects.get().response_body["id"] == retry.json()["id"]


@pytest.mark.django_db
def test_keys_are_per_user(user_client):
    product = ProductFactory(stock=5)
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory().key}")

    mine = _post(user_client, _order_of(product))
    theirs = _post(other_client, _order_of(product))
    my_retry, their_retry = _post(user_client, _order_of(product)), _post(other_client, _order_of(product))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]
    assert (my_retry.json(), their_retry.json()) == (mine.json(), theirs.json())
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_keeps_nothing_so_its_retry_runs_again(user_client):
    product = ProductFactory(stock=0)
    assert _post(user_client, _order_of(product)).status_code == 409
    Product.objects.filter(pk=product.pk).update(stock=1)

    retry = _post(user_client, _order_of(product))

    assert retry.status_code == 201
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_without_the_header_every_request_places_an_order(user_client):
    product = ProductFactory(stock=5)

    _post(user_client, _order_of(product), key=None)
    _post(user_client, _order_of(product), key=None)

    assert Order.objects.count() == 2
    assert not IdempotentRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_empty_or_too_long_key_is_a_400(user_client, key):
    product = ProductFactory()

    response = _post(user_client, _order_of(product), key=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_hourly_prune_deletes_keys_older_than_a_day_only(user):
    IdempotentRequest.objects.create(user=user, key="old", fingerprint="x", response_status=201, response_body={})
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    IdempotentRequest.objects.create(user=user, key="new", fingerprint="x", response_status=201, response_body={})

    assert idempotent_requests_prune() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_the_schema_documents_the_header_and_its_errors(api_client):
    operation = api_client.get("/api/schema/?format=json").json()["paths"][ORDERS_URL]["post"]

    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and not header.get("required", False)
    assert {"201", "409", "422"} <= set(operation["responses"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_place_exactly_one_order(postgres):
    product = ProductFactory(stock=50)
    token = TokenFactory(user=UserFactory()).key

    def retry() -> Callable[[], str]:
        def attempt() -> str:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            response = _post(client, _order_of(product))
            replayed = "replayed" if response.has_header("Idempotent-Replayed") else "placed"
            return f"{response.status_code} {replayed}" if response.status_code == 201 else str(response.status_code)

        return attempt

    outcomes = race([retry() for _ in range(10)])

    assert outcomes["201 placed"] == 1
    assert set(outcomes) <= {"201 placed", "201 replayed", "409"}
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 49


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_request_is_still_running_is_a_409(postgres):
    product = ProductFactory(stock=5)
    token = TokenFactory()
    first_holds_the_key, retry_done = threading.Event(), threading.Event()

    def first_request_still_running() -> None:
        try:
            with transaction.atomic():
                assert services._idempotency_key_lock(user_id=token.user_id, key=KEY)
                first_holds_the_key.set()
                retry_done.wait(timeout=30)
        finally:
            connection.close()

    first = threading.Thread(target=first_request_still_running)
    first.start()
    try:
        assert first_holds_the_key.wait(timeout=30)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        response = _post(client, _order_of(product))
    finally:
        retry_done.set()
        first.join(timeout=30)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert not Order.objects.exists()
