"""Repeated failed logins lock the account on every way in: the login page, the admin login and
the API token endpoint (django-axes, counting in the shared Redis cache)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.redis_keys import cache_keys

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
WRONG = "wrong-password"


def _fail_page_logins(client, email: str, times: int, **extra) -> None:
    for _ in range(times):
        assert client.post("/login/", {"username": email, "password": WRONG}, **extra).status_code == 200


def test_the_login_page_locks_an_account_after_the_failure_limit_with_a_429_page(client):
    UserFactory(email="ada@example.com")
    _fail_page_logins(client, "ada@example.com", settings.AXES_FAILURE_LIMIT - 1)

    locked = client.post("/login/", {"username": "ada@example.com", "password": WRONG})

    assert locked.status_code == 429
    assert "Too many failed logins for this account" in locked.text
    assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


def test_a_locked_account_is_refused_even_with_the_right_password(client):
    UserFactory(email="ada@example.com")
    _fail_page_logins(client, "ada@example.com", settings.AXES_FAILURE_LIMIT - 1)
    client.post("/login/", {"username": "ada@example.com", "password": WRONG})

    response = client.post("/login/", {"username": "ada@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_changing_the_letter_case_of_the_email_does_not_reset_the_count(client):
    UserFactory(email="ada@example.com")
    spellings = ["ADA@example.com", "Ada@Example.com", "ada@EXAMPLE.COM", " aDa@example.com"]
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/login/", {"username": spellings[n % len(spellings)], "password": WRONG})

    locked = client.post("/login/", {"username": "AdA@Example.COM", "password": WRONG})

    assert locked.status_code == 429


def test_the_admin_login_locks_an_account_after_the_failure_limit(client):
    StaffFactory(email="boss@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/admin/login/", {"username": "boss@example.com", "password": WRONG}).status_code == 200

    locked = client.post("/admin/login/", {"username": "boss@example.com", "password": WRONG})
    right = client.post("/admin/login/", {"username": "boss@example.com", "password": DEFAULT_PASSWORD})

    assert (locked.status_code, right.status_code) == (429, 429)
    assert "Too many failed logins for this account" in right.text


def test_the_api_token_endpoint_answers_429_locked_out_with_retry_after(api_client):
    UserFactory(email="ada@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": WRONG})
        assert response.json()["error"]["code"] == "invalid_credentials"

    locked = api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": WRONG})
    right = api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": DEFAULT_PASSWORD})

    assert (locked.status_code, right.status_code) == (429, 429)
    assert locked.json()["error"]["code"] == right.json()["error"]["code"] == "locked_out"
    assert set(locked.json()["error"]) == {"code", "message", "fields"}
    assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


def test_failures_on_the_page_count_towards_the_api_lockout(client, api_client):
    UserFactory(email="ada@example.com")
    _fail_page_logins(client, "ada@example.com", settings.AXES_FAILURE_LIMIT - 1)
    api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": WRONG})

    response = api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 429


def test_a_lockout_is_per_account_another_account_from_the_same_ip_still_logs_in(client):
    UserFactory(email="ada@example.com")
    UserFactory(email="bob@example.com")
    _fail_page_logins(client, "ada@example.com", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post("/login/", {"username": "ada@example.com", "password": WRONG}).status_code == 429

    response = client.post("/login/", {"username": "bob@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302


def test_the_failure_count_lives_in_the_shared_redis_cache(client, _cache_redis):
    """What makes a lockout hold on every app server: no process memory, no per-server database."""
    UserFactory(email="ada@example.com")

    client.post("/login/", {"username": "ada@example.com", "password": WRONG})

    assert any(b":axes-" in key for key in cache_keys(_cache_redis))
