"""The sign-in check of an API request from the query cache (apps/users/authentication.py): a warm
request runs no SQL, and every write that takes a credential away is refused on the very next
request. Each test reads GET /users/me/ through Django and again through the WSGI application as
gunicorn runs it (project/wsgi.py), where a repeat is answered before Django
(project/caching/signed_in_front.py). Across real worker processes:
tests/orders/test_signed_in_reads_across_workers.py."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.test import APIClient

from apps.users import services
from apps.users.models import ApiToken, User
from project.caching import redis_guard
from project.caching.wsgi_front import wrap
from tests.factories import DEFAULT_PASSWORD, TokenFactory, UserFactory
from tests.queries import assert_queries, assert_query_cache_reads
from tests.wsgi_calls import get

# Committed data, as in production: inside a test's transaction cacheops neither caches nor invalidates.
pytestmark = pytest.mark.django_db(transaction=True)

ME_URL = "/api/v1/users/me/"
LOGOUT_URL = "/api/v1/auth/logout/"
LOGOUT_ALL_URL = "/api/v1/auth/logout-all/"
TOKENS_URL = "/api/v1/auth/tokens/"


@dataclass
class MeReply:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


MeReader = Callable[[str], MeReply]


@pytest.fixture(params=["through Django", "through the WSGI front"])
def me(request) -> MeReader:
    """GET /users/me/ with a token: through Django's test client, or through project/wsgi.py's
    application (the WSGI fronts, then Django), as gunicorn calls it."""
    if request.param == "through Django":

        def through_django(key: str) -> MeReply:
            response = _client(key).get(ME_URL)
            return MeReply(response.status_code, response.content)

        return through_django
    application = wrap(get_wsgi_application())

    def through_the_wsgi_front(key: str) -> MeReply:
        answer = get(application, ME_URL, HTTP_AUTHORIZATION=f"Token {key}")
        return MeReply(answer.status, answer.body)

    return through_the_wsgi_front


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _warm(me: MeReader, *tokens: ApiToken) -> None:
    """Each token's sign-in check is in the query cache: its second request reads the token with its user from it."""
    for token in tokens:
        assert me(token.key).status_code == 200
        with assert_query_cache_reads(hits=1):
            assert me(token.key).status_code == 200


def _deactivation_form(user: User) -> dict[str, str]:
    """The admin's change form for ``user`` as staff sends it with "Active" unticked."""
    return {
        "email": user.email,
        "name": user.name,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "email_verified_at_0": "",
        "email_verified_at_1": "",
        "_save": "Save",
    }


# --- The warm path ---------------------------------------------------------------------------------


def test_a_warm_me_request_runs_no_sql(me):
    token = TokenFactory()
    me(token.key)

    with assert_queries(0), assert_query_cache_reads(hits=1):  # the token with its user
        response = me(token.key)

    assert response.status_code == 200
    assert response.json()["email"] == token.user.email


def test_a_cold_me_request_reads_the_token_with_its_user_in_one_query(me):
    token = TokenFactory()

    with assert_queries(1), assert_query_cache_reads(hits=0, misses=1):
        assert me(token.key).status_code == 200


def test_an_unknown_key_is_refused_whatever_is_cached_under_its_prefix(me):
    token = TokenFactory()
    _warm(me, token)
    forged = token.key[:15] + "0" * (len(token.key) - 15)

    assert me(forged).status_code == 401


def test_a_token_past_its_expiry_is_refused_though_its_lookup_is_cached(me, monkeypatch):
    token = TokenFactory()
    _warm(me, token)
    later = timezone.now() + timedelta(days=31)  # past API_TOKEN_TTL_DAYS: the cached expiry has passed
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert me(token.key).status_code == 401


def test_an_expiry_renewal_is_read_back_by_the_next_request(me):
    token = TokenFactory()
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() + timedelta(days=1))  # no invalidation
    me(token.key)  # caches the token, then renews it: the save drops the entry

    with assert_queries(1):  # the token again, with its new expiry
        assert me(token.key).status_code == 200
    with assert_queries(0):
        assert me(token.key).status_code == 200


# --- Revoked on the very next request --------------------------------------------------------------


def test_logout_refuses_the_token_on_the_next_request(me):
    token = TokenFactory()
    _warm(me, token)

    assert _client(token.key).post(LOGOUT_URL).status_code == 204

    assert me(token.key).status_code == 401


def test_logout_all_refuses_every_token_of_the_user_on_the_next_request(me):
    phone = TokenFactory()
    laptop = TokenFactory(user=phone.user)
    _warm(me, phone, laptop)

    assert _client(phone.key).post(LOGOUT_ALL_URL).status_code == 204

    assert me(phone.key).status_code == 401
    assert me(laptop.key).status_code == 401


def test_revoking_another_token_refuses_it_on_the_next_request_and_keeps_this_one(me):
    phone = TokenFactory()
    laptop = TokenFactory(user=phone.user)
    _warm(me, phone, laptop)

    assert _client(phone.key).delete(f"{TOKENS_URL}{laptop.pk}/").status_code == 204

    assert me(laptop.key).status_code == 401
    assert me(phone.key).status_code == 200


def test_a_token_deleted_by_staff_in_the_admin_is_refused_on_the_next_request(me, admin_client):
    token = TokenFactory()
    _warm(me, token)

    response = admin_client.post(f"/admin/users/apitoken/{token.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert me(token.key).status_code == 401


def test_a_password_change_refuses_every_token_on_the_next_request(me):
    token = TokenFactory()
    _warm(me, token)

    services.password_set(user=User.objects.get(pk=token.user_id), password="another-Passw0rd!")

    assert me(token.key).status_code == 401


def test_a_password_change_on_the_account_page_refuses_the_tokens_on_the_next_request(me, client):
    token = TokenFactory()
    _warm(me, token)
    assert client.login(request=HttpRequest(), username=token.user.email, password=DEFAULT_PASSWORD)

    response = client.post(
        "/account/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": "another-Passw0rd!", "new_password2": "another-Passw0rd!"},
    )

    assert response.status_code == 302
    assert me(token.key).status_code == 401


def test_a_user_deactivated_by_staff_in_the_admin_is_refused_on_the_next_request(me, admin_client):
    token = TokenFactory()
    _warm(me, token)

    response = admin_client.post(f"/admin/users/user/{token.user_id}/change/", _deactivation_form(token.user))

    assert response.status_code == 302, response.content[:2000]
    assert not User.objects.get(pk=token.user_id).is_active
    assert me(token.key).status_code == 401


def test_a_user_deactivated_by_a_save_in_any_process_is_refused_on_the_next_request(me):
    token = TokenFactory()
    _warm(me, token)
    user = User.objects.get(pk=token.user_id)

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert me(token.key).status_code == 401


def test_a_user_deactivated_by_an_invalidated_update_is_refused_on_the_next_request(me):
    """A plain QuerySet.update() sends no signal (docs/caching.md): bulk writes use invalidated_update()."""
    token = TokenFactory()
    _warm(me, token)

    User.objects.filter(pk=token.user_id).invalidated_update(is_active=False)

    assert me(token.key).status_code == 401


def test_a_deleted_user_is_refused_on_the_next_request(me):
    token = TokenFactory()
    _warm(me, token)

    User.objects.filter(pk=token.user_id).delete()

    assert me(token.key).status_code == 401


# --- Fresh, and never another user's ---------------------------------------------------------------


def test_a_profile_change_is_read_back_by_the_next_request(me):
    token = TokenFactory(user__name="Ada")
    _warm(me, token)

    assert _client(token.key).patch(ME_URL, {"name": "Grace"}).status_code == 200

    assert me(token.key).json()["name"] == "Grace"


def test_a_staff_edit_in_the_admin_is_read_back_by_the_next_request(me, admin_client):
    token = TokenFactory(user__name="Ada")
    _warm(me, token)

    form = _deactivation_form(token.user) | {"name": "Grace", "is_active": "on"}
    assert admin_client.post(f"/admin/users/user/{token.user_id}/change/", form).status_code == 302

    assert me(token.key).json()["name"] == "Grace"


def test_each_token_is_answered_with_its_own_user_from_a_shared_cache(me):
    tokens = [TokenFactory(), TokenFactory(), TokenFactory()]
    _warm(me, *tokens)

    for _ in range(2):
        for token in tokens:
            assert me(token.key).json()["id"] == token.user_id


def test_a_key_sharing_another_tokens_prefix_is_answered_with_its_own_user(me):
    mine = TokenFactory()
    _warm(me, mine)
    # Knox looks tokens up by their first 15 characters, then compares digests: a collision is two rows.
    key = mine.token_key + secrets.token_hex(32)[15:]
    theirs = ApiToken(user=UserFactory(), token_key=key[:15], digest=hash_token(key), expiry=mine.expiry)
    theirs.save()

    assert me(key).json()["id"] == theirs.user_id
    assert me(mine.key).json()["id"] == mine.user_id


# --- Redis down: the database, never a stale copy ---------------------------------------------------


@pytest.fixture
def redis_down(monkeypatch) -> Iterator[redis_guard.RedisCircuitBreaker]:
    """The process's breaker, to open as in an outage (its probe paused, so that only the test ends it)."""
    breaker = redis_guard.breaker
    breaker.reset()
    monkeypatch.setattr(redis_guard.probe, "paused", True)
    monkeypatch.setattr(breaker, "cooldown_seconds", 3600)
    yield breaker
    breaker.reset()


def test_with_redis_down_a_token_revoked_meanwhile_is_refused_and_stays_refused_after(me, redis_down):
    token = TokenFactory()
    _warm(me, token)  # before the outage: the entry stays in Redis, which the revocation cannot reach
    redis_down.record_failure(redis.ConnectionError("down"))

    services.api_tokens_revoke_all(user=User.objects.get(pk=token.user_id))

    with assert_queries(1):  # the token, from the database, and there is none
        assert me(token.key).status_code == 401
    assert redis_down.record_success()  # Redis is back: the caches are dropped before they are trusted
    assert me(token.key).status_code == 401


def test_with_redis_down_a_valid_token_is_still_accepted_from_the_database(me, redis_down):
    token = TokenFactory()
    redis_down.record_failure(redis.ConnectionError("down"))

    with assert_queries(1):  # the token with its user
        assert me(token.key).status_code == 200


def test_an_unknown_key_is_not_cached(me):
    """Made-up keys must not fill Redis: each costs the one query it cost before the cache."""
    key = "0" * 64

    for _ in range(2):
        with assert_queries(1), assert_query_cache_reads(hits=0, misses=1):
            assert me(key).status_code == 401
