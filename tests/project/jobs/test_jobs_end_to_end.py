"""Each kind of job, end to end: the API (in this process) enqueues on commit, a real worker
process (`manage.py rundramatiq`, shared by the module) runs it against the test database.

On the default run the broker is the embedded Redis (or REDIS_URL); with BROKER_URL=amqp://...
the same tests run on RabbitMQ (`./scripts/test -m jobs`, as .ci/run does).
"""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.products.models import Product
from tests.factories import CategoryFactory, ProductFactory
from tests.mailfiles import mail_files_to
from tests.workers import wait_until

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]

STRONG_PASSWORD = "s3cret-Passw0rd!"


@pytest.fixture(autouse=True)
def _worker(job_worker):
    return job_worker


def _poll(client, url: str, *, timeout: float = 30) -> dict:
    return wait_until(lambda: (body := client.get(url).json())["status"] == "done" and body, timeout=timeout)


def test_a_sales_report_is_made_by_the_worker_then_downloaded(staff_client, user_client):
    product = ProductFactory(name="Desk lamp", price="65.00", stock=10)
    assert user_client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 3}]}).status_code == 201
    today = timezone.localdate().isoformat()

    accepted = staff_client.post("/api/v1/reports/", {"start": today, "end": today})
    assert accepted.status_code == 202
    done = _poll(staff_client, f"/api/v1/reports/{accepted.json()['id']}/")

    download = staff_client.get(done["download_url"])
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[1] == [today, str(product.pk), "Desk lamp", "1", "3", "195.00"]


def test_a_product_csv_is_imported_by_the_worker(staff_client):
    CategoryFactory(slug="desk")
    content = b"slug,name,category,price\nlamp,Lamp,desk,10.00\nmat,Mat,desk,nope\n"

    accepted = staff_client.post(
        "/api/v1/products/imports/", {"file": SimpleUploadedFile("p.csv", content)}, format="multipart"
    )
    assert accepted.status_code == 202
    done = _poll(staff_client, f"/api/v1/products/imports/{accepted.json()['id']}/")

    assert (done["created"], done["error_count"]) == (1, 1)
    assert list(Product.objects.values_list("slug", flat=True)) == ["lamp"]


def test_an_order_confirmation_is_emailed_by_the_worker(api_client):
    address = f"buyer-{uuid.uuid4().hex}@example.com"
    signup = api_client.post("/api/v1/auth/signup/", {"email": address, "password": STRONG_PASSWORD})
    token = api_client.post("/api/v1/auth/token/", {"email": address, "password": STRONG_PASSWORD}).json()["token"]
    product = ProductFactory(name="Monitor arm")
    assert signup.status_code == 201

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    order = api_client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 1}]}).json()

    sent = wait_until(
        lambda: [p for p in mail_files_to(address) if f"order {order['id']}" in p.read_text()], timeout=30
    )
    assert len(sent) == 1 and "Monitor arm" in sent[0].read_text()


def test_a_password_reset_link_is_emailed_by_the_worker_and_sets_the_password(api_client):
    address = f"forgetful-{uuid.uuid4().hex}@example.com"
    api_client.post("/api/v1/auth/signup/", {"email": address, "password": STRONG_PASSWORD})

    assert api_client.post("/api/v1/auth/password-reset/", {"email": address}).status_code == 202
    (sent,) = wait_until(lambda: [p for p in mail_files_to(address) if "Reset your" in p.read_text()], timeout=30)
    uid, token = re.search(r"/password-reset/([^/\s]+)/([^/\s]+)/", sent.read_text()).groups()

    confirmed = api_client.post(
        "/api/v1/auth/password-reset/confirm/", {"uid": uid, "token": token, "new_password": "a-new-Passw0rd-9"}
    )
    assert confirmed.status_code == 200
    assert api_client.post("/api/v1/auth/token/", {"email": address, "password": "a-new-Passw0rd-9"}).status_code == 200
