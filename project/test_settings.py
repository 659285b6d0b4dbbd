"""The test suite's settings: the real ones, with only what a test run must change."""

import os
from pathlib import Path

# A logical database of its own, so a test run never flushes the dev server's cache or job queue.
os.environ.setdefault("EMBEDDED_REDIS_DB", "1")

from project.settings import *  # noqa: E402,F403

# Hashing at full strength would dominate the run; the hasher choice itself is Django's concern.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a job worker process started by a test sees the test data;
    # one per run, so two runs side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(VAR_DIR) / f"test-db-{os.getpid()}.sqlite3")}

# The hashed-name manifest exists only after collectstatic, which a test run does not do.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
