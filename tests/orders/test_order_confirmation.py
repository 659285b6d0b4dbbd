"""Placing an order sends its confirmation from a job, once, as text and HTML."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from apps.orders import services
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_placing_an_order_sends_the_confirmation_job_after_the_commit(user_client, django_capture_on_commit_callbacks):
    product = ProductFactory()

    with django_capture_on_commit_callbacks() as jobs:
        response = user_client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 2}]})

    assert response.status_code == 201
    assert len(jobs) == 1
    assert mail.outbox == []


def test_an_order_refused_for_stock_sends_nothing(user_client, django_capture_on_commit_callbacks):
    product = ProductFactory(stock=1)

    with django_capture_on_commit_callbacks() as jobs:
        response = user_client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 2}]})

    assert response.status_code == 409
    assert jobs == []


def test_the_confirmation_lists_the_items_and_total_and_is_sent_once(user, django_assert_max_num_queries):
    desk = ProductFactory(name="Standing desk", price=Decimal("499.00"))
    lamp = ProductFactory(name="Desk lamp", price=Decimal("65.00"))
    order = services.order_create(
        user=user,
        items=[services.OrderLine(product_id=desk.pk, quantity=1), services.OrderLine(product_id=lamp.pk, quantity=2)],
    )

    services.order_confirmation_email_send(order_id=order.pk)
    services.order_confirmation_email_send(order_id=order.pk)  # a redelivery

    (message,) = mail.outbox
    assert message.to == [user.email]
    assert f"order {order.pk}" in message.subject
    for text in (message.body, message.alternatives[0][0]):
        assert "Standing desk" in text and "Desk lamp" in text and "629.00" in text
