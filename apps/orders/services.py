"""Writes to orders: placing and cancelling, with stock kept exact under concurrency; the order
confirmation email; the daily sales rollup."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from zeal import zeal_ignore

from apps.core.emails import email_send_once
from apps.core.errors import DomainError
from apps.core.jobs import send_on_commit
from apps.orders import selectors
from apps.orders.models import DailySales, DailySalesDay, Order, OrderItem
from apps.products import services as product_services
from apps.users.models import User

# A day is rolled up once it has been over this long: an order that committed just after
# midnight with a created_at just before it is still counted.
ROLLUP_SETTLE_TIME = timedelta(minutes=10)


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    quantity: int


def order_create(*, user: User, items: list[OrderLine]) -> Order:
    """Place an order in one transaction: lock the products, check stock, take it, write the order.

    Raises DomainError (nothing written) for an unknown or inactive product, or for too little stock,
    and, with EMAIL_VERIFICATION_REQUIRED_TO_ORDER, for a user whose email is not verified (a 403).
    """
    if settings.EMAIL_VERIFICATION_REQUIRED_TO_ORDER and not user.email_verified:
        raise DomainError(
            code="email_unverified",
            message="Verify your email before placing an order: follow the link we emailed you, or ask for a new one.",
            status=403,
        )
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
    send_on_commit("send_order_confirmation", order_id=order.pk)
    return order


def order_cancel(*, user: User, order_id: int) -> Order:
    """Cancel one of the user's pending orders and put its stock back; anything else is a 409.
    Another user's order is Order.DoesNotExist, as an unknown one."""
    return _order_cancel(orders=Order.objects.filter(user=user), order_id=order_id)


def order_cancel_by_staff(*, order_id: int) -> Order:
    """Cancel any user's pending order, from the admin, as order_cancel does."""
    return _order_cancel(orders=Order.objects.all(), order_id=order_id)


def _order_cancel(*, orders: QuerySet[Order], order_id: int) -> Order:
    with transaction.atomic():
        order = orders.select_for_update().get(pk=order_id)
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
        # The day's rollup no longer counts right: stale until the next refresh, read live meanwhile.
        DailySalesDay.objects.filter(day=timezone.localdate(order.created_at)).update(version=F("version") + 1)
    return order


def order_confirmation_email_send(*, order_id: int) -> None:
    order = selectors.order_for_confirmation(order_id=order_id)
    if order is None:
        return
    email_send_once(
        key=f"order-confirmation:{order.pk}",
        to=order.user.email,
        subject=f"Your Headroom order {order.pk}",
        template="order_confirmation",
        context={"order": order, "items": list(order.items.all())},
    )


def daily_sales_refresh(*, max_days: int = 400) -> list[date]:
    """Roll up every finished day that has no fresh rollup yet, the most recent first.

    Returns the days rolled up. A day with no sales gets a fresh, empty rollup too, so reports
    know it needs no live query. Days beyond ``max_days`` wait for the next run.
    """
    last_day = timezone.localdate(timezone.now() - ROLLUP_SETTLE_TIME) - timedelta(days=1)
    first_day = selectors.first_order_day()
    if first_day is None or first_day > last_day:
        return []
    fresh = selectors.daily_sales_fresh_days(start=first_day, end=last_day)
    days = [day for day in selectors.days_between(start=first_day, end=last_day) if day not in fresh]
    days = days[::-1][:max_days]
    # Committed before any aggregation, so a cancellation during a refresh always finds its day's row.
    DailySalesDay.objects.bulk_create([DailySalesDay(day=day) for day in days], ignore_conflicts=True)
    # Each day in a transaction of its own, which reads that day's version first: one .get() per
    # day, by design, which the N+1 guard (docs/performance.md) is told to allow.
    with zeal_ignore([{"model": "orders.DailySalesDay", "field": "get()"}]):
        for day in days:
            _daily_sales_roll(day=day)
    return days


def _daily_sales_roll(*, day: date) -> None:
    with transaction.atomic():
        # Locked: a second refresh of the day (a retry overlapping the next run) waits, instead of
        # inserting the day's rows beside this one's and failing on the unique (day, product).
        version = DailySalesDay.objects.select_for_update().filter(day=day).values_list("version", flat=True).get()
        rows = [
            DailySales(day=day, product_id=row.product_id, orders=row.orders, units=row.units, revenue=row.revenue)
            for row in selectors.daily_sales_live(start=day, end=day)
        ]
        DailySales.objects.filter(day=day).delete()
        DailySales.objects.bulk_create(rows, batch_size=1000)
        # Matches nothing if an order of the day was cancelled since ``version`` was read.
        DailySalesDay.objects.filter(day=day, version=version).update(
            rolled_version=version, refreshed_at=timezone.now()
        )
