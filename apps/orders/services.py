"""Writes to orders: placing and cancelling, with stock kept exact under concurrency."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from apps.core.errors import DomainError
from apps.orders.models import Order, OrderItem
from apps.products import services as product_services
from apps.users.models import User


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity: int


def order_create(*, user: User, items: list[OrderLine]) -> Order:
    """Place an order in one transaction: lock the products, check stock, take it, write the order.

    Raises DomainError (nothing written) for an unknown or inactive product, or for too little stock.
    """
    if not items:
        raise DomainError(code="empty_order", message="An order needs at least one item.", fields={"items": ["Empty."]})
    quantities = Counter[int]()
    for line in items:
        quantities[line.product_id] += line.quantity
    with transaction.atomic():
        products = product_services.stock_reserve(quantities=quantities)
        total = sum((products[pid].price * qty for pid, qty in quantities.items()), Decimal("0"))
        order = Order.objects.create(user=user, total=total)
        OrderItem.objects.bulk_create(
            OrderItem(order=order, product=products[pid], quantity=qty, unit_price=products[pid].price)
            for pid, qty in quantities.items()
        )
    return order


def order_cancel(*, user: User, order_id: int) -> Order:
    """Cancel one of the user's pending orders and put its stock back; anything else is a 409."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id, user=user)
        if order.status != Order.Status.PENDING:
            raise DomainError(
                code="not_cancellable",
                message=f"Order {order.pk} is {order.status}; only a pending order can be cancelled.",
                status=409,
            )
        quantities = dict(order.items.values_list("product_id", "quantity"))
        product_services.stock_release(quantities=quantities)
        order.status = Order.Status.CANCELLED
        order.save(update_fields=["status"])
    return order
