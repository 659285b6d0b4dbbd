"""How a report's file is written: on PostgreSQL by COPY, elsewhere by CsvWriter, from the same
query and with the same contents; with its progress written as the rows stream; and downloaded
gzipped by a client that accepts it."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from apps.core import csv_files
from apps.orders import services as order_services
from apps.orders.models import Order
from apps.reports import services
from apps.reports.models import Report
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HOSTILE_NAMES = ["=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1", 'Desk, "big"', "Lamp"]


def _order_on(day: date, *, user=None, items: int = 1, status=Order.Status.PENDING) -> Order:
    order = OrderFactory(total=Decimal("31.50") * items, status=status, **({"user": user} if user else {}))
    for index in range(items):
        OrderItemFactory(
            order=order,
            product=ProductFactory(name=HOSTILE_NAMES[index % len(HOSTILE_NAMES)]),
            quantity=index + 1,
            unit_price=Decimal("10.50"),
        )
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=9, seconds=1.5)
    )
    return order


def _generated(report: Report, *, database_formats: bool) -> list[list[str]]:
    services.report_generate(report_id=report.pk, database_formats=database_formats)
    report.refresh_from_db()
    with default_storage.open(report.file, "rb") as file:
        rows = list(csv.reader(io.StringIO(file.read().decode(), newline="")))
    assert report.status == Report.Status.DONE and report.rows == len(rows) - 1
    return rows


def _sales_report(staff, start: date, end: date) -> Report:
    return Report.objects.create(kind=Report.Kind.SALES, requested_by=staff, start=start, end=end)


def test_the_sales_report_is_the_same_from_copy_and_from_python_rolled_up_days_and_live_ones(postgres, staff):
    for days_ago in (4, 3, 1, 0):
        _order_on(TODAY - timedelta(days=days_ago), items=len(HOSTILE_NAMES))
    _order_on(TODAY - timedelta(days=4), status=Order.Status.CANCELLED)
    cancelled = _order_on(TODAY - timedelta(days=3))
    order_services.daily_sales_refresh()
    order_services.order_cancel(user=cancelled.user, order_id=cancelled.pk)  # day 3 is read live again
    start = TODAY - timedelta(days=5)

    copied = _generated(_sales_report(staff, start, TODAY), database_formats=True)

    assert copied == _generated(_sales_report(staff, start, TODAY), database_formats=False)
    assert len(copied) == 1 + 4 * len(HOSTILE_NAMES)
    assert {row[2] for row in copied[1:]} == {f"'{name}" if name[0] in "=+-@\t\r" else name for name in HOSTILE_NAMES}


def test_the_orders_export_is_the_same_from_copy_and_from_python(postgres, user):
    for days_ago in (30, 2, 0):
        _order_on(TODAY - timedelta(days=days_ago), user=user, items=len(HOSTILE_NAMES))
    _order_on(TODAY, items=3)  # someone else's

    copied = _generated(Report.objects.create(kind=Report.Kind.ORDERS, requested_by=user), database_formats=True)
    streamed = _generated(Report.objects.create(kind=Report.Kind.ORDERS, requested_by=user), database_formats=False)

    # The one difference: a timestamp is ISO 8601 in both, with a space and +00 from PostgreSQL.
    assert [row[:1] + row[2:] for row in copied] == [row[:1] + row[2:] for row in streamed]
    assert [datetime.fromisoformat(row[1]) for row in copied[1:]] == [
        datetime.fromisoformat(row[1]) for row in streamed[1:]
    ]
    assert len(copied) == 1 + 3 * len(HOSTILE_NAMES)


@pytest.fixture
def progress_written(monkeypatch) -> list[int]:
    """Every progress percent a report job writes, with the checks made after every row."""
    monkeypatch.setattr(csv_files, "PROGRESS_EVERY_ROWS", 1)
    monkeypatch.setattr(services, "PROGRESS_INTERVAL_SECONDS", 0)
    written: list[int] = []
    write = services._Progress.write

    def recorded(progress, percent: int) -> None:
        written.append(percent)
        write(progress, percent)

    monkeypatch.setattr(services._Progress, "write", recorded)
    return written


@pytest.mark.parametrize("database_formats", [True, False], ids=["copy-on-postgres", "python"])
def test_progress_follows_the_days_written_then_ends_at_100(staff, progress_written, database_formats):
    for days_ago in range(10):
        _order_on(TODAY - timedelta(days=days_ago))
    report = _sales_report(staff, TODAY - timedelta(days=9), TODAY)

    _generated(report, database_formats=database_formats)

    # One row a day: every 10 % step in between, in order, then done.
    assert progress_written == list(range(10, 100, 10))
    assert report.progress == 100


def test_an_export_reports_progress_by_lines_written(user, progress_written):
    _order_on(TODAY, user=user, items=4)

    _generated(Report.objects.create(kind=Report.Kind.ORDERS, requested_by=user), database_formats=True)

    assert progress_written == [25, 50, 75, 99]


@pytest.mark.django_db(transaction=True)
def test_progress_written_during_a_copy_is_seen_by_others_while_the_copy_runs(postgres, staff, monkeypatch):
    for days_ago in range(4):
        _order_on(TODAY - timedelta(days=days_ago))
    report = _sales_report(staff, TODAY - timedelta(days=3), TODAY)
    monkeypatch.setattr(csv_files, "PROGRESS_EVERY_ROWS", 1)
    monkeypatch.setattr(services, "PROGRESS_INTERVAL_SECONDS", 0)
    seen: list[int] = []
    write = services._Progress.write
    observer = connections.create_connection(DEFAULT_DB_ALIAS)  # another client, as the status API is

    def write_then_look(progress, percent: int) -> None:
        write(progress, percent)
        with observer.cursor() as cursor:
            cursor.execute("SELECT progress FROM reports_report WHERE id = %s", [report.pk])
            seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(services._Progress, "write", write_then_look)
    try:
        services.report_generate(report_id=report.pk)
    finally:
        observer.close()

    assert seen == [25, 50, 75]


def test_a_download_is_gzipped_as_it_streams_for_a_client_that_accepts_gzip(user, user_client):
    _order_on(TODAY, user=user, items=3)
    export = Report.objects.create(kind=Report.Kind.ORDERS, requested_by=user)
    plain = _generated(export, database_formats=True)

    response = user_client.get(f"/api/v1/orders/exports/{export.pk}/download/", HTTP_ACCEPT_ENCODING="gzip, br")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert response["Content-Disposition"] == f'attachment; filename="{export.file.removeprefix("reports/")}"'
    assert export.file.endswith(".csv")
    assert response["Content-Type"].startswith("text/csv")
    assert not response.has_header("Content-Length")  # unknown until compressed
    body = gzip.decompress(b"".join(response.streaming_content)).decode()
    assert list(csv.reader(io.StringIO(body, newline=""))) == plain


def test_a_download_is_sent_as_stored_with_its_length_to_a_client_that_does_not_accept_gzip(user, user_client):
    _order_on(TODAY, user=user, items=3)
    export = Report.objects.create(kind=Report.Kind.ORDERS, requested_by=user)
    _generated(export, database_formats=True)

    response = user_client.get(f"/api/v1/orders/exports/{export.pk}/download/", HTTP_ACCEPT_ENCODING="identity")

    assert not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]
    assert int(response["Content-Length"]) == default_storage.size(export.file)
