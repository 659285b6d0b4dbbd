"""Two classes of queue (apps/core/jobs.py): a burst of heavy jobs never delays an email."""

from __future__ import annotations

import time

import dramatiq
import pytest

from apps.core.jobs import HEAVY_QUEUE, INTERACTIVE_QUEUE
from apps.reports import services
from apps.reports.models import Report
from tests.factories import UserFactory
from tests.mailfiles import mail_files_to
from tests.workers import kill_worker, running_worker, wait_until

PASSWORD_RESET_URL = "/api/v1/auth/password-reset/"
HEAVY_THREADS = 2
EXPORTS = 4
# Each export holds a heavy worker thread this long, as one over a million orders does.
EXPORT_SECONDS = 30


def _request_password_reset(api_client, address: str) -> None:
    assert api_client.post(PASSWORD_RESET_URL, {"email": address}).status_code == 202


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_a_password_reset_email_goes_out_within_5_s_while_large_exports_fill_the_heavy_workers(
    api_client, pytestconfig
):
    warm_up, user, *owners = UserFactory.create_batch(2 + EXPORTS)
    dramatiq.get_broker().flush_all()
    slow_exports = {"DJANGO_SETTINGS_MODULE": "tests.slow_storage", "SAVE_SECONDS": str(EXPORT_SECONDS)}

    with (
        running_worker(queues=[HEAVY_QUEUE], threads=HEAVY_THREADS, env=slow_exports) as heavy,
        running_worker(queues=[INTERACTIVE_QUEUE]),
    ):
        try:
            for owner in owners:
                services.orders_export_request(user=owner)
            _request_password_reset(api_client, warm_up.email)  # the interactive worker has started once it is sent
            wait_until(lambda: mail_files_to(warm_up.email), timeout=60)
            wait_until(lambda: Report.objects.filter(status=Report.Status.RUNNING).count() == HEAVY_THREADS, timeout=60)

            asked = time.monotonic()
            _request_password_reset(api_client, user.email)
            wait_until(lambda: mail_files_to(user.email), timeout=5, interval=0.05)
            took = time.monotonic() - asked

            statuses = list(Report.objects.values_list("status", flat=True))
        finally:
            kill_worker(heavy)  # not SIGTERM: it would wait for the exports to finish

    pytestconfig.pluginmanager.get_plugin("terminalreporter").write_line(
        f"\npassword-reset email out {took:.2f} s after the request, with {EXPORTS} exports on the heavy queue"
    )
    assert statuses.count(Report.Status.RUNNING) == HEAVY_THREADS
    assert statuses.count(Report.Status.PENDING) == EXPORTS - HEAVY_THREADS
