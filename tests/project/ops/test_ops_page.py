"""/ops/: staff only, the signals and the doctor's verdict, bounded queries, nothing the CSP blocks."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import ProductFactory, UserFactory
from tests.queries import capture_queries

pytestmark = pytest.mark.django_db

URL = "/ops/"


@pytest.fixture
def staff_browser(client, staff):
    client.force_login(staff)
    return client


def test_the_ops_page_is_at_ops():
    assert reverse("ops:page") == URL


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/ops/")


def test_signed_in_non_staff_are_sent_to_the_admin_login_as_the_admin_does(client):
    client.force_login(UserFactory())

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_see_current_values_charts_states_and_the_doctors_verdict(staff_browser):
    staff_browser.get("/products/")  # a request for the counters

    response = staff_browser.get(URL)

    assert response.status_code == 200
    assert response["Cache-Control"].startswith(("private", "max-age=0"))
    page = response.content.decode()
    for heading in ("Now", "The last hour", "Databases: read share by alias", "Caches", "Jobs"):
        assert f">{heading}</h2>" in page
    assert "The doctor's verdict" in page
    assert "Redis circuit breaker" in page
    assert page.count('<svg class="ops-bars"') >= 5
    ops = response.context["ops"]
    assert ops.buckets_available
    assert ops.verdict.findings[0].id == "stage"
    assert {signal.label for signal in ops.queues} == {"queue default", "queue heavy"}


def test_the_page_counts_the_requests_the_site_answered(staff_browser):
    product = ProductFactory()
    for _ in range(3):
        staff_browser.get(f"/products/{product.pk}/")

    ops = staff_browser.get(URL).context["ops"]

    [requests_chart] = [chart for chart in ops.charts if chart.title == "Requests per minute"]
    assert requests_chart.bars and requests_chart.bars[-1].title.endswith(": 3")


def test_the_page_has_no_inline_script_or_style_for_the_csp(staff_browser):
    page = staff_browser.get(URL).content.decode()

    assert not re.search(r"<script(?![^>]*\ssrc=)", page), "an inline script"
    assert not re.search(r"\sstyle=", page)
    assert "<style" not in page


def test_the_verdict_is_kept_30_seconds_so_a_second_view_reads_only_the_session(staff_browser):
    staff_browser.get(URL)

    with capture_queries() as queries:
        assert staff_browser.get(URL).status_code == 200

    # The session is in the cache; the user is one query; the doctor's reads come from the kept verdict.
    assert len(queries) <= 2, queries.numbered_sql()


def test_a_view_that_reads_the_services_runs_a_bounded_number_of_queries(staff_browser, django_assert_max_num_queries):
    staff_browser.get("/healthz")
    ProductFactory.create_batch(5)

    with django_assert_max_num_queries(25):
        staff_browser.get(URL)


def test_the_admin_index_links_to_the_ops_page(staff_browser):
    page = staff_browser.get("/admin/").content.decode()

    assert f'href="{URL}"' in page
