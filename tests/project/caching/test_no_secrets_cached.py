"""What the caches write to Redis: never a credential, and always under the deploy's key prefix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

import django
import pytest
import redis
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from apps.users.models import User
from tests.factories import DEFAULT_PASSWORD, ProductFactory, UserFactory
from tests.redis_keys import cache_keys

# Committed data, as in production: inside a test's transaction cacheops would cache nothing.
committed = pytest.mark.django_db(transaction=True)

PRODUCTS_URL = "/api/v1/products/"
# The job queue's keys are exempt: it shares the Redis at stages 1 and 2 (settings.BROKER_URL), under
# its own namespace ("dramatiq", or one per test run, which another run beside this one may write).
JOB_QUEUE_PREFIX = b"dramatiq"


@dataclass(frozen=True)
class Session:
    user: User
    token: str


@pytest.fixture
def shopping_session(api_client) -> Session:
    """A user signs in both ways, reads the catalog and their profile, and places an order."""
    user = UserFactory()
    product = ProductFactory(stock=5)
    detail_url = f"{PRODUCTS_URL}{product.pk}/"

    pages = Client()
    assert pages.post("/login/", {"username": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
    token = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": DEFAULT_PASSWORD}).json()["token"]
    with_token = APIClient()
    with_token.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    for client in (pages, with_token, api_client):
        for url in (PRODUCTS_URL, detail_url, PRODUCTS_URL, detail_url):
            assert client.get(url).status_code == 200
    for client in (pages, with_token):
        assert client.get("/api/v1/users/me/").status_code == 200
    assert pages.get("/products/").status_code == 200
    assert pages.get(f"/products/{product.pk}/").status_code == 200
    order = with_token.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 1}]})
    assert order.status_code == 201
    assert with_token.get("/api/v1/orders/").status_code == 200
    assert pages.get("/orders/").status_code == 200
    return Session(user=User.objects.get(pk=user.pk), token=token)


def _dump(client: redis.Redis, key: bytes) -> list[bytes]:
    """Every byte string stored under ``key``, whatever its type."""
    kind = client.type(key)
    if kind == b"string":
        return [client.get(key) or b""]
    if kind == b"set":
        return list(client.smembers(key))
    if kind == b"hash":
        return [part for pair in client.hgetall(key).items() for part in pair]
    if kind == b"list":
        return client.lrange(key, 0, -1)
    if kind == b"zset":
        return [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
    if kind == b"stream":
        return [str(entry).encode() for entry in client.xrange(key)]
    return []


@committed
def test_no_password_hash_or_api_token_is_written_to_redis(shopping_session, redis_db):
    password_hash = shopping_session.user.password
    secrets = {
        "password hash": password_hash.encode(),
        "password hash digest": password_hash.rsplit("$", 1)[-1].encode(),
        "API token": shopping_session.token.encode(),
    }
    # This run's own keys prove the session wrote something: others' (other runs, the job queue)
    # would let the guard pass on an empty session. The search below still reads every key.
    assert cache_keys(redis_db), "the session wrote nothing to Redis: this test would prove nothing"
    keys = list(redis_db.scan_iter(count=1000))

    found = [
        (name, key)
        for key in keys
        for blob in [key, *_dump(redis_db, key)]
        for name, secret in secrets.items()
        if secret in blob
    ]

    assert found == []


@committed
def test_every_cache_key_a_session_writes_starts_with_the_deploy_prefix(shopping_session, redis_db):
    prefix = f"{settings.CACHE_KEY_PREFIX}:".encode()
    # Runs beside this one (and other xdist workers of this run), each with its own prefix.
    other_test_runs = re.compile(rb"^hr:dj[^:]+:test-[0-9]+(-gw[0-9]+)?:")
    keys = [
        key
        for key in redis_db.scan_iter(count=1000)
        if not key.startswith(JOB_QUEUE_PREFIX) and (key.startswith(prefix) or not other_test_runs.match(key))
    ]

    assert any(b":co:" in key for key in keys), "no query cache key: this test would prove nothing"
    assert any(b":rc:" in key for key in keys), "no response cache key: this test would prove nothing"
    assert [key for key in keys if not key.startswith(prefix)] == []


def test_the_cache_key_prefix_names_the_django_version_and_the_deploy():
    assert django.__version__ in settings.CACHE_KEY_PREFIX
    assert settings.CACHE_VERSION in settings.CACHE_KEY_PREFIX.split(":")


def test_the_deploy_part_of_the_prefix_comes_from_cache_version():
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CACHE_KEY_PREFIX)"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.test_settings", "CACHE_VERSION": "deploy-42"},
        capture_output=True,
        text=True,
        check=True,
    )

    prefix = result.stdout.strip()
    assert django.__version__ in prefix
    assert prefix.split(":")[-1] == "deploy-42"
