"""The response cache's hits at the WSGI layer (project/caching/wsgi_front.py): a hit is what the
whole stack sent when it missed, sent without Django running; everything the cache must not
answer reaches Django; and hits are still counted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.wsgi import get_wsgi_application
from prometheus_client import REGISTRY

from apps.products import services
from apps.products.models import Product
from project.caching.wsgi_front import ResponseCacheFront
from project.ops import metrics, minute_buckets
from tests.factories import ProductFactory, TokenFactory
from tests.queries import assert_queries
from tests.redis_keys import response_cache_entries
from tests.wsgi_calls import HIT, get

pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def front() -> ResponseCacheFront:
    return ResponseCacheFront(get_wsgi_application())


@pytest.fixture
def product(db) -> Product:
    return ProductFactory(price=Decimal("10.00"))


@pytest.fixture
def cached_paths(product) -> dict[str, str]:
    return {
        "product-detail": f"/api/v1/products/{product.pk}/",
        "product-list": "/api/v1/products/",
        "catalog-page": "/products/",
    }


# --- A hit is the full stack's answer --------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["product-detail", "product-list", "catalog-page"])
def test_a_hit_sends_the_status_headers_and_body_the_full_stack_sent_on_the_miss(
    front, cached_paths, django_runs, endpoint
):
    miss = get(front, cached_paths[endpoint])
    runs_after_the_miss = len(django_runs)

    with assert_queries(0):
        hit = get(front, cached_paths[endpoint])

    assert miss.header(HIT) is None and hit.header(HIT) == "hit"
    assert len(django_runs) == runs_after_the_miss  # Django's handler never ran for the hit
    assert (hit.status, hit.body) == (miss.status, miss.body) == (200, miss.body)
    assert hit.lasting_headers() == miss.lasting_headers()
    names = {name for name, _ in hit.lasting_headers()}
    # What the outer middleware add (security headers, CSP) and what the inner ones set (ETag, Vary...).
    assert {"content-security-policy", "x-content-type-options", "referrer-policy", "etag", "vary"} <= names
    assert "cache-control" in names and "content-length" in names


def test_a_hit_answers_if_none_match_with_the_304_the_full_stack_sends(front, cached_paths, redis_db):
    path = cached_paths["product-detail"]
    etag = get(front, path).header("etag")
    redis_db.unlink(*response_cache_entries(redis_db))  # so that Django answers the next one
    full_stack = get(front, path, HTTP_IF_NONE_MATCH=etag)
    get(front, path)  # fills again

    hit = get(front, path, HTTP_IF_NONE_MATCH=etag)

    assert full_stack.header(HIT) is None
    assert hit.status == full_stack.status == 304
    assert hit.body == full_stack.body == b""
    assert hit.lasting_headers() == full_stack.lasting_headers()
    assert get(front, path, HTTP_IF_NONE_MATCH='"another"').status == 200


# --- What the cache must not answer reaches Django ------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    ["token", "session cookie"],
)
def test_a_request_with_credentials_never_gets_a_hit_nor_fills_one(front, cached_paths, user, redis_db, credentials):
    headers = {
        "token": {"HTTP_AUTHORIZATION": f"Token {TokenFactory(user=user).key}"},
        "session cookie": {"HTTP_COOKIE": "sessionid=anything"},
    }[credentials]
    for path in cached_paths.values():
        get(front, path)
        assert get(front, path).header(HIT) == "hit"
    entries = sorted(response_cache_entries(redis_db))

    for path in cached_paths.values():
        answer = get(front, path, **headers)

        assert answer.status == 200
        assert answer.header(HIT) is None, path
    assert sorted(response_cache_entries(redis_db)) == entries


def test_an_unknown_host_is_refused_with_a_400_and_no_entry(front, cached_paths, redis_db):
    answer = get(front, cached_paths["product-list"], HTTP_HOST="evil.example.com")

    assert answer.status == 400
    assert response_cache_entries(redis_db) == []


def test_an_unknown_host_is_refused_after_a_known_one_got_hits_for_the_same_path(front, cached_paths):
    get(front, cached_paths["product-list"])
    assert get(front, cached_paths["product-list"]).header(HIT) == "hit"

    assert get(front, cached_paths["product-list"], HTTP_HOST="evil.example.com").status == 400


def test_with_server_timing_a_hit_at_the_wsgi_layer_says_it_was_one(settings, cached_paths):
    settings.SERVER_TIMING = True
    front = ResponseCacheFront(get_wsgi_application())
    get(front, cached_paths["product-detail"])

    hit = get(front, cached_paths["product-detail"])

    assert hit.header(HIT) == "hit"
    assert 'response-cache;desc="hit"' in hit.header("server-timing")


def test_unknown_query_parameters_share_the_entry_at_the_wsgi_layer(front, cached_paths):
    get(front, cached_paths["product-list"], "utm_source=newsletter")

    assert get(front, cached_paths["product-list"], "fbclid=abc").header(HIT) == "hit"


@committed
def test_a_write_is_seen_by_the_next_read_at_the_wsgi_layer(front):
    product = ProductFactory(price=Decimal("10.00"))
    path = f"/api/v1/products/{product.pk}/"
    get(front, path)
    assert get(front, path).header(HIT) == "hit"

    services.product_update(product=product, price=Decimal("12.50"))
    after = get(front, path)

    assert after.header(HIT) is None
    assert b'"price":"12.50"' in after.body
    again = get(front, path)
    assert again.header(HIT) == "hit" and again.body == after.body


# --- Hits are counted -------------------------------------------------------------------------------


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_hits_at_the_wsgi_layer_are_counted_by_the_metrics_and_the_minute_buckets(front, cached_paths):
    path = cached_paths["product-detail"]
    get(front, path)
    metrics.flush_pending_hits()
    minute_buckets.flush()
    before = {
        "requests": _sample("headroom_http_requests_total", route="v1:product-detail", method="GET", status="200"),
        "hits": _sample("headroom_response_cache_requests_total", endpoint="v1:product-detail", result="hit"),
        "latencies": _sample("headroom_http_request_duration_seconds_count", route="v1:product-detail"),
        "fast": _sample("headroom_http_request_duration_seconds_bucket", route="v1:product-detail", le="10.0"),
    }
    hits_before = minute_buckets.merged(minute_buckets.last_minutes(count=2)).response_cache.get("hit", 0)

    for _ in range(3):
        assert get(front, path).header(HIT) == "hit"
    metrics.flush_pending_hits()

    assert _sample("headroom_http_requests_total", route="v1:product-detail", method="GET", status="200") == (
        before["requests"] + 3
    )
    assert _sample("headroom_response_cache_requests_total", endpoint="v1:product-detail", result="hit") == (
        before["hits"] + 3
    )
    assert _sample("headroom_http_request_duration_seconds_count", route="v1:product-detail") == before["latencies"] + 3
    assert _sample("headroom_http_request_duration_seconds_bucket", route="v1:product-detail", le="10.0") == (
        before["fast"] + 3
    )
    minute = minute_buckets.merged(minute_buckets.last_minutes(count=2))
    assert minute.response_cache.get("hit", 0) == hits_before + 3
    assert minute.routes[minute_buckets.ROUTE_FROM_RESPONSE_CACHE].requests >= 3


def test_with_redis_unreachable_django_answers_from_the_database(front, cached_paths, monkeypatch, django_runs):
    import redis

    from project.caching import response_cache

    get(front, cached_paths["product-detail"])
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.1, socket_timeout=0.1)
    monkeypatch.setattr(response_cache, "client", unreachable)
    runs_before = len(django_runs)

    answer = get(front, cached_paths["product-detail"])

    assert answer.status == 200 and answer.header(HIT) is None
    assert len(django_runs) == runs_before + 1
