"""Reports and exports on shared storage: with MEDIA_S3_BUCKET set, the job writes the CSV to the
bucket and the download view streams it back from there. The S3 is moto's real HTTP server on
loopback (tests/s3.py); nothing is written under MEDIA_ROOT."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import dramatiq
import pytest
from django.utils import timezone

from apps.reports import services
from apps.reports.models import Report
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory
from tests.s3 import s3_server, s3_storage  # noqa: F401 - fixtures
from tests.workers import running_worker, wait_until

TODAY = timezone.localdate()


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_a_report_made_by_a_worker_is_stored_in_the_bucket_and_downloaded_through_the_api(s3_storage, staff_client):
    desk = ProductFactory(name="Standing desk")
    OrderItemFactory(order=OrderFactory(), product=desk, quantity=2, unit_price=Decimal("499.00"))
    dramatiq.get_broker().flush_all()

    # The worker reaches the bucket through MEDIA_S3_* alone, as a production worker does.
    with running_worker(env=s3_storage.env):
        accepted = staff_client.post("/api/v1/reports/", {"start": TODAY.isoformat(), "end": TODAY.isoformat()})
        url = f"/api/v1/reports/{accepted.json()['id']}/"
        done = wait_until(lambda: (body := staff_client.get(url).json())["status"] == "done" and body, timeout=60)

    report = Report.objects.get(pk=accepted.json()["id"])
    assert s3_storage.keys() == [report.file]
    download = staff_client.get(done["download_url"])
    assert download.status_code == 200
    assert int(download["Content-Length"]) == len(s3_storage.read(report.file))
    assert _csv(download)[1] == [TODAY.isoformat(), str(desk.pk), "Standing desk", "1", "2", "998.00"]


@pytest.mark.django_db
def test_an_orders_export_is_written_to_the_bucket_and_downloaded_by_its_owner(s3_storage, user, user_client):
    OrderItemFactory(order=OrderFactory(user=user), product__name="Desk lamp", quantity=3, unit_price=Decimal("65.00"))
    export_id = user_client.post("/api/v1/orders/exports/").json()["id"]

    services.report_generate(report_id=export_id)  # what the job runs

    assert s3_storage.keys() == [Report.objects.get(pk=export_id).file]
    rows = _csv(user_client.get(f"/api/v1/orders/exports/{export_id}/download/"))
    assert [(row[5], row[6]) for row in rows[1:]] == [("Desk lamp", "3")]


@pytest.mark.django_db
def test_expired_exports_are_deleted_from_the_bucket_with_their_rows_and_recent_ones_kept(
    s3_storage, user, user_client
):
    OrderItemFactory(order=OrderFactory(user=user))
    ids = []
    for days_old in (40, 2):
        export_id = user_client.post("/api/v1/orders/exports/").json()["id"]
        services.report_generate(report_id=export_id)
        Report.objects.filter(pk=export_id).update(created_at=timezone.now() - timedelta(days=days_old))
        ids.append(export_id)
    expired, recent = Report.objects.order_by("pk").filter(pk__in=ids)
    assert sorted(s3_storage.keys()) == sorted([expired.file, recent.file])

    deleted = services.reports_expire(older_than=timezone.now() - timedelta(days=30))

    assert deleted == 1
    assert list(Report.objects.values_list("pk", flat=True)) == [recent.pk]
    assert s3_storage.keys() == [recent.file]
