"""The product CSV import on shared storage: the request stores the upload in the bucket, and the
job, on whichever machine it runs, reads it back from there (moto's real S3 server, tests/s3.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from zeal import zeal_ignore

from apps.products import services
from apps.products.models import Product, ProductImport
from project.web.storage import READ_BUFFER_BYTES
from tests.factories import CategoryFactory
from tests.s3 import s3_server, s3_storage  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

IMPORTS_URL = "/api/v1/products/imports/"


def test_an_uploaded_csv_is_stored_in_the_bucket_and_the_import_reads_it_from_there(s3_storage, staff_client):
    CategoryFactory(slug="desk")
    content = b"slug,name,category,price\nlamp,Lamp,desk,10.00\nmat,Mat,desk,nope\n"

    accepted = staff_client.post(
        "/api/v1/products/imports/", {"file": SimpleUploadedFile("p.csv", content)}, format="multipart"
    )
    assert accepted.status_code == 202
    product_import = ProductImport.objects.get(pk=accepted.json()["id"])
    assert s3_storage.keys() == [product_import.file]
    assert s3_storage.read(product_import.file) == content

    services.product_import_run(import_id=product_import.pk)  # what the job runs

    done = ProductImport.objects.get(pk=product_import.pk)
    assert (done.status, done.progress, done.created, done.error_count) == ("done", 100, 1, 1)
    assert list(Product.objects.values_list("slug", flat=True)) == ["lamp"]


def test_a_csv_larger_than_one_read_from_the_bucket_is_imported_whole(s3_storage, staff_client, settings):
    settings.PRODUCT_IMPORT_BATCH_SIZE = 10_000  # one batch: this is about reading the stream to its end
    CategoryFactory(slug="desk")
    rows = "".join(f"item-{number:05},Item number {number:05} from the bucket,desk,1.00\n" for number in range(6000))
    content = ("slug,name,category,price\n" + rows).encode()
    assert len(content) > READ_BUFFER_BYTES
    import_id = staff_client.post(
        "/api/v1/products/imports/", {"file": SimpleUploadedFile("many.csv", content)}, format="multipart"
    ).json()["id"]

    services.product_import_run(import_id=import_id)

    done = ProductImport.objects.get(pk=import_id)
    assert (done.status, done.rows_processed, done.created, done.error_count) == ("done", 6000, 6000, 0)
    assert Product.objects.filter(slug__startswith="item-").count() == 6000


def test_expired_imports_are_deleted_from_the_bucket_with_their_rows_and_their_products_kept(s3_storage, staff_client):
    CategoryFactory(slug="desk")
    ids = []
    for days_old, slug in ((40, "lamp"), (2, "mat")):
        content = f"slug,name,category,price\n{slug},{slug},desk,10.00\n".encode()
        import_id = staff_client.post(
            IMPORTS_URL, {"file": SimpleUploadedFile("p.csv", content)}, format="multipart"
        ).json()["id"]
        with zeal_ignore([{"model": "products.ProductImport", "field": "get()"}]):  # two imports, one after the other
            services.product_import_run(import_id=import_id)
        ProductImport.objects.filter(pk=import_id).update(created_at=timezone.now() - timedelta(days=days_old))
        ids.append(import_id)
    recent_file = ProductImport.objects.values_list("file", flat=True).get(pk=ids[1])
    assert len(s3_storage.keys()) == 2

    deleted = services.product_imports_expire(older_than=timezone.now() - timedelta(days=30))

    assert deleted == 1
    assert list(ProductImport.objects.values_list("pk", flat=True)) == [ids[1]]
    assert s3_storage.keys() == [recent_file]
    assert set(Product.objects.values_list("slug", flat=True)) == {"lamp", "mat"}
