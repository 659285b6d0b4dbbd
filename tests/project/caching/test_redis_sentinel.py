"""Redis Sentinel from the environment alone: every Redis client of the kit asks the sentinels for
the master (the failover itself: test_redis_failover.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from project.caching.redis_sentinel import parse_sentinels

SENTINEL_ENV = {"REDIS_SENTINELS": "127.0.0.1:16381,127.0.0.1:16382", "REDIS_SENTINEL_MASTER": "headroom"}
# What each client is built on, printed by a process started on SENTINEL_ENV; none connects.
CLIENTS = """
import django; django.setup()
import dramatiq
from cacheops.redis import redis_client
from django.conf import settings
from django_redis import get_redis_connection
from dramatiq_crontab import utils
from project.caching import response_cache
for name, client in [
    ("cache", get_redis_connection("default")),
    ("cacheops", redis_client),
    ("response cache", response_cache.client),
    ("broker", dramatiq.get_broker().client),
    ("scheduler lock", utils.lock.redis),
]:
    print(name, type(client.connection_pool).__name__, client.connection_pool.service_name)
print("REDIS_URL", settings.REDIS_URL)
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("REDIS_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sentinels_are_host_port_pairs_with_the_default_sentinel_port():
    assert parse_sentinels("s1:26380, s2,[::1]:26381") == [("s1", 26380), ("s2", 26379), ("::1", 26381)]
    assert parse_sentinels("") == []


def test_a_sentinel_that_is_not_host_port_is_refused():
    with pytest.raises(ImproperlyConfigured, match="REDIS_SENTINELS"):
        parse_sentinels("s1:port")


def test_with_sentinels_set_every_redis_client_follows_the_master_they_name():
    result = _run(CLIENTS, **SENTINEL_ENV)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        f"{name} SentinelConnectionPool headroom"
        for name in ("cache", "cacheops", "response cache", "broker", "scheduler lock")
    ]
    assert lines[5] == "REDIS_URL redis://headroom/0"  # not the embedded Redis


def test_with_sentinels_a_redis_url_that_names_another_host_is_refused():
    result = _run("import django; django.setup()", **SENTINEL_ENV, REDIS_URL="redis://redis.example.com:6379/0")

    assert result.returncode != 0
    assert "REDIS_URL names the master" in result.stderr
