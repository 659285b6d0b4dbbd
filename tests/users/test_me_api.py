import pytest
from django.http import HttpRequest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, TokenFactory, UserFactory

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/users/me/"


def test_me_answers_the_token_holders_profile(user_client, user):
    response = user_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json() == {"id": user.pk, "email": user.email, "name": user.name, "email_verified": True}


def test_me_accepts_a_session_from_a_password_login(api_client, user):
    # A request, as every login has one: axes counts the attempt (settings.AUTHENTICATION_BACKENDS).
    assert api_client.login(request=HttpRequest(), username=user.email, password=DEFAULT_PASSWORD)

    response = api_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_me_accepts_a_session_from_force_login(api_client, user):
    api_client.force_login(user)

    response = api_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_me_for_an_anonymous_caller_is_401(api_client):
    response = api_client.get(ME_URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_with_an_unknown_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api_client.get(ME_URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_me_with_the_token_of_a_deactivated_user_is_401(api_client):
    token = TokenFactory(user=UserFactory(is_active=False))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api_client.get(ME_URL)

    assert response.status_code == 401


def test_patch_me_changes_the_name(user_client, user):
    response = user_client.patch(ME_URL, {"name": "Grace"})

    assert response.status_code == 200
    assert response.json()["name"] == "Grace"
    user.refresh_from_db()
    assert user.name == "Grace"


def test_patch_me_over_a_session_changes_the_name(api_client, user):
    api_client.force_login(user)

    response = api_client.patch(ME_URL, {"name": "Grace"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.name == "Grace"


def test_patch_me_over_a_session_without_a_csrf_token_is_403(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.patch(ME_URL, {"name": "Grace"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_patch_me_cannot_change_the_email(user_client, user):
    email = user.email

    response = user_client.patch(ME_URL, {"email": "other@example.com"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == email


def test_patch_me_with_a_name_too_long_is_rejected(user_client):
    response = user_client.patch(ME_URL, {"name": "x" * 151})

    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_patch_me_for_an_anonymous_caller_is_401(api_client):
    response = api_client.patch(ME_URL, {"name": "Grace"})

    assert response.status_code == 401
