"""Writes to orders: placing and cancelling, with stock kept exact under concurrency; the order
confirmation email; the daily sales rollup."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

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
# The span of days one INSERT ... SELECT recomputes: every stale day at once, since each statement
# reads the whole order items table (a hash join), so monthly statements read it 24 times.
# A cancellation of one of those days waits for it: a day's worth of orders each night.
ROLLUP_DAYS_PER_STATEMENT = 1000
# A refresh that inserted at least this share of the rollup's rows (a first run: 2 years at once)
# has the table analyzed before it returns, not a minute or more later by autovacuum: reports
# planned on the empty table's statistics read 1.8M rows by a nested loop over every product.
ROLLUP_ANALYZE_SHARE = 0.1


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


def daily_sales_refresh(*, max_days: int = 400, days_per_statement: int = ROLLUP_DAYS_PER_STATEMENT) -> list[date]:
    """Roll up every finished day that has no fresh rollup yet, the most recent first.

    Returns the days rolled up. Only those days are recomputed: a day's rollup stays fresh until
    an order of that day is cancelled (order_cancel bumps its version). A day with no sales gets
    a fresh, empty rollup too, so reports know it needs no live query. Days beyond ``max_days``
    wait for the next run.
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
    db = router.db_for_write(DailySales)
    rows_before = _estimated_rows(DailySales, using=db)
    inserted = sum(_daily_sales_roll(days=batch) for batch in _batches_of_days(sorted(days), span=days_per_statement))
    if rows_before is not None and inserted > ROLLUP_ANALYZE_SHARE * rows_before:
        with connections[db].cursor() as cursor:
            cursor.execute(f"ANALYZE {connections[db].ops.quote_name(DailySales._meta.db_table)}")
    return days


def _estimated_rows(model: type[DailySales], *, using: str) -> float | None:
    """PostgreSQL's estimate of the table's rows (pg_class.reltuples: -1 if never analyzed); None elsewhere."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return max(float(row[0]), 0.0) if row else None


def _batches_of_days(days: list[date], *, span: int) -> list[list[date]]:
    """Sorted days cut into batches that each cover fewer than ``span`` calendar days: one
    transaction and one range of orders read per batch."""
    batches: list[list[date]] = []
    for day in days:
        if batches and (day - batches[-1][0]).days < span:
            batches[-1].append(day)
        else:
            batches.append([day])
    return batches


def _daily_sales_roll(*, days: list[date]) -> int:
    """Recompute the rollup of ``days`` set-based: one DELETE, one INSERT ... SELECT ... GROUP BY.
    Returns the rows inserted."""
    db = router.db_for_write(DailySales)
    with transaction.atomic(using=db):
        # Locked until commit: a cancellation of these days (which bumps the version) waits, so the
        # version marked as rolled is the one whose orders the INSERT read. A second refresh waits too.
        list(DailySalesDay.objects.using(db).select_for_update().filter(day__in=days).values_list("day"))
        DailySales.objects.using(db).filter(day__in=days).delete()
        rows = selectors.daily_sales_to_roll_up(days=days).using(db)
        select, params = rows.query.get_compiler(using=db).as_sql()
        connection = connections[db]
        column = {field.name: str(field.column) for field in DailySales._meta.concrete_fields}
        columns = ", ".join(
            connection.ops.quote_name(column[name]) for name in ("day", "product", "orders", "units", "revenue")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(DailySales._meta.db_table)} ({columns}) {select}", params
            )
            inserted: int = cursor.rowcount
        DailySalesDay.objects.using(db).filter(day__in=days).update(
            rolled_version=F("version"), refreshed_at=timezone.now()
        )
    return inserted
