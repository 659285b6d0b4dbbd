"""Writes of reports: requesting one (the job is sent on commit), generating its CSV file, and
deleting old ones with their files.

Each file is one query (apps.orders.selectors: the one definition of its rows) written as CSV
by apps.core.csv_files: on PostgreSQL the database aggregates and formats it (COPY), and Python
only moves its bytes to a temporary file on local disk, then default_storage takes it in chunks
(S3: a multipart upload). Memory stays flat whatever the number of orders.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import closing
from datetime import date, datetime, timedelta

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from apps.core.csv_files import CsvColumn, ProgressCallback, csv_copies, csv_write_query
from apps.core.errors import DomainError
from apps.core.jobs import send_on_commit
from apps.core.services import rows_with_files_delete
from apps.orders import selectors as order_selectors
from apps.reports.models import Report
from apps.users.models import User

MAX_SALES_REPORT_DAYS = 10 * 366
# Progress is written at most this often, so a big report does not spend its time on updates.
PROGRESS_INTERVAL_SECONDS = 0.5
# An unfinished report this old is taken for lost (its job gets 4 tries of at most 30 min each,
# actors.generate_report): it no longer stands in for a new request.
UNFINISHED_REPORT_MAX_AGE = timedelta(hours=3)

SALES_COLUMNS = [
    CsvColumn("day"),
    CsvColumn("product_id", numeric=True),
    CsvColumn("product_name"),
    CsvColumn("orders", numeric=True),
    CsvColumn("units", numeric=True),
    CsvColumn("revenue", numeric=True, decimal_places=2),
]
ORDERS_COLUMNS = [
    CsvColumn("order_id", numeric=True),
    CsvColumn("created_at"),
    CsvColumn("status"),
    CsvColumn("order_total", numeric=True),
    CsvColumn("product_id", numeric=True),
    CsvColumn("product_name"),
    CsvColumn("quantity", numeric=True),
    CsvColumn("unit_price", numeric=True),
]


def sales_report_request(*, user: User, start: date, end: date) -> tuple[Report, bool]:
    """Returns (report, is_new): the same range asked again while its report is unfinished gets that one."""
    today = timezone.localdate()
    if start > today:
        raise DomainError(
            code="invalid_range", message="start is in the future.", fields={"start": ["Must be today or earlier."]}
        )
    # No sales after today; and a far end (9999-12-31) would overflow the day after it in SQL.
    end = min(end, today)
    if end < start:
        raise DomainError(
            code="invalid_range", message="end is before start.", fields={"end": ["Must be on or after start."]}
        )
    if end - start > timedelta(days=MAX_SALES_REPORT_DAYS):
        raise DomainError(
            code="invalid_range",
            message=f"A report ends at most {MAX_SALES_REPORT_DAYS} days after its start.",
            fields={"end": [f"At most {MAX_SALES_REPORT_DAYS} days after start."]},
        )
    return _report_request(kind=Report.Kind.SALES, user=user, start=start, end=end)


def orders_export_request(*, user: User) -> tuple[Report, bool]:
    """Returns (export, is_new): a user whose export is still pending or running gets that one."""
    return _report_request(kind=Report.Kind.ORDERS, user=user)


def _report_request(
    *, kind: Report.Kind, user: User, start: date | None = None, end: date | None = None
) -> tuple[Report, bool]:
    """The caller's unfinished report of the same kind and range if there is one, else a new one
    and its job: a client that repeats a request (or a script that loops) queues one file."""
    with transaction.atomic():
        # The user's row is the lock: two requests at once cannot both find nothing and both create.
        User.objects.select_for_update().filter(pk=user.pk).first()
        unfinished = Report.objects.filter(
            kind=kind,
            requested_by=user,
            start=start,
            end=end,
            status__in=[Report.Status.PENDING, Report.Status.RUNNING],
            created_at__gte=timezone.now() - UNFINISHED_REPORT_MAX_AGE,
        ).first()
        if unfinished is not None:
            return unfinished, False
        report = Report.objects.create(kind=kind, requested_by=user, start=start, end=end)
        send_on_commit("generate_report", report_id=report.pk)
    return report, True


def reports_expire(*, older_than: datetime) -> int:
    """Delete finished (done or failed) reports and exports requested before ``older_than``, with
    their files; returns how many. Unfinished ones are left to their job."""
    return rows_with_files_delete(
        rows=Report.objects.filter(created_at__lt=older_than, status__in=[Report.Status.DONE, Report.Status.FAILED])
    )


def report_generate(*, report_id: int, database_formats: bool = True) -> None:
    """Write the report's CSV to storage. A redelivered message for a finished report does nothing;
    one for an unfinished report (its worker died) starts the file again from the top.

    ``database_formats=False`` writes it in Python even on PostgreSQL: stage 1's path, kept as the
    benchmark's reference (scripts/bench-report)."""
    report = Report.objects.filter(pk=report_id).select_related("requested_by").first()
    if report is None or report.status == Report.Status.DONE:
        return
    _set(report, status=Report.Status.RUNNING, progress=0)
    try:
        if report.kind == Report.Kind.SALES:
            rows, columns = order_selectors.daily_sales_rows(start=report.start, end=report.end), SALES_COLUMNS
            progress, on_progress = _sales_progress(report, own_connection=csv_copies(rows, database_formats))
        else:
            rows, columns = order_selectors.order_lines_for_export(user=report.requested_by), ORDERS_COLUMNS
            progress, on_progress = _export_progress(
                report, total=rows.count(), own_connection=csv_copies(rows, database_formats)
            )
        with tempfile.TemporaryFile() as scratch, closing(progress):
            count = csv_write_query(
                scratch, rows=rows, columns=columns, on_progress=on_progress, database_formats=database_formats
            )
            scratch.seek(0)
            # A report has a file only once DONE, and a DONE one returned above: nothing to replace.
            name = default_storage.save(_file_name(report), File(scratch))
    except Exception:
        _set(report, status=Report.Status.FAILED)
        raise  # the job is retried; a report whose last retry fails stays "failed"
    _set(report, status=Report.Status.DONE, progress=100, file=name, rows=count, finished_at=timezone.now())


def _sales_progress(report: Report, *, own_connection: bool) -> tuple[_Progress, ProgressCallback]:
    """Rows come day by day: the day of the latest row is how far the report is."""
    progress = _Progress(report, total=(report.end - report.start).days + 1, own_connection=own_connection)
    return progress, lambda rows, day: progress.at((date.fromisoformat(day) - report.start).days)


def _export_progress(report: Report, *, total: int, own_connection: bool) -> tuple[_Progress, ProgressCallback]:
    progress = _Progress(report, total=total, own_connection=own_connection)
    return progress, lambda rows, first_cell: progress.at(rows)


class _Progress:
    """Writes the report's progress (done/total, in %) when it moved, at most every PROGRESS_INTERVAL_SECONDS.

    With ``own_connection`` it writes on a connection of its own (closed by ``close``): while the
    database writes the CSV, the job's connection is busy streaming the COPY, and a query sent on
    it would wait for the COPY to end, which waits for this write.
    """

    def __init__(self, report: Report, *, total: int, own_connection: bool) -> None:
        self.report, self.total, self.percent, self.last_write = report, max(total, 1), 0, time.monotonic()
        self.connection: BaseDatabaseWrapper | None = None
        self.own_connection = own_connection

    def at(self, done: int) -> None:
        percent = min(99, 100 * done // self.total)
        if percent > self.percent and time.monotonic() - self.last_write >= PROGRESS_INTERVAL_SECONDS:
            self.percent, self.last_write = percent, time.monotonic()
            self.write(percent)

    def write(self, percent: int) -> None:
        if not self.own_connection:
            _set(self.report, progress=percent)
            return
        if self.connection is None:
            self.connection = connections.create_connection(router.db_for_write(Report))
        table = self.connection.ops.quote_name(Report._meta.db_table)
        with self.connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET progress = %s WHERE id = %s", [percent, self.report.pk])  # noqa: S608
        self.report.progress = percent

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _set(report: Report, **fields: object) -> None:
    for name, value in fields.items():
        setattr(report, name, value)
    Report.objects.filter(pk=report.pk).update(**fields)


def _file_name(report: Report) -> str:
    if report.kind == Report.Kind.SALES:
        return f"reports/sales-{report.start}-to-{report.end}-{report.pk}.csv"
    return f"reports/orders-{report.requested_by_id}-{report.pk}.csv"
