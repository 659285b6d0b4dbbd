"""A worker SIGKILLed in the middle of a job, then started again: the job completes exactly once.

Nothing acknowledges a killed worker's message, so the broker delivers it again: RabbitMQ as
soon as the connection drops, Redis once the dead worker's heartbeat is older than
heartbeat_timeout (5 s in tests, 60 s by default). Idempotency does the rest: the email's key
commits only with a send the server accepted; the import resumes after its last committed batch.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from zeal import zeal_ignore

from apps.core.models import IdempotencyKey
from apps.products.models import Product, ProductImport
from tests.factories import CategoryFactory
from tests.smtp import fake_smtp_server
from tests.workers import kill_worker, running_worker, wait_until

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]

REDELIVERY_TIMEOUT = 60


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
            wait_until(lambda: smtp.messages, timeout=REDELIVERY_TIMEOUT)
            wait_until(IdempotencyKey.objects.exists, timeout=10)
            time.sleep(2)  # room for a second send, if anything were to send one

    assert len(smtp.messages) == 1
    assert f"To: {address}".encode() in smtp.messages[0]
    (key,) = IdempotencyKey.objects.values_list("key", flat=True)
    assert key.startswith("verify-email:")  # sign-up's one email: the verification link


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
        wait_until(lambda: ProductImport.objects.get(pk=import_id).status == "done", timeout=REDELIVERY_TIMEOUT)

    done = ProductImport.objects.get(pk=import_id)
    assert (done.rows_processed, done.created, done.updated, done.error_count) == (6, 6, 0, 0)
    assert sorted(Product.objects.values_list("slug", flat=True)) == [f"item-{n}" for n in range(1, 7)]
