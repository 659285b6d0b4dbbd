"""Headroom's own settings, routed through benchmarks.urls, which adds the bench-only views."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
