"""Product CSV import: a staff upload answers 202 and a job imports it; bad rows are reported one
by one while the good ones are saved; the same file again imports nothing; junk is a 400."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from zeal import zeal_ignore

from apps.products import actors, services
from apps.products.models import Product, ProductImport
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

IMPORTS_URL = "/api/v1/products/imports/"
HEADER = "slug,name,category,price,stock,description,is_active\n"


def _upload(client, content: bytes, name: str = "products.csv"):
    return client.post(IMPORTS_URL, {"file": SimpleUploadedFile(name, content, "text/csv")}, format="multipart")


def _run(import_id: int) -> dict:
    services.product_import_run(import_id=import_id)  # what the job runs
    # A test that runs an import twice reads its row after each run: not a loop over rows.
    with zeal_ignore([{"model": "products.ProductImport", "field": "get()"}]):
        return ProductImport.objects.values().get(pk=import_id)


def test_valid_rows_are_created_or_updated_and_bad_rows_reported_by_line(
    staff_client, django_capture_on_commit_callbacks
):
    CategoryFactory(slug="desk")
    ProductFactory(slug="desk-mat", name="Old name", stock=7)
    content = (
        HEADER
        + "standing-desk,Standing desk,desk,499.00,12,Tall,true\n"
        + "desk-mat,Desk mat,desk,25.00,,,\n"
        + "bad-price,Bad price,desk,12.3.4,1,,\n"
        + "bad-stock,Bad stock,desk,5.00,-3,,\n"
        + "no-category,No category,garden,5.00,1,,\n"
        + "Not A Slug!,Spaces,desk,5.00,1,,\n"
        + "standing-desk,Twice,desk,1.00,1,,\n"
        + "too,many,desk,1.00,1,,,extra\n"
    ).encode()

    with django_capture_on_commit_callbacks() as jobs:
        response = _upload(staff_client, content)
    assert response.status_code == 202 and len(jobs) == 1
    result = _run(response.json()["id"])

    assert (result["status"], result["created"], result["updated"], result["error_count"]) == ("done", 1, 1, 6)
    desk = Product.objects.get(slug="standing-desk")
    assert (desk.name, desk.price, desk.stock, desk.description) == ("Standing desk", Decimal("499.00"), 12, "Tall")
    mat = Product.objects.get(slug="desk-mat")
    assert (mat.name, mat.price, mat.stock) == ("Desk mat", Decimal("25.00"), 7)  # an empty stock keeps the stock
    status = staff_client.get(f"{IMPORTS_URL}{result['id']}/").json()
    assert status["progress"] == 100
    errors = {error["line"]: error["errors"] for error in status["errors"]}
    assert set(errors) == {4, 5, 6, 7, 8, 9}
    assert "price" in errors[4] and "stock" in errors[5] and "category" in errors[6] and "slug" in errors[7]
    assert "slug" in errors[8] and "row" in errors[9]


def test_the_same_file_again_answers_the_first_import_and_imports_nothing(
    staff_client, django_capture_on_commit_callbacks
):
    CategoryFactory(slug="desk")
    content = (HEADER + "lamp,Lamp,desk,10.00,1,,\n").encode()
    first = _upload(staff_client, content)
    _run(first.json()["id"])

    with django_capture_on_commit_callbacks() as jobs:
        again = _upload(staff_client, content, name="renamed.csv")

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert jobs == []
    assert ProductImport.objects.count() == 1 and Product.objects.count() == 1


def test_a_finished_import_run_again_changes_nothing(staff_client):
    CategoryFactory(slug="desk")
    import_id = _upload(staff_client, (HEADER + "lamp,Lamp,desk,10.00,1,,\n").encode()).json()["id"]
    _run(import_id)

    result = _run(import_id)

    assert (result["created"], result["updated"]) == (1, 0)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text file"),
        (b"\xff\xfe\xfa\xfb" * 50, "not UTF-8"),
        (b"", "empty"),
        (b"sku,title,cost\nA,B,1\n", "Missing columns"),
        (HEADER.replace("is_active", "colour").encode(), "Unknown columns"),
    ],
)
def test_a_file_that_is_not_a_product_csv_is_a_400_in_the_error_shape(staff_client, content, problem):
    response = _upload(staff_client, content)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in {"invalid_csv", "invalid"}
    assert problem.lower() in str(error).lower()
    assert not ProductImport.objects.exists()


def test_junk_after_a_good_header_becomes_row_errors_never_a_500(staff_client):
    CategoryFactory(slug="desk")
    content = (
        HEADER.encode()
        + b"ok,Fine,desk,1.00,1,,\n"
        + b"\xff\xfe\x01junk,\xc3\x28,desk,1,1,,\n"
        + b'"unclosed,quote\n' * 3
    )

    response = _upload(staff_client, content)
    result = _run(response.json()["id"])

    assert result["status"] == "done"
    assert result["created"] == 1
    assert result["error_count"] >= 1


def test_imports_are_for_staff_only(api_client, user_client):
    assert _upload(api_client, HEADER.encode()).status_code == 401
    assert _upload(user_client, HEADER.encode()).status_code == 403


def test_an_unknown_import_is_a_404_in_the_error_shape(staff_client):
    response = staff_client.get(f"{IMPORTS_URL}424242/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_daily_job_deletes_finished_imports_older_than_media_retention_days_and_their_files(settings, tmp_path):
    settings.MEDIA_ROOT, settings.MEDIA_RETENTION_DAYS = tmp_path, 30
    imports = {
        (status, days_old): ProductImport.objects.create(
            sha256=f"{status}-{days_old}",
            status=status,
            file=default_storage.save(f"imports/products-{status}-{days_old}.csv", ContentFile(HEADER.encode())),
        )
        for status in ("done", "failed", "pending", "running")
        for days_old in (31, 29)
    }
    for (_, days_old), product_import in imports.items():
        ProductImport.objects.filter(pk=product_import.pk).update(created_at=timezone.now() - timedelta(days=days_old))

    actors.expire_product_imports()  # what the scheduler sends daily

    expired = {imports["done", 31], imports["failed", 31]}
    assert set(ProductImport.objects.all()) == set(imports.values()) - expired
    assert {
        product_import.file for product_import in imports.values() if default_storage.exists(product_import.file)
    } == {product_import.file for product_import in set(imports.values()) - expired}
