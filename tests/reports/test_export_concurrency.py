"""One user's export requests racing: the user's row lock lets exactly one queue an export, and
the others get that one. PostgreSQL only: SQLite takes one write lock for the whole database."""

from __future__ import annotations

import pytest

from apps.reports import services
from apps.reports.models import Report
from tests.factories import UserFactory
from tests.threads import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 10


def test_concurrent_export_requests_of_one_user_queue_one_export(postgres):
    user = UserFactory()

    def request() -> str:
        report, is_new = services.orders_export_request(user=user)
        return f"{report.pk}:{'new' if is_new else 'pending'}"

    outcomes = race([request] * REQUESTS)

    report = Report.objects.get()
    assert outcomes == {f"{report.pk}:new": 1, f"{report.pk}:pending": REQUESTS - 1}
