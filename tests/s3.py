"""A real S3 for tests: moto's HTTP server (`moto_server`) as a process on a loopback port, so
the suite runs with no network. Import the fixtures into a test module:

    from tests.s3 import s3_server, s3_storage  # noqa: F401

``s3_storage`` gives each test a bucket of its own and points default_storage at it, in this
process (``settings.STORAGES``) and, through ``s3_storage.env``, in the workers and servers a
test starts (the MEDIA_S3_* variables, read by project/settings.py as in production).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import default_storage

from tests.servers import free_port, http_status
from tests.workers import wait_until

MOTO_SERVER = Path(sys.executable).with_name("moto_server")  # from the virtualenv that runs the tests
# moto accepts any keys; these only have to be the same in every process of a test.
ACCESS_KEY, SECRET_KEY, REGION = "testing-access-key", "testing-secret-key", "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    log: Path

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )


@dataclass(frozen=True)
class S3Bucket:
    """The bucket a test's default_storage writes to."""

    server: S3Server
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """The environment that points a worker or server process at this bucket."""
        return {
            "MEDIA_S3_BUCKET": self.bucket,
            "MEDIA_S3_ENDPOINT_URL": self.server.endpoint_url,
            "MEDIA_S3_REGION": REGION,
            "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "MEDIA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def keys(self) -> list[str]:
        listing = self.server.client().list_objects_v2(Bucket=self.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="headroom-moto-", suffix=".log")[1])
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            # No AWS configuration of the machine may leak in; moto needs none.
            env={key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = S3Server(endpoint_url=f"http://127.0.0.1:{port}", log=log)
    try:
        wait_until(
            lambda: http_status(port, "/moto-api/", timeout=1) == 200 or process.poll() is not None,
            timeout=30,
            interval=0.05,
        )
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        log.unlink(missing_ok=True)


@pytest.fixture
def s3_storage(s3_server: S3Server, settings) -> S3Bucket:
    """A new bucket, and default_storage on it (the options project/settings.py sets for MEDIA_S3_*)."""
    storage = S3Bucket(server=s3_server, bucket=f"headroom-test-{uuid.uuid4().hex[:12]}")
    s3_server.client().create_bucket(Bucket=storage.bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "project.web.storage.StreamingS3Storage",
            "OPTIONS": {
                "bucket_name": storage.bucket,
                "endpoint_url": s3_server.endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": False,
            },
        },
    }
    assert default_storage.bucket_name == storage.bucket  # Django dropped the cached storage
    return storage
