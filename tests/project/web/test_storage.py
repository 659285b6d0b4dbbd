"""project/web/storage.py and the storage settings: MEDIA_S3_BUCKET selects S3 (django-storages),
and a file read from S3 is streamed, never downloaded whole first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from project.web.storage import READ_BUFFER_BYTES
from tests.s3 import s3_server, s3_storage  # noqa: F401 - fixtures

DESCRIBE_STORAGE = """
import json, django
django.setup()
from django.core.files.storage import default_storage
from storages.backends.s3 import S3Storage
print(json.dumps({
    "classes": [cls.__module__ + "." + cls.__name__ for cls in default_storage.__class__.__mro__],
    "is_s3": isinstance(default_storage, S3Storage),
    "bucket": getattr(default_storage, "bucket_name", None),
    "endpoint": getattr(default_storage, "endpoint_url", None),
    "region": getattr(default_storage, "region_name", None),
    "querystring_auth": getattr(default_storage, "querystring_auth", None),
    "file_overwrite": getattr(default_storage, "file_overwrite", None),
    "signature_version": getattr(default_storage, "signature_version", None),
    "location": str(getattr(default_storage, "location", "")),
}))
"""


def _storage_of_a_process_with(**env: str) -> dict:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("MEDIA_S3_")}
    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE_STORAGE],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_bucket_in_the_environment_selects_django_storages_s3():
    storage = _storage_of_a_process_with(
        MEDIA_S3_BUCKET="headroom-media", MEDIA_S3_ENDPOINT_URL="http://127.0.0.1:9000", MEDIA_S3_REGION="eu-west-1"
    )

    assert storage["is_s3"] and "storages.backends.s3.S3Storage" in storage["classes"]
    assert (storage["bucket"], storage["endpoint"], storage["region"]) == (
        "headroom-media",
        "http://127.0.0.1:9000",
        "eu-west-1",
    )
    assert storage["querystring_auth"] is True and storage["file_overwrite"] is False
    assert storage["signature_version"] == "s3v4"


def test_without_a_bucket_media_stay_on_the_local_disk_under_media_root():
    storage = _storage_of_a_process_with()

    assert storage["classes"][0] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert storage["location"].endswith("/media")


def test_a_file_read_from_s3_is_streamed_not_downloaded_whole_first(s3_storage):
    line = b"x" * 99 + b"\n"
    name = default_storage.save("big.csv", ContentFile(line * 40_000))  # 4 MB

    with default_storage.open(name, "rb") as opened:
        assert opened.readline() == line
        fetched = opened.file.raw.tell()

    assert opened.size == 4_000_000
    assert fetched <= READ_BUFFER_BYTES


def test_a_missing_s3_file_is_file_not_found(s3_storage):
    with pytest.raises(FileNotFoundError):
        default_storage.open("reports/never-written.csv", "rb")


def test_a_file_url_from_s3_is_signed_and_expires(s3_storage):
    name = default_storage.save("reports/private.csv", ContentFile(b"day,orders\n"))

    url = default_storage.url(name)

    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"day,orders\n"
