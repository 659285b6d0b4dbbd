"""Production refuses to start on a default that is only safe on a laptop."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SAFE_KEY = "x" * 50


def _start_django(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_the_default_secret_key():
    result = _start_django(ENVIRONMENT="production", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = _start_django(ENVIRONMENT="production", SECRET_KEY=SAFE_KEY, DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_production_starts_with_a_real_secret_key_and_debug_off():
    result = _start_django(ENVIRONMENT="production", SECRET_KEY=SAFE_KEY)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_an_unknown_environment_name_is_refused():
    result = _start_django(ENVIRONMENT="prod")
    assert result.returncode != 0
    assert "ENVIRONMENT" in result.stderr


def test_env_example_documents_every_variable_the_settings_read():
    base = Path(settings.BASE_DIR)
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', (base / "project" / "settings.py").read_text()))
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (base / ".env.example").read_text(), re.MULTILINE))
    assert read - documented == set()


def test_the_response_cache_is_refused_without_the_query_cache_that_invalidates_it():
    result = _start_django(RESPONSE_CACHE_ENABLED="true", CACHEOPS_ENABLED="false")
    assert result.returncode != 0
    assert "CACHEOPS_ENABLED" in result.stderr


def test_a_misspelt_readiness_check_is_refused():
    result = _start_django(READINESS_REQUIRED="database:default,reddis")
    assert result.returncode != 0
    assert "READINESS_REQUIRED" in result.stderr


def test_a_broker_heartbeat_timeout_under_5_s_is_refused():
    result = _start_django(BROKER_HEARTBEAT_TIMEOUT="2")
    assert result.returncode != 0
    assert "BROKER_HEARTBEAT_TIMEOUT" in result.stderr


def test_the_test_runs_redis_broker_takes_a_worker_for_dead_as_production_does():
    if not settings.DRAMATIQ_BROKER["BROKER"].endswith("RedisBroker"):
        pytest.skip("the Redis broker's options; this run uses RabbitMQ")
    production = subprocess.run(
        [
            sys.executable,
            "-c",
            "from project import settings as s; o = s.DRAMATIQ_BROKER['OPTIONS'];"
            "print(o['heartbeat_timeout'], o['maintenance_chance'])",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": SAFE_KEY},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    options = settings.DRAMATIQ_BROKER["OPTIONS"]
    assert production.stdout.split() == [str(options["heartbeat_timeout"]), str(options["maintenance_chance"])]
    assert options["heartbeat_timeout"] == 30_000


def test_hits_from_memory_are_refused_with_sentinel_and_off_by_default_with_it():
    sentinels = {
        "REDIS_SENTINELS": "127.0.0.1:16381",
        "REDIS_SENTINEL_MASTER": "headroom",
        "REDIS_URL": "redis://headroom/0",
    }
    refused = _start_django(**sentinels, RESPONSE_CACHE_LOCAL_COPIES="true")
    by_default = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.RESPONSE_CACHE_LOCAL_COPIES)",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", **sentinels},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert refused.returncode != 0 and "RESPONSE_CACHE_LOCAL_COPIES" in refused.stderr
    assert by_default.stdout.strip() == "False", by_default.stderr
