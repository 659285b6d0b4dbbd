"""The API's HTTP caching headers: what a browser or a CDN may keep, for how long, and how it revalidates."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from tests.factories import OrderFactory, ProductFactory
from tests.redis_keys import forget_everything_cached

pytestmark = pytest.mark.django_db

PRODUCTS_URL = "/api/v1/products/"
CATEGORIES_URL = "/api/v1/categories/"
HIT = "X-Response-Cache"
PRIVATE = "private, no-store"


@pytest.fixture
def public_urls(db) -> list[str]:
    product = ProductFactory()
    return [f"{PRODUCTS_URL}{product.pk}/", PRODUCTS_URL, CATEGORIES_URL]


def _vary(response) -> set[str]:
    return {name.strip().lower() for name in response["Vary"].split(",")}


def test_anonymous_catalog_reads_are_public_for_public_cache_max_age_on_a_miss_and_a_hit(public_urls, api_client):
    for url in public_urls:
        miss, hit = api_client.get(url), api_client.get(url)

        assert hit[HIT] == "hit"
        assert miss["Cache-Control"] == hit["Cache-Control"] == f"public, max-age={settings.PUBLIC_CACHE_MAX_AGE}"


@override_settings(PUBLIC_CACHE_MAX_AGE=5)
def test_public_max_age_follows_the_setting(public_urls, api_client):
    for url in public_urls:
        assert api_client.get(url)["Cache-Control"] == "public, max-age=5"
        assert api_client.get(url)["Cache-Control"] == "public, max-age=5"


def test_public_reads_carry_an_etag_that_a_hit_repeats(public_urls, api_client):
    for url in public_urls:
        miss, hit = api_client.get(url), api_client.get(url)

        assert miss["ETag"]
        assert hit["ETag"] == miss["ETag"]


def test_a_matching_if_none_match_is_answered_304_on_a_miss(public_urls, api_client, redis_db):
    for url in public_urls:
        etag = api_client.get(url)["ETag"]
        forget_everything_cached(redis_db)  # the next request is a miss again

        response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304, url
        assert response.content == b""


def test_a_matching_if_none_match_is_answered_304_on_a_hit(public_urls, api_client):
    for url in public_urls:
        etag = api_client.get(url)["ETag"]

        response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304, url
        assert response.content == b""


def test_a_304_keeps_the_public_caching_headers_of_the_200_on_a_miss_and_a_hit(public_urls, api_client, redis_db):
    """A browser or CDN updates its stored copy with the 304's headers; a 'no-store' there would drop it."""
    for url in public_urls:
        full = api_client.get(url)
        on_hit = api_client.get(url, HTTP_IF_NONE_MATCH=full["ETag"])
        forget_everything_cached(redis_db)
        on_miss = api_client.get(url, HTTP_IF_NONE_MATCH=full["ETag"])

        for not_modified in (on_hit, on_miss):
            assert not_modified.status_code == 304
            assert not_modified["Cache-Control"] == full["Cache-Control"], url
            assert not_modified["ETag"] == full["ETag"]
            assert {"authorization", "cookie"} <= _vary(not_modified)


def test_a_stale_etag_gets_the_full_response(public_urls, api_client):
    for url in public_urls:
        api_client.get(url)

        response = api_client.get(url, HTTP_IF_NONE_MATCH='"not-the-current-one"')

        assert response.status_code == 200
        assert response.content


def test_user_specific_responses_are_private_and_never_stored(user, user_client):
    product = ProductFactory()
    OrderFactory(user=user)
    for url in ("/api/v1/orders/", "/api/v1/users/me/", PRODUCTS_URL, f"{PRODUCTS_URL}{product.pk}/", CATEGORIES_URL):
        response = user_client.get(url)

        assert response.status_code == 200, url
        assert response["Cache-Control"] == PRIVATE, url


def test_a_session_signed_in_catalog_read_is_private(user, client):
    client.force_login(user)

    assert client.get(PRODUCTS_URL)["Cache-Control"] == PRIVATE


def test_writes_and_errors_are_private(db, api_client, staff_client):
    assert api_client.get(f"{PRODUCTS_URL}999999/")["Cache-Control"] == PRIVATE
    assert api_client.get(PRODUCTS_URL, {"min_price": "abc"})["Cache-Control"] == PRIVATE
    assert api_client.get("/api/v1/orders/")["Cache-Control"] == PRIVATE
    created = staff_client.post(CATEGORIES_URL, {"name": "New", "slug": "new"})
    assert created.status_code == 201
    assert created["Cache-Control"] == PRIVATE


def test_api_responses_vary_on_authorization_and_cookie(public_urls, api_client, user_client):
    for url in [*public_urls, "/api/v1/users/me/"]:
        for response in (api_client.get(url), api_client.get(url), user_client.get(url)):
            assert {"authorization", "cookie"} <= _vary(response), url
