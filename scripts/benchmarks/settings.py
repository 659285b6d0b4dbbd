"""Headroom's own settings, routed through benchmarks.urls, which adds the bench-only views."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"

# The catalog page links static files; the benchmark runs no collectstatic, so their plain names
# (whitenoise's manifest exists only after collectstatic). A cached page's hits never render it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
