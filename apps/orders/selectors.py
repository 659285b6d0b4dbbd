"""Reads of orders. A user only ever sees their own; sales by day are for staff reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import Count, DecimalField, F, IntegerField, Min, Prefetch, QuerySet, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from apps.core.query_cache import Conditions, rows
from apps.orders.models import DailySales, DailySalesDay, Order, OrderItem
from apps.products.models import Product
from apps.users.models import User

# Rows fetched per round trip when streaming (a server-side cursor on PostgreSQL).
STREAM_CHUNK_SIZE = 2000


def orders_for_user(*, user: User, using: str | None = None) -> QuerySet[Order]:
    """The user's orders, newest first; their items in one more query, the items' product names in
    a third.

    Not the items joined to their products: for a page of 100 orders (~300 items) the planner
    hashes the whole products table for that join, a Seq Scan that grows with the catalog, where
    `id IN (...)` reads the few products needed from the primary key
    (tests/orders/test_query_plans.py). The names are not from the queryset cache: every page would
    store its own entry (the API caches its pages whole, apps/orders/api.py).

    ``using``: the database of all three queries (a fill of the query cache reads the primary);
    by default each is routed as any read.
    """
    items = OrderItem.objects.db_manager(using).only("id", "order_id", "quantity", "unit_price", "product_id")
    names = Product.objects.db_manager(using).nocache().only("id", "name")
    return (
        Order.objects.db_manager(using)
        .filter(user=user)
        .only("id", "user_id", "status", "total", "created_at")
        .prefetch_related(Prefetch("items", queryset=items), Prefetch("items__product", queryset=names))
    )


def orders_cache_guard(*, user: User) -> Conditions:
    """What a read of orders_for_user() may read: the user's orders, their items, and products
    (their names). The items are never changed once their order commits (bulk_create, no signal),
    so only the first two can change under a read (apps/core/query_cache.py)."""
    return rows(Order, {"user_id": user.pk}) | rows(Product)


def orders_cache_depends_on(*, user: User, orders: list[Order]) -> Conditions:
    """The writes that change what ``orders`` (read by orders_for_user(), items and their product
    names prefetched) show: any order of the user (a new one, a cancellation, by anyone), and a
    write to any product on them (a rename; a stock change too, which cacheops cannot tell apart)."""
    product_ids = sorted({item.product_id for order in orders for item in order.items.all()})
    depends_on = rows(Order, {"user_id": user.pk})
    if product_ids:
        depends_on |= rows(Product, *({"id": product_id} for product_id in product_ids))
    return depends_on


def order_for_user(*, user: User, order_id: int) -> Order:
    """Raises Order.DoesNotExist (a 404) for an unknown id or another user's order alike."""
    return orders_for_user(user=user).get(pk=order_id)


def order_for_confirmation(*, order_id: int) -> Order | None:
    """The order with its user, and its items with their products in one more query."""
    items = OrderItem.objects.select_related("product").only(
        "id", "order_id", "quantity", "unit_price", "product__id", "product__name"
    )
    return (
        Order.objects.select_related("user")
        .prefetch_related(Prefetch("items", queryset=items))
        .filter(pk=order_id)
        .first()
    )


def order_lines_for_export(*, user: User) -> QuerySet[OrderItem]:
    """One row per order line of ``user``'s orders, newest order first (a values_list, in
    ORDER_LINES_EXPORT_COLUMNS order): the one definition of the orders export."""
    return (
        OrderItem.objects.filter(order__user=user)
        .order_by("-order__created_at", "-order_id", "id")
        .values_list(
            "order_id",
            "order__created_at",
            "order__status",
            "order__total",
            "product_id",
            "product__name",
            "quantity",
            "unit_price",
        )
    )


@dataclass(frozen=True)
class DailySalesRow:
    day: date
    product_id: int
    product_name: str
    orders: int
    units: int
    revenue: Decimal


DAILY_SALES_FIELDS = ["day", "product_id", "product__name", "orders", "units", "revenue"]


def daily_sales_rows(*, start: date, end: date) -> QuerySet:
    """Sales per day and product from ``start`` to ``end`` inclusive, ordered by day then product:
    one query, a values_list of DAILY_SALES_FIELDS (the one definition of the sales report).

    Each day comes from the rollup if its rollup is fresh, otherwise it is aggregated from the
    orders (today, and days not rolled up yet or changed since), reading only those days' orders.

    Both halves are ordered themselves and give the same column types, so that PostgreSQL merges
    them in order (Merge Append) when the union is read from a subquery ordered outside it, as
    apps.core.csv_files does, rather than sorting 1.8M rows again.
    """
    # Read once and used for both halves: asked twice, a refresh or cancellation committed in
    # between (or another replica) would put a day in both halves, or in neither.
    fresh = daily_sales_fresh_days(start=start, end=end)
    stale = [day for day in days_between(start=start, end=end) if day not in fresh]
    rolled = (
        DailySales.objects.filter(day__range=(start, end))
        .exclude(day__in=stale)
        .values_list(*DAILY_SALES_FIELDS)
        .order_by("day", "product_id")
    )
    if not stale:
        return rolled
    live = (
        _sales_live(start=stale[0], end=stale[-1], by=("day", "product_id", "product__name"))
        .filter(day__in=stale)
        .values_list(*DAILY_SALES_FIELDS)
        .order_by("day", "product_id")
    )
    if not fresh:
        return live
    if not connections[rolled.db].features.supports_slicing_ordering_in_compound:  # SQLite
        rolled, live = rolled.order_by(), live.order_by()
    return rolled.union(live, all=True).order_by("day", "product_id")


def daily_sales(*, start: date, end: date) -> Iterator[DailySalesRow]:
    """daily_sales_rows as DailySalesRow, streamed: memory stays flat whatever the range."""
    rows = daily_sales_rows(start=start, end=end).iterator(chunk_size=STREAM_CHUNK_SIZE)
    return (DailySalesRow(*values) for values in rows)


def daily_sales_to_roll_up(*, days: list[date]) -> QuerySet:
    """The rollup rows of ``days`` (day, product_id, orders, units, revenue), aggregated from the
    orders: what the refresh inserts, in one INSERT ... SELECT. In the rollup's index order, so
    that the insert appends to its unique index rather than writing all over it."""
    return (
        _sales_live(start=min(days), end=max(days), by=("day", "product_id"))
        .filter(day__in=days)
        .values_list("day", "product_id", "orders", "units", "revenue")
        .order_by("day", "product_id")
    )


def _sales_live(*, start: date, end: date, by: tuple[str, ...]) -> QuerySet[OrderItem]:
    """Order items of the range (cancelled orders left out) grouped by ``by``, with their sales,
    as the rollup's column types (integer counts, not COUNT's and SUM's bigint): a union of the two
    then keeps each half's order."""
    revenue = Sum(F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=14, decimal_places=2))
    orders = Cast(Count("order_id", distinct=True), IntegerField())
    units = Cast(Sum("quantity"), IntegerField())
    return (
        OrderItem.objects.filter(
            order__created_at__gte=_day_start(start), order__created_at__lt=_day_start(end + timedelta(days=1))
        )
        .exclude(order__status=Order.Status.CANCELLED)
        .annotate(day=TruncDate("order__created_at"))
        .values(*by)
        .annotate(orders=orders, units=units, revenue=revenue)
        .order_by()
    )


def daily_sales_fresh_days(*, start: date, end: date) -> set[date]:
    """The days in the range whose rollup is fresh (at most one row per day of the range)."""
    return set(_fresh_days_query(start=start, end=end).values_list("day", flat=True))


def first_order_day() -> date | None:
    first = Order.objects.aggregate(first=Min("created_at"))["first"]
    return None if first is None else timezone.localdate(first)


def days_between(*, start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def _fresh_days_query(*, start: date, end: date) -> QuerySet[DailySalesDay]:
    return DailySalesDay.objects.filter(day__range=(start, end), rolled_version=F("version")).values("day")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
