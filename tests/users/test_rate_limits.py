"""Per client IP on every form that lets someone in or sends mail, and per target address on the
mail itself (password reset, verification), on the pages and the API alike."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.users.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "s3cret-Passw0rd!"
RESET_URL = "/api/v1/auth/password-reset/"
RESEND_URL = "/api/v1/auth/verify-email/resend/"


@pytest.fixture
def auth_rate_of_two_per_minute(settings):
    settings.AUTH_THROTTLE_RATE = "2/min"


@pytest.fixture
def mail_rate_of_two_per_hour(settings):
    settings.MAIL_TO_ADDRESS_RATE = "2/h"


def _signup(n: int, **extra):
    # A client each: a sign-up logs its client in.
    return Client().post("/signup/", {"email": f"user{n}@example.com", "password": STRONG_PASSWORD}, **extra)


def test_the_signup_page_is_limited_per_ip_with_a_429_page(auth_rate_of_two_per_minute):
    for n in range(2):
        assert _signup(n, REMOTE_ADDR="10.0.0.1").status_code == 302

    limited = _signup(2, REMOTE_ADDR="10.0.0.1")

    assert limited.status_code == 429
    assert "Too many requests" in limited.text
    assert User.objects.count() == 2
    assert _signup(3, REMOTE_ADDR="10.0.0.2").status_code == 302


def test_the_login_page_is_limited_per_ip_across_accounts(client, auth_rate_of_two_per_minute):
    for n in range(2):
        client.post("/login/", {"username": f"user{n}@example.com", "password": "wrong"})

    limited = client.post("/login/", {"username": "user9@example.com", "password": "wrong"})

    assert limited.status_code == 429


def test_the_admin_login_is_limited_per_ip(client, auth_rate_of_two_per_minute):
    for n in range(2):
        client.post("/admin/login/", {"username": f"user{n}@example.com", "password": "wrong"})

    assert client.post("/admin/login/", {"username": "user9@example.com", "password": "wrong"}).status_code == 429


def test_the_page_limit_ignores_a_spoofed_forwarded_for_header(auth_rate_of_two_per_minute):
    for n in range(2):
        _signup(n, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert _signup(2, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_a_proxy_the_page_limit_counts_the_address_the_proxy_forwarded(settings, auth_rate_of_two_per_minute):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(2):
        _signup(n, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1")

    other_client = _signup(2, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.2")
    same_client = _signup(3, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1")

    assert (other_client.status_code, same_client.status_code) == (302, 429)


def test_the_password_reset_page_is_limited_per_email_whatever_the_ip(client, mail_rate_of_two_per_hour):
    for n in range(2):
        response = client.post("/password-reset/", {"email": "ada@example.com"}, REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 302

    limited = client.post("/password-reset/", {"email": "ADA@example.com"}, REMOTE_ADDR="10.0.0.9")

    assert limited.status_code == 429
    assert "Too many emails were asked for this address" in limited.text
    assert int(limited["Retry-After"]) > 0
    assert client.post("/password-reset/", {"email": "bob@example.com"}).status_code == 302


def test_the_password_reset_page_is_limited_per_ip(client, auth_rate_of_two_per_minute):
    for n in range(2):
        client.post("/password-reset/", {"email": f"user{n}@example.com"})

    assert client.post("/password-reset/", {"email": "user9@example.com"}).status_code == 429


def test_the_password_reset_api_is_limited_per_email_whatever_the_ip(
    api_client, mail_rate_of_two_per_hour, django_capture_on_commit_callbacks
):
    UserFactory(email="ada@example.com")
    with django_capture_on_commit_callbacks() as jobs:
        for n in range(2):
            response = api_client.post(RESET_URL, {"email": "ada@example.com"}, REMOTE_ADDR=f"10.0.0.{n}")
            assert response.status_code == 202
        limited = api_client.post(RESET_URL, {"email": "ada@example.com"}, REMOTE_ADDR="10.0.0.9")

    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0
    assert len(jobs) == 2


def test_the_page_and_the_api_share_one_count_per_email(client, api_client, mail_rate_of_two_per_hour):
    client.post("/password-reset/", {"email": "ada@example.com"})
    api_client.post(RESET_URL, {"email": "ada@example.com"})

    assert api_client.post(RESET_URL, {"email": "ada@example.com"}).status_code == 429


def test_the_verification_resend_api_is_limited_per_email(api_client, mail_rate_of_two_per_hour):
    UserFactory(email="ada@example.com", email_verified_at=None)
    for n in range(2):
        response = api_client.post(RESEND_URL, {"email": "ada@example.com"}, REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 202

    limited = api_client.post(RESEND_URL, {"email": "ada@example.com"}, REMOTE_ADDR="10.0.0.9")

    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "throttled"


def test_the_verification_resend_page_is_limited_per_email(client, mail_rate_of_two_per_hour):
    for n in range(2):
        response = client.post("/verify-email/resend/", {"email": "ada@example.com"}, REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 200

    assert client.post("/verify-email/resend/", {"email": "ada@example.com"}, REMOTE_ADDR="10.0.0.9").status_code == 429
