"""A worker whose every save to default_storage takes SAVE_SECONDS: each report it writes holds a
worker thread as long as a report over a million orders does (about 20 s), without the orders.

Run a worker with DJANGO_SETTINGS_MODULE=tests.slow_storage and SAVE_SECONDS=n.
"""

from __future__ import annotations

import os
import time

from django.core.files.storage import FileSystemStorage

from project.test_settings import *  # noqa: F403

STORAGES = {**STORAGES, "default": {"BACKEND": "tests.slow_storage.SlowStorage"}}  # noqa: F405


class SlowStorage(FileSystemStorage):
    def _save(self, name: str, content) -> str:
        time.sleep(float(os.environ["SAVE_SECONDS"]))
        return super()._save(name, content)
