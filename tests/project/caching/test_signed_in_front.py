"""Signed-in reads answered before Django (project/caching/signed_in_front.py): a repeat of a
declared token GET is what Django sent, sent without Django running, after the token check from
the query cache; what the front cannot answer the same way reaches Django. Revocations, profile
changes and deactivations read back through the front: tests/users/test_token_cache.py."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import REGISTRY

from apps.users.authentication import CREDENTIALS_KEY
from apps.users.models import ApiToken, User
from project.caching import declarations, signed_in_front
from project.caching.signed_in_front import SignedInResponseFront
from project.ops import metrics
from tests.factories import TokenFactory
from tests.queries import assert_queries, assert_query_cache_reads
from tests.wsgi_calls import Answer, get

# Committed data, as in production: inside a test's transaction cacheops neither caches nor invalidates.
pytestmark = pytest.mark.django_db(transaction=True)

ME_URL = "/api/v1/users/me/"


@pytest.fixture
def front() -> SignedInResponseFront:
    return SignedInResponseFront(get_wsgi_application())


@pytest.fixture
def token() -> ApiToken:
    return TokenFactory(user__name="Ada")


def me(application: Any, key: str, **headers: str) -> Answer:
    return get(application, ME_URL, HTTP_AUTHORIZATION=f"Token {key}", **headers)


# --- A repeat is Django's answer, without Django -----------------------------------------------------


def test_a_repeat_sends_the_status_headers_and_body_django_sent_without_running_django(front, token, django_runs):
    from_django = me(front, token.key)
    runs = len(django_runs)

    with assert_queries(0), assert_query_cache_reads(hits=1):  # the token check: its lookup, from Redis
        repeat = me(front, token.key)

    assert len(django_runs) == runs == 1
    assert (repeat.status, repeat.body) == (from_django.status, from_django.body)
    assert json.loads(repeat.body)["name"] == "Ada"
    assert repeat.lasting_headers() == from_django.lasting_headers()
    names = {name for name, _ in repeat.lasting_headers()}
    assert {"cache-control", "vary", "etag", "content-security-policy", "x-content-type-options"} <= names
    assert repeat.header("cache-control") == "private, no-store"


def test_each_user_is_answered_with_their_own_profile(front, django_runs):
    tokens = [TokenFactory(), TokenFactory(), TokenFactory()]
    for each in tokens:
        me(front, each.key)
    runs = len(django_runs)

    for _ in range(2):
        for each in tokens:
            assert json.loads(me(front, each.key).body)["id"] == each.user_id

    assert len(django_runs) == runs


def test_a_profile_change_files_the_next_response_under_the_new_row(front, token, django_runs):
    me(front, token.key)
    user = User.objects.get(pk=token.user_id)

    user.name = "Grace"
    user.save(update_fields=["name"])

    assert json.loads(me(front, token.key).body)["name"] == "Grace"  # from Django, which files it
    runs = len(django_runs)
    assert json.loads(me(front, token.key).body)["name"] == "Grace"
    assert len(django_runs) == runs


def test_a_revoked_token_is_refused_by_django_on_the_next_request(front, token, django_runs):
    me(front, token.key)
    assert me(front, token.key).status == 200

    ApiToken.objects.filter(pk=token.pk).delete()
    runs = len(django_runs)

    refused = me(front, token.key)
    assert refused.status == 401
    assert len(django_runs) == runs + 1


def test_an_expiry_renewal_due_is_left_to_django_which_makes_it(front, token, django_runs):
    me(front, token.key)
    assert me(front, token.key).status == 200
    runs = len(django_runs)
    later = timezone.now() + timedelta(hours=2)  # past MIN_REFRESH_INTERVAL: knox's renewal writes
    renewed_from = ApiToken.objects.get(pk=token.pk).expiry

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        assert me(front, token.key).status == 200

    assert len(django_runs) == runs + 1
    assert ApiToken.objects.get(pk=token.pk).expiry > renewed_from


# --- What the front leaves to Django ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_COOKIE": "sessionid=anything"},
        {"HTTP_IF_NONE_MATCH": '"anything"'},
        {"HTTP_IF_MODIFIED_SINCE": "Mon, 30 Nov 2026 00:00:00 GMT"},
        {"REQUEST_METHOD": "HEAD"},
        {"HTTP_ACCEPT": "application/json; indent=2"},
    ],
    ids=["a cookie", "If-None-Match", "If-Modified-Since", "HEAD", "another Accept"],
)
def test_a_request_the_front_would_not_answer_as_django_does_reaches_django(front, token, django_runs, headers):
    me(front, token.key)
    assert me(front, token.key).status == 200
    runs = len(django_runs)

    me(front, token.key, **headers)

    assert len(django_runs) == runs + 1


@pytest.mark.parametrize(
    "authorization",
    ["Bearer {key}", "Token {key} extra", "Token", "Basic {key}"],
)
def test_another_shape_of_authorization_reaches_django(front, token, django_runs, authorization):
    me(front, token.key)
    runs = len(django_runs)

    answer = get(front, ME_URL, HTTP_AUTHORIZATION=authorization.format(key=token.key))

    assert answer.status == 401
    assert len(django_runs) == runs + 1


def test_an_accept_django_refuses_is_refused_after_a_kept_answer_for_json(front, token):
    me(front, token.key)
    assert me(front, token.key).status == 200

    assert me(front, token.key, HTTP_ACCEPT="text/html").status == 406


def test_a_response_is_filed_under_the_credentials_django_accepted_not_those_read_before():
    """A write between the front's check and Django's: Django's answer is for the rows it read, and is
    filed under them, so the rows the front read before get no entry made from others."""
    mine, theirs = TokenFactory(), TokenFactory()
    their_credentials = (User.objects.get(pk=theirs.user_id), theirs)
    django_calls: list[str] = []

    def django_answering_for_theirs(environ: dict[str, Any], start_response: Any) -> HttpResponse:
        django_calls.append(environ["PATH_INFO"])
        environ[CREDENTIALS_KEY] = their_credentials
        start_response("200 OK", [("Content-Type", "application/json")])
        return HttpResponse(b'{"theirs": true}', content_type="application/json")

    front = SignedInResponseFront(django_answering_for_theirs)
    warm = SignedInResponseFront(get_wsgi_application())
    me(warm, mine.key)  # the lookup of my token in the query cache: the front's check passes

    me(front, mine.key)
    me(front, mine.key)

    assert len(django_calls) == 2  # never answered from the entry filed under their rows


def test_a_response_that_sets_a_cookie_is_not_kept(token):
    credentials = (User.objects.get(pk=token.user_id), token)
    django_calls: list[str] = []

    def django_setting_a_cookie(environ: dict[str, Any], start_response: Any) -> HttpResponse:
        django_calls.append(environ["PATH_INFO"])
        environ[CREDENTIALS_KEY] = credentials
        start_response("200 OK", [("Content-Type", "application/json"), ("Set-Cookie", "a=b")])
        return HttpResponse(b"{}", content_type="application/json")

    front = SignedInResponseFront(django_setting_a_cookie)
    me(SignedInResponseFront(get_wsgi_application()), token.key)  # the token's lookup, cached

    me(front, token.key)
    me(front, token.key)

    assert len(django_calls) == 2


def test_beyond_the_responses_kept_the_oldest_is_dropped(front, django_runs, monkeypatch):
    monkeypatch.setattr(signed_in_front, "RESPONSES_KEPT", 2)
    tokens = [TokenFactory(), TokenFactory(), TokenFactory()]
    for each in tokens:
        me(front, each.key)
    runs = len(django_runs)

    me(front, tokens[0].key)  # dropped: Django again
    me(front, tokens[2].key)  # kept

    assert len(django_runs) == runs + 1
    assert len(front.responses) == 2


# --- Counted, timed, and checked at start ------------------------------------------------------------


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_answer_before_django_is_counted_by_the_metrics(front, token):
    me(front, token.key)
    metrics.flush_pending_hits()
    before = _sample("headroom_http_requests_total", route="v1:me", method="GET", status="200")

    for _ in range(3):
        me(front, token.key)
    metrics.flush_pending_hits()

    assert _sample("headroom_http_requests_total", route="v1:me", method="GET", status="200") == before + 3


def test_with_server_timing_an_answer_before_django_says_so(settings, token):
    settings.SERVER_TIMING = True
    front = SignedInResponseFront(get_wsgi_application())
    me(front, token.key)

    repeat = me(front, token.key)

    assert 'response-cache;desc="hit"' in repeat.header("server-timing")


@pytest.mark.parametrize(
    ("url_name", "refusal"),
    [("v1:token", "is not a DRF view that takes API tokens"), ("v1:reports", "has throttles")],
)
def test_a_declared_view_the_front_would_answer_differently_stops_the_process(monkeypatch, url_name, refusal):
    declared = declarations.discovered()
    monkeypatch.setattr(
        declarations,
        "discovered",
        lambda: declarations.Declarations(
            query_cache=declared.query_cache,
            response_cache=declared.response_cache,
            invalidates=declared.invalidates,
            embedded_in=declared.embedded_in,
            signed_in_response_cache=(url_name,),
        ),
    )

    with pytest.raises(ImproperlyConfigured, match=refusal):
        signed_in_front.declared_routes()


def test_the_wsgi_application_answers_signed_in_repeats_before_django(token, django_runs):
    from project.wsgi import application

    me(application, token.key)
    runs = len(django_runs)

    assert me(application, token.key).status == 200
    assert len(django_runs) == runs
