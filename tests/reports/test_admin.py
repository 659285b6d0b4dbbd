"""Staff request a sales report from the admin, watch its progress and download it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.reports import services
from apps.reports.models import Report
from tests.factories import OrderItemFactory, UserFactory

pytestmark = pytest.mark.django_db

REQUEST_URL = "/admin/reports/report/request-sales/"


def test_the_report_list_offers_to_request_a_sales_report(admin_client):
    response = admin_client.get("/admin/reports/report/")

    assert response.status_code == 200
    assert f'href="{REQUEST_URL}"' in response.text


def test_staff_request_a_sales_report_from_the_admin_and_land_on_its_page(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as jobs:
        response = admin_client.post(REQUEST_URL, {"start": "2025-01-01", "end": "2025-01-31"}, follow=True)

    report = Report.objects.get()
    assert (report.kind, str(report.start), str(report.end)) == (Report.Kind.SALES, "2025-01-01", "2025-01-31")
    assert response.redirect_chain == [(f"/admin/reports/report/{report.pk}/change/", 302)]
    assert f"{report} is queued." in response.text
    assert f'data-job-status-url="/api/v1/reports/{report.pk}/"' in response.text
    assert "/static/js/job-progress.js" in response.text
    assert len(jobs) == 1


def test_a_range_ending_before_it_starts_is_a_form_error_on_end(admin_client):
    response = admin_client.post(REQUEST_URL, {"start": "2025-02-01", "end": "2025-01-31"})

    assert response.status_code == 200
    assert "Must be on or after start." in response.text
    assert not Report.objects.exists()


def test_a_finished_report_shows_a_download_link_that_serves_the_csv(admin_client):
    OrderItemFactory()
    today = timezone.localdate()
    report, _ = services.sales_report_request(
        user=UserFactory(is_staff=True), start=today - timedelta(days=1), end=today
    )
    services.report_generate(report_id=report.pk)

    page = admin_client.get(f"/admin/reports/report/{report.pk}/change/")
    listing = admin_client.get("/admin/reports/report/")
    download = admin_client.get(f"/api/v1/reports/{report.pk}/download/")

    link = f'href="/api/v1/reports/{report.pk}/download/"'
    assert link in page.text and link in listing.text
    assert download.status_code == 200
    # Quoted by CsvWriter, bare from PostgreSQL's COPY: the same header either way.
    header = next(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert header[:2] == ["day", "product_id"]


@pytest.mark.parametrize("url", [REQUEST_URL, "/admin/reports/report/"])
def test_only_staff_reach_the_report_admin(client, url):
    client.force_login(UserFactory())

    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_the_job_log_is_listed_in_the_admin(admin_client):
    assert admin_client.get("/admin/django_dramatiq/task/").status_code == 200
