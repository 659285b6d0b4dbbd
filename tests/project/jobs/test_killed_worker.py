"""A worker SIGKILLed in the middle of a job, then started again: the job completes exactly once,
within REDELIVERY_BOUND of the kill, on the production broker settings.

Nothing acknowledges a killed worker's message, so the broker delivers it again: RabbitMQ as
soon as the connection drops, Redis once the dead worker's heartbeat is BROKER_HEARTBEAT_TIMEOUT
(30 s) old. Idempotency does the rest: the email's key commits only with a send the server
accepted; the import resumes after its last committed batch.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import dramatiq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from zeal import zeal_ignore

from apps.core.models import IdempotencyKey
from apps.products.models import Product, ProductImport
from apps.users.services import password_reset_request
from tests.factories import CategoryFactory
from tests.smtp import fake_smtp_server
from tests.users.factories import UserFactory
from tests.workers import kill_worker, running_worker, wait_until

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]

# docs/jobs.md: a killed worker's jobs run again within this many seconds (Redis: the 30 s
# heartbeat timeout, then maintenance within seconds; RabbitMQ: at once).
REDELIVERY_BOUND = 60
WORKER_THREADS = 4


def test_a_worker_killed_while_sending_an_email_is_restarted_and_the_email_goes_out_once(api_client):
    address = f"killed-{uuid.uuid4().hex}@example.com"
    with fake_smtp_server() as smtp:
        smtp_env = {"EMAIL_URL": smtp.url, "EMAIL_TIMEOUT": "60"}
        smtp.hold()
        response = api_client.post("/api/v1/auth/signup/", {"email": address, "password": "s3cret-Passw0rd!"})
        assert response.status_code == 201

        with running_worker(env=smtp_env) as worker:
            wait_until(smtp.holding.is_set, timeout=30)  # the message's data is in, its reply not yet sent
            kill_worker(worker)
        smtp.release()
        time.sleep(0.2)  # the server refuses the held message: it was never accepted
        assert smtp.messages == []
        assert not IdempotencyKey.objects.exists()  # the killed send's transaction never committed

        with running_worker(env=smtp_env):
            wait_until(lambda: smtp.messages, timeout=REDELIVERY_BOUND)
            wait_until(IdempotencyKey.objects.exists, timeout=10)
            time.sleep(2)  # room for a second send, if anything were to send one

    assert len(smtp.messages) == 1
    assert f"To: {address}".encode() in smtp.messages[0]
    (key,) = IdempotencyKey.objects.values_list("key", flat=True)
    assert key.startswith("verify-email:")  # sign-up's one email: the verification link


def test_password_reset_emails_of_a_worker_killed_mid_burst_arrive_once_within_the_bound():
    """The drill of docs/jobs.md: a slow mail server, a burst of resets, the worker's process group
    SIGKILLed while its sends wait on the server, a new worker started at once."""
    users = UserFactory.create_batch(16)
    dramatiq.get_broker().flush_all()  # RabbitMQ's queues are shared with earlier tests: start empty
    with fake_smtp_server() as smtp:
        smtp.slow(1.0)
        smtp_env = {"EMAIL_URL": smtp.url}
        with running_worker(threads=WORKER_THREADS, env=smtp_env) as worker:
            for user in users:
                password_reset_request(email=user.email)
            # Mid-burst, sends in flight, and none between the server's "250" and its commit (which
            # would send twice). On SQLite (stage 1) one thread at a time sends: one writer.
            wait_until(
                lambda: (
                    len(smtp.messages) >= WORKER_THREADS
                    and smtp.senders_waiting() > 0
                    and smtp.accepts_nothing_within(0.3)
                ),
                timeout=60,
                interval=0.02,
            )
            killed_at = time.monotonic()
            kill_worker(worker)
        sent_before_the_kill = len(smtp.messages)

        with running_worker(threads=WORKER_THREADS, env=smtp_env):
            wait_until(lambda: len(smtp.messages) >= len(users), timeout=REDELIVERY_BOUND + 30)
            all_arrived_after = smtp.accepted_at[len(users) - 1] - killed_at
            time.sleep(2)  # room for a second send, if anything were to send one

    print(  # noqa: T201 - the figure docs/jobs.md records (pytest -s shows it)
        f"\n{sent_before_the_kill} of {len(users)} sent before the kill; "
        f"the last arrived {all_arrived_after:.1f} s after it"
    )
    recipients = sorted(_recipient(message) for message in smtp.messages)
    assert recipients == sorted(user.email for user in users)
    assert all_arrived_after < REDELIVERY_BOUND


def _recipient(message: bytes) -> str:
    (line,) = [line for line in message.decode().splitlines() if line.startswith("To: ")]
    return line.removeprefix("To: ")


def test_a_worker_killed_in_the_middle_of_an_import_is_restarted_and_imports_each_row_once(staff_client):
    CategoryFactory(slug="desk")
    header = b"slug,name,category,price,stock\n"
    rows = [f"item-{n},Item {n},desk,{n}.00,{n}\n".encode() for n in range(1, 7)]
    accepted = staff_client.post(
        "/api/v1/products/imports/",
        {"file": SimpleUploadedFile("six.csv", header + b"".join(rows))},
        format="multipart",
    )
    assert accepted.status_code == 202
    import_id = accepted.json()["id"]
    marker = Path(tempfile.mkdtemp(prefix="headroom-pause-")) / "paused"
    pausing = {
        "DJANGO_SETTINGS_MODULE": "tests.pausing_storage",
        "PRODUCT_IMPORT_BATCH_SIZE": "2",
        "PAUSE_AFTER_BYTES": str(len(header + rows[0] + rows[1])),  # the first batch, then it hangs
        "PAUSE_MARKER": str(marker),
    }

    with running_worker(env=pausing) as worker:
        wait_until(marker.exists, timeout=30)
        kill_worker(worker)
    halfway = ProductImport.objects.get(pk=import_id)
    assert (halfway.status, halfway.rows_processed, halfway.created) == ("running", 2, 2)
    assert Product.objects.count() == 2

    # Polling one row until the worker is done: the same .get() again and again, deliberately.
    with running_worker(), zeal_ignore([{"model": "products.ProductImport", "field": "get()"}]):
        wait_until(lambda: ProductImport.objects.get(pk=import_id).status == "done", timeout=REDELIVERY_BOUND)

    done = ProductImport.objects.get(pk=import_id)
    assert (done.rows_processed, done.created, done.updated, done.error_count) == (6, 6, 0, 0)
    assert sorted(Product.objects.values_list("slug", flat=True)) == [f"item-{n}" for n in range(1, 7)]
