"""A user exports their orders from "My orders": the export's page shows its progress, then a download link."""

from __future__ import annotations

import pytest

from apps.reports import services
from apps.reports.models import Report
from tests.factories import OrderItemFactory, UserFactory
from tests.queries import assert_queries

pytestmark = pytest.mark.django_db


def test_my_orders_has_an_export_button(client, user):
    client.force_login(user)

    response = client.get("/orders/")

    assert 'action="/orders/exports/"' in response.text


def test_the_export_button_starts_an_export_and_lands_on_its_page(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)

    with django_capture_on_commit_callbacks() as jobs:
        response = client.post("/orders/exports/", follow=True)

    export = Report.objects.get()
    assert (export.kind, export.requested_by) == (Report.Kind.ORDERS, user)
    assert response.redirect_chain == [(f"/orders/exports/{export.pk}/", 302)]
    assert "Your export has started" in response.text
    assert f'data-job-status-url="/api/v1/orders/exports/{export.pk}/"' in response.text
    assert '<script src="/static/js/job-progress.js" defer></script>' in response.text
    assert len(jobs) == 1


def test_pressing_export_again_while_one_runs_shows_that_one(client, user):
    client.force_login(user)
    first, _ = services.orders_export_request(user=user)

    response = client.post("/orders/exports/", follow=True)

    assert response.redirect_chain == [(f"/orders/exports/{first.pk}/", 302)]
    assert Report.objects.count() == 1


def test_a_finished_export_shows_its_download_link(client, user):
    OrderItemFactory(order__user=user, product__name="Desk lamp")
    export, _ = services.orders_export_request(user=user)
    services.report_generate(report_id=export.pk)
    client.force_login(user)

    with assert_queries(2):  # the user (the session is in the cache), the export
        page = client.get(f"/orders/exports/{export.pk}/")
    download = client.get(f"/api/v1/orders/exports/{export.pk}/download/")

    assert f'href="/api/v1/orders/exports/{export.pk}/download/"' in page.text
    assert b"Desk lamp" in b"".join(download.streaming_content)


def test_a_user_cannot_see_or_download_another_users_export(client, user):
    export, _ = services.orders_export_request(user=UserFactory())
    services.report_generate(report_id=export.pk)
    client.force_login(user)

    assert client.get(f"/orders/exports/{export.pk}/").status_code == 404
    assert client.get(f"/api/v1/orders/exports/{export.pk}/download/").status_code == 404


@pytest.mark.parametrize(("method", "url"), [("post", "/orders/exports/"), ("get", "/orders/exports/1/")])
def test_export_pages_redirect_an_anonymous_visitor_to_login(client, method, url):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_starting_an_export_is_post_only(client, user):
    client.force_login(user)

    assert client.get("/orders/exports/").status_code == 405


def test_export_requests_past_the_report_rate_get_the_429_page(client, user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "report_requests": "1/hour"},
    }
    client.force_login(user)

    first = client.post("/orders/exports/")
    second = client.post("/orders/exports/")

    assert first.status_code == 302
    assert second.status_code == 429
    assert Report.objects.count() == 1
