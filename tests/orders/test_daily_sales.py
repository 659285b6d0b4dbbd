"""The daily sales rollup: finished days are rolled up by the periodic job, reports read it where it
is fresh and aggregate the orders live elsewhere, and a cancellation never leaves a day wrong."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.csv_files import csv_select_sql
from apps.orders import selectors, services
from apps.orders.models import DailySales, DailySalesDay, Order
from apps.reports.services import SALES_COLUMNS
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory
from tests.queries import assert_constant_queries, capture_queries

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - timedelta(days=1)
ROLLUP_INSERT = 'INSERT INTO "orders_dailysales" ('


def _order(day: date, product, quantity: int, price: str = "10.00", *, status=Order.Status.PENDING, user=None) -> Order:
    order = OrderFactory(user=user or UserFactory(), status=status, total=Decimal(price) * quantity)
    OrderItemFactory(order=order, product=product, quantity=quantity, unit_price=Decimal(price))
    at = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=12)
    Order.objects.filter(pk=order.pk).update(created_at=at)
    return order


def _rows(start: date, end: date) -> list[tuple]:
    return [(r.day, r.product_id, r.orders, r.units, r.revenue) for r in selectors.daily_sales(start=start, end=end)]


def test_the_refresh_rolls_up_finished_days_and_leaves_cancelled_orders_and_today_out():
    desk, lamp = ProductFactory(), ProductFactory()
    two_days_ago = TODAY - timedelta(days=2)
    _order(two_days_ago, desk, 2)
    _order(YESTERDAY, desk, 1)
    _order(YESTERDAY, lamp, 3, "5.00")
    _order(YESTERDAY, lamp, 4, status=Order.Status.CANCELLED)
    _order(TODAY, desk, 5)

    rolled = services.daily_sales_refresh()

    assert rolled == [YESTERDAY, two_days_ago]
    assert sorted(DailySales.objects.values_list("day", "product_id", "orders", "units", "revenue")) == sorted(
        [
            (two_days_ago, desk.pk, 1, 2, Decimal("20.00")),
            (YESTERDAY, desk.pk, 1, 1, Decimal("10.00")),
            (YESTERDAY, lamp.pk, 1, 3, Decimal("15.00")),
        ]
    )
    assert services.daily_sales_refresh() == []  # everything is fresh


def test_sales_read_the_rollup_where_fresh_and_the_orders_elsewhere_with_the_same_result():
    desk = ProductFactory()
    for day in (TODAY - timedelta(days=3), YESTERDAY, TODAY):
        _order(day, desk, 2)
    live = _rows(TODAY - timedelta(days=3), TODAY)

    services.daily_sales_refresh()
    DailySales.objects.filter(day=YESTERDAY).update(units=999)  # proves the rollup is what is read

    mixed = _rows(TODAY - timedelta(days=3), TODAY)
    assert [row for row in mixed if row[0] != YESTERDAY] == [row for row in live if row[0] != YESTERDAY]
    assert [row[3] for row in mixed if row[0] == YESTERDAY] == [999]
    assert [row[0] for row in mixed] == [TODAY - timedelta(days=3), YESTERDAY, TODAY]


def test_cancelling_an_order_of_a_rolled_up_day_makes_it_read_live_until_the_next_refresh():
    desk = ProductFactory(stock=100)
    buyer = UserFactory()
    _order(YESTERDAY, desk, 1, user=buyer)
    cancel = _order(YESTERDAY, desk, 2, user=buyer)
    services.daily_sales_refresh()

    services.order_cancel(user=buyer, order_id=cancel.pk)

    assert not DailySalesDay.objects.filter(day=YESTERDAY, rolled_version=0, version=0).exists()
    assert _rows(YESTERDAY, YESTERDAY) == [(YESTERDAY, desk.pk, 1, 1, Decimal("10.00"))]
    assert services.daily_sales_refresh() == [YESTERDAY]
    assert DailySales.objects.get(day=YESTERDAY).units == 1


def test_reading_a_fully_rolled_up_range_costs_the_same_queries_for_1_and_30_days():
    desk = ProductFactory()
    days_ordered: list[date] = []

    def add_days_further_back(count: int) -> None:
        for _ in range(count):
            days_ordered.append(YESTERDAY - timedelta(days=len(days_ordered)))
            _order(days_ordered[-1], desk, 1)
        services.daily_sales_refresh()

    # The fresh days, then the rollup rows; no live query at all.
    rows = assert_constant_queries(
        add_days_further_back, lambda: _rows(days_ordered[-1], YESTERDAY), budget=2, sizes=(1, 30)
    )

    assert {days: len(read) for days, read in rows.items()} == {1: 1, 30: 30}


def test_a_refresh_recomputes_only_the_days_a_cancellation_changed():
    desk = ProductFactory(stock=100)
    buyer = UserFactory()
    two_days_ago, three_days_ago = TODAY - timedelta(days=2), TODAY - timedelta(days=3)
    for day in (three_days_ago, two_days_ago, YESTERDAY):
        _order(day, desk, 1, user=buyer)
    cancel = _order(two_days_ago, desk, 2, user=buyer)
    services.daily_sales_refresh()
    DailySales.objects.filter(day__in=[three_days_ago, YESTERDAY]).update(units=999)  # recomputing would undo it

    services.order_cancel(user=buyer, order_id=cancel.pk)
    with capture_queries() as queries:
        assert services.daily_sales_refresh() == [two_days_ago]

    inserts = [query["sql"] for query in queries.captured_queries if query["sql"].startswith(ROLLUP_INSERT)]
    assert len(inserts) == 1
    days_aggregated = inserts[0].rsplit(" IN (", 1)[1]  # the day IN (...) of the GROUP BY's rows
    assert two_days_ago.isoformat() in days_aggregated
    assert YESTERDAY.isoformat() not in days_aggregated and three_days_ago.isoformat() not in days_aggregated
    assert dict(DailySales.objects.values_list("day", "units")) == {
        three_days_ago: 999,
        two_days_ago: 1,
        YESTERDAY: 999,
    }


def test_a_refresh_of_two_years_runs_one_insert_for_every_day():
    desk = ProductFactory()
    for days_ago in (1, 100, 700):
        _order(TODAY - timedelta(days=days_ago), desk, 1)

    with capture_queries() as queries:
        rolled = services.daily_sales_refresh(max_days=1000)

    inserts = [query for query in queries.captured_queries if query["sql"].startswith(ROLLUP_INSERT)]
    assert len(rolled) == 700 and len(inserts) == 1
    assert DailySales.objects.count() == 3


def test_a_report_of_rolled_up_and_live_days_merges_the_two_in_order_without_sorting_again(postgres):
    """The live half gives the rollup's column types (integer counts): with COUNT's bigint instead,
    PostgreSQL sorts the 1.8M rows of a 2-year report again rather than merging the ordered halves."""
    desk = ProductFactory()
    for day in (YESTERDAY, TODAY):
        _order(day, desk, 2)
    services.daily_sales_refresh()
    rows = selectors.daily_sales_rows(start=YESTERDAY, end=TODAY)  # yesterday rolled up, today live

    select, params = csv_select_sql(rows=rows, columns=SALES_COLUMNS)
    with connection.cursor() as cursor:
        # Sorting a few rows costs next to nothing: make any Sort dear, so the plan shows whether
        # the halves can be merged at all, as the planner does for 1.8M rows on its own.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {select}", params)
        plan = [line for (line,) in cursor.fetchall()]

    nodes = [line.strip().removeprefix("->  ").split("  (")[0] for line in plan if "(cost=" in line]
    assert next(node for node in nodes if node != "Result") == "Merge Append", "\n".join(plan)


def test_a_refresh_that_fills_the_rollup_analyzes_it_so_reports_are_planned_on_its_rows(postgres):
    desk, lamp = ProductFactory(), ProductFactory()
    for day in (TODAY - timedelta(days=2), YESTERDAY):
        _order(day, desk, 1)
        _order(day, lamp, 1)

    services.daily_sales_refresh()

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'orders_dailysales'::regclass")
        assert cursor.fetchone()[0] == 4  # not -1 (never analyzed) until autovacuum comes by
