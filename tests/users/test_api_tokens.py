"""API tokens (django-rest-knox): hashed, expiring, one per sign-in, listed and revoked by their owner."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.test import APIClient

from apps.users import services
from apps.users.models import ApiToken
from tests.factories import DEFAULT_PASSWORD, TokenFactory, UserFactory
from tests.queries import assert_constant_queries, assert_queries

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/users/me/"
LOGOUT_URL = "/api/v1/auth/logout/"
LOGOUT_ALL_URL = "/api/v1/auth/logout-all/"
TOKENS_URL = "/api/v1/auth/tokens/"

move_drf_tokens = importlib.import_module("apps.users.migrations.0003_api_tokens_from_drf_tokens").move_drf_tokens


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _sign_in(api_client: APIClient, email: str, headers: dict[str, str] | None = None) -> dict:
    response = api_client.post(TOKEN_URL, {"email": email, "password": DEFAULT_PASSWORD}, headers=headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_readme_sign_in_gives_a_token_that_authenticates_as_the_user(api_client):
    UserFactory(email="ada@example.com")

    body = _sign_in(api_client, "ada@example.com")

    assert set(body) == {"token", "id", "expiry"}
    me = _client(body["token"]).get(ME_URL)
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"


def test_a_token_is_stored_only_as_its_digest(api_client):
    UserFactory(email="ada@example.com")

    key = _sign_in(api_client, "ada@example.com")["token"]

    token = ApiToken.objects.get()
    assert token.digest == hash_token(key)
    stored = [str(value) for value in ApiToken.objects.values_list().get()]
    assert key not in stored


def test_each_sign_in_gets_a_token_of_its_own(api_client):
    UserFactory(email="ada@example.com")

    first = _sign_in(api_client, "ada@example.com")["token"]
    second = _sign_in(api_client, "ada@example.com")["token"]

    assert first != second
    assert _client(first).get(ME_URL).status_code == 200
    assert _client(second).get(ME_URL).status_code == 200


def test_a_token_expires_after_the_ttl_without_use(api_client, settings):
    UserFactory(email="ada@example.com")
    body = _sign_in(api_client, "ada@example.com")
    expiry = ApiToken.objects.get().expiry
    assert (
        timedelta(days=settings.API_TOKEN_TTL_DAYS - 1)
        < expiry - timezone.now()
        <= timedelta(days=settings.API_TOKEN_TTL_DAYS)
    )

    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    response = _client(body["token"]).get(ME_URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_token_in_use_has_its_expiry_pushed_forward():
    token = TokenFactory()
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() + timedelta(days=1))

    assert _client(token.key).get(ME_URL).status_code == 200

    token.refresh_from_db()
    assert token.expiry > timezone.now() + timedelta(days=29)


def test_authenticating_with_a_token_costs_one_query_whatever_other_tokens_the_user_has():
    key = TokenFactory().key
    TokenFactory.create_batch(3, user=ApiToken.objects.get().user)

    # The token with its user (knox alone adds their other tokens); the profile is that user. Inside
    # the test's transaction the query cache is off, as on a miss (tests/users/test_token_cache.py).
    with assert_queries(1):
        assert _client(key).get(ME_URL).status_code == 200


def test_a_key_that_is_not_utf8_is_401_not_500(api_client):
    response = api_client.get(ME_URL, HTTP_AUTHORIZATION="Token caf\xe9")

    assert response.status_code == 401


def test_logout_revokes_only_the_token_it_was_sent_with():
    user = UserFactory()
    phone, laptop = TokenFactory(user=user), TokenFactory(user=user)

    response = _client(phone.key).post(LOGOUT_URL)

    assert response.status_code == 204
    assert _client(phone.key).get(ME_URL).status_code == 401
    assert _client(laptop.key).get(ME_URL).status_code == 200


def test_logout_all_revokes_every_token_of_the_caller_only():
    user = UserFactory()
    phone, laptop = TokenFactory(user=user), TokenFactory(user=user)
    someone_else = TokenFactory()

    response = _client(phone.key).post(LOGOUT_ALL_URL)

    assert response.status_code == 204
    assert _client(phone.key).get(ME_URL).status_code == 401
    assert _client(laptop.key).get(ME_URL).status_code == 401
    assert _client(someone_else.key).get(ME_URL).status_code == 200


def test_logout_without_a_token_is_401(api_client):
    assert api_client.post(LOGOUT_URL).status_code == 401
    assert api_client.post(LOGOUT_ALL_URL).status_code == 401


def test_the_token_list_shows_the_callers_live_tokens_and_never_a_secret(api_client):
    UserFactory(email="ada@example.com")
    signed_in = _sign_in(api_client, "ada@example.com", headers={"User-Agent": "HeadroomPhone/1.0"})
    TokenFactory(user=ApiToken.objects.get().user, expiry=timedelta(seconds=-1))
    TokenFactory()  # someone else's

    response = _client(signed_in["token"]).get(TOKENS_URL)

    assert response.status_code == 200
    [listed] = response.json()["results"]
    assert set(listed) == {"id", "prefix", "label", "created", "expiry"}
    assert listed["id"] == signed_in["id"]
    assert listed["label"] == "HeadroomPhone/1.0"
    assert signed_in["token"].startswith(listed["prefix"]) and len(listed["prefix"]) == 8
    assert ApiToken.objects.get(pk=listed["id"]).digest not in response.content.decode()


def test_the_token_list_costs_the_same_queries_for_1_and_50_tokens():
    user = UserFactory()
    keys: list[str] = []

    def add_tokens(count: int) -> None:
        keys.extend(token.key for token in TokenFactory.create_batch(count, user=user))

    # The token and its user (the query cache is off inside the test's transaction), a page of tokens.
    responses = assert_constant_queries(add_tokens, lambda: _client(keys[0]).get(TOKENS_URL), budget=2)

    assert {tokens: len(response.json()["results"]) for tokens, response in responses.items()} == {1: 1, 50: 20}


def test_revoking_one_of_your_tokens_stops_it_working():
    user = UserFactory()
    current, old_laptop = TokenFactory(user=user), TokenFactory(user=user)

    response = _client(current.key).delete(f"{TOKENS_URL}{old_laptop.pk}/")

    assert response.status_code == 204
    assert _client(old_laptop.key).get(ME_URL).status_code == 401
    assert _client(current.key).get(ME_URL).status_code == 200


def test_revoking_another_users_token_is_404_and_revokes_nothing():
    mine, theirs = TokenFactory(), TokenFactory()

    response = _client(mine.key).delete(f"{TOKENS_URL}{theirs.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert _client(theirs.key).get(ME_URL).status_code == 200


def test_a_sign_in_beyond_the_per_user_limit_revokes_the_oldest_token(api_client, settings):
    settings.API_TOKENS_PER_USER = 2
    UserFactory(email="ada@example.com")
    oldest, middle, newest = (_sign_in(api_client, "ada@example.com")["token"] for _ in range(3))

    assert _client(oldest).get(ME_URL).status_code == 401
    assert _client(middle).get(ME_URL).status_code == 200
    assert _client(newest).get(ME_URL).status_code == 200


def test_a_password_change_revokes_every_token_of_the_user():
    token = TokenFactory()

    services.password_set(user=token.user, password="a-brand-new-Passw0rd")

    assert _client(token.key).get(ME_URL).status_code == 401


def test_the_daily_cleanup_deletes_expired_tokens_only():
    live = TokenFactory()
    TokenFactory(expiry=timedelta(seconds=-1))

    assert services.api_tokens_delete_expired() == 1

    assert list(ApiToken.objects.values_list("pk", flat=True)) == [live.pk]


@pytest.fixture
def drf_token_table():
    """rest_framework.authtoken's table as its migrations left it: the app is no longer installed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone NOT NULL,"
            " user_id bigint NOT NULL UNIQUE)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime NOT NULL,"
            " user_id bigint NOT NULL UNIQUE)"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE authtoken_token")


def test_a_drf_token_from_before_the_migration_still_authenticates_and_its_plain_text_is_gone(drf_token_table):
    from django.apps import apps
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor

    user = UserFactory()
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's own example of a key
    signed_in_at = timezone.now() - timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)", [old_key, signed_in_at, user.pk]
        )

    move_drf_tokens(apps, BaseDatabaseSchemaEditor(connection))

    assert _client(old_key).get(ME_URL).json()["email"] == user.email
    token = ApiToken.objects.get(user=user)
    assert token.digest == hash_token(old_key) and token.expiry > timezone.now()
    assert abs(token.created - signed_in_at) < timedelta(seconds=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)


def test_moving_drf_tokens_does_nothing_where_the_old_table_never_existed():
    from django.apps import apps
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor

    move_drf_tokens(apps, BaseDatabaseSchemaEditor(connection))

    assert not ApiToken.objects.exists()
