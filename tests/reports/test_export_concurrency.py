"""One user's export requests racing: the user's row lock lets exactly one queue an export, and
the others get that one. PostgreSQL only: SQLite takes one write lock for the whole database."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.reports import services
from apps.reports.models import Report
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 10


def test_concurrent_export_requests_of_one_user_queue_one_export(postgres):
    user = UserFactory()
    start = threading.Barrier(REQUESTS)
    answers: list[tuple[int, bool]] = []

    def request() -> None:
        try:
            start.wait()
            report, is_new = services.orders_export_request(user=user)
            answers.append((report.pk, is_new))
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == REQUESTS, "a request's thread died or hung"
    assert Report.objects.count() == 1
    assert {pk for pk, _ in answers} == {Report.objects.get().pk}
    assert sorted(is_new for _, is_new in answers) == [False] * (REQUESTS - 1) + [True]
