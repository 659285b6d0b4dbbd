"""A worker whose file reads stop partway, so a test can kill it in the middle of a job.

Run a worker with DJANGO_SETTINGS_MODULE=tests.pausing_storage, PAUSE_AFTER_BYTES=n and
PAUSE_MARKER=/some/path: files opened from default_storage serve their first n bytes, then the
next read creates PAUSE_MARKER and waits (up to a minute) for the test to kill the worker.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage

from project.test_settings import *  # noqa: F403

STORAGES = {**STORAGES, "default": {"BACKEND": "tests.pausing_storage.PausingStorage"}}  # noqa: F405
PRODUCT_IMPORT_BATCH_SIZE = int(os.environ.get("PRODUCT_IMPORT_BATCH_SIZE", "2"))
PAUSE_SECONDS_AT_MOST = 60


class PausingStorage(FileSystemStorage):
    def _open(self, name: str, mode: str = "rb") -> File:
        real = super()._open(name, mode)
        return File(_PausingReader(real.file, pause_after=int(os.environ["PAUSE_AFTER_BYTES"])), name=real.name)


class _PausingReader(io.RawIOBase):
    def __init__(self, raw: io.BufferedReader, *, pause_after: int) -> None:
        self.raw, self.pause_after, self.position = raw, pause_after, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.position >= self.pause_after:
            Path(os.environ["PAUSE_MARKER"]).touch()
            time.sleep(PAUSE_SECONDS_AT_MOST)
        allowed = min(len(buffer), 64, max(self.pause_after - self.position, 1))
        data = self.raw.read(allowed)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self.raw.close()
        super().close()
