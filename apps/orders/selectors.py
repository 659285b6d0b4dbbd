"""Reads of orders. A user only ever sees their own."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.orders.models import Order, OrderItem
from apps.users.models import User


def orders_for_user(*, user: User) -> QuerySet[Order]:
    """The user's orders, newest first, items and their product names in one more query."""
    items = OrderItem.objects.select_related("product").only(
        "id", "order_id", "quantity", "unit_price", "product__id", "product__name"
    )
    return (
        Order.objects.filter(user=user)
        .only("id", "user_id", "status", "total", "created_at")
        .prefetch_related(Prefetch("items", queryset=items))
    )


def order_for_user(*, user: User, order_id: int) -> Order:
    """Raises Order.DoesNotExist (a 404) for an unknown id or another user's order alike."""
    return orders_for_user(user=user).get(pk=order_id)
