import pytest
from knox.crypto import hash_token
from rest_framework.throttling import ScopedRateThrottle

from apps.users.models import ApiToken, User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/api/v1/auth/signup/"
TOKEN_URL = "/api/v1/auth/token/"
STRONG_PASSWORD = "s3cret-Passw0rd!"


@pytest.fixture
def auth_rate_of_two_per_minute(monkeypatch):
    # DRF copies DEFAULT_THROTTLE_RATES onto the class at import, so the class attribute is what counts.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})


def test_signup_creates_the_user_and_answers_id_email_name_and_that_the_email_is_not_verified(api_client):
    response = api_client.post(SIGNUP_URL, {"email": "ada@example.com", "password": STRONG_PASSWORD, "name": "Ada"})

    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {"id": user.pk, "email": "ada@example.com", "name": "Ada", "email_verified": False}
    assert user.check_password(STRONG_PASSWORD)


def test_signup_stores_the_email_in_lower_case(api_client):
    response = api_client.post(SIGNUP_URL, {"email": "Ada@Example.COM", "password": STRONG_PASSWORD})

    assert response.status_code == 201
    assert response.json()["email"] == "ada@example.com"


def test_signup_with_an_email_taken_in_another_letter_case_is_rejected(api_client):
    UserFactory(email="ada@example.com")

    response = api_client.post(SIGNUP_URL, {"email": "ADA@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "email_taken"
    assert "email" in response.json()["error"]["fields"]
    assert User.objects.count() == 1


def test_signup_with_a_weak_password_answers_django_validator_messages(api_client):
    response = api_client.post(SIGNUP_URL, {"email": "ada@example.com", "password": "123"})

    assert response.status_code == 400
    messages = response.json()["error"]["fields"]["password"]
    assert "This password is too short. It must contain at least 8 characters." in messages
    assert "This password is entirely numeric." in messages
    assert not User.objects.exists()


def test_signup_without_an_email_is_rejected(api_client):
    response = api_client.post(SIGNUP_URL, {"password": STRONG_PASSWORD})

    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_token_for_good_credentials_is_returned(api_client):
    user = UserFactory(email="ada@example.com")

    response = api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "id", "expiry"}
    assert ApiToken.objects.get(user=user, digest=hash_token(body["token"])).pk == body["id"]


def test_token_accepts_the_email_in_any_letter_case(api_client):
    UserFactory(email="ada@example.com")

    response = api_client.post(TOKEN_URL, {"email": "ADA@Example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 200


def test_token_for_a_wrong_password_is_rejected(api_client):
    UserFactory(email="ada@example.com")

    response = api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": "wrong-password"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_token_for_an_unknown_email_is_rejected(api_client):
    response = api_client.post(TOKEN_URL, {"email": "nobody@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_token_for_an_inactive_user_is_rejected(api_client):
    UserFactory(email="ada@example.com", is_active=False)

    response = api_client.post(TOKEN_URL, {"email": "ada@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 400


def test_token_requests_over_the_auth_rate_are_throttled(api_client, auth_rate_of_two_per_minute):
    credentials = {"email": "nobody@example.com", "password": "wrong-password"}
    for _ in range(2):
        assert api_client.post(TOKEN_URL, credentials).status_code == 400

    response = api_client.post(TOKEN_URL, credentials)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_signups_over_the_auth_rate_are_throttled(api_client, auth_rate_of_two_per_minute):
    for n in range(2):
        api_client.post(SIGNUP_URL, {"email": f"user{n}@example.com", "password": STRONG_PASSWORD})

    response = api_client.post(SIGNUP_URL, {"email": "one-more@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert User.objects.count() == 2


def test_auth_throttle_counts_per_ip_address(api_client, auth_rate_of_two_per_minute):
    credentials = {"email": "nobody@example.com", "password": "wrong-password"}
    for _ in range(3):
        api_client.post(TOKEN_URL, credentials, REMOTE_ADDR="10.0.0.1")

    response = api_client.post(TOKEN_URL, credentials, REMOTE_ADDR="10.0.0.2")

    assert response.status_code == 400


def test_auth_throttle_ignores_a_spoofed_forwarded_for_header(api_client, auth_rate_of_two_per_minute):
    credentials = {"email": "nobody@example.com", "password": "wrong-password"}
    for n in range(2):
        api_client.post(TOKEN_URL, credentials, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = api_client.post(TOKEN_URL, credentials, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429
