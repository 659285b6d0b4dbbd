"""The ops page's per-minute counters in Redis (project/ops/minute_buckets.py): what a request
adds, that they stay bounded (one hash a minute, expiring after 65 minutes), and fail-open.
Counts reach Redis once a second, or when this process reads them (``flush``)."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

from project.caching import redis_guard
from project.ops import minute_buckets
from project.ops.minute_buckets import TTL_SECONDS, last_minutes, merged, record_request
from tests.factories import ProductFactory
from tests.workers import wait_until

pytestmark = pytest.mark.django_db

NOW = time.time()


def bucket_keys(redis_db) -> list[bytes]:
    return list(redis_db.scan_iter(match=f"{settings.CACHE_KEY_PREFIX}:ops:minute:*", count=1000))


@pytest.fixture
def closed_breaker(monkeypatch):
    """The process-wide breaker, closed before and after (a test here opens it)."""
    monkeypatch.setattr(redis_guard.probe, "paused", True)
    redis_guard.breaker.reset()
    yield redis_guard.breaker
    redis_guard.breaker.reset()


def test_a_request_adds_its_count_status_latency_caches_and_reads_per_alias_to_its_minute():
    record_request(
        route="v1:product-list",
        status=200,
        duration_s=0.030,
        response_cache="miss",
        query_cache_hits=2,
        query_cache_misses=1,
        reads_by_alias={"default": 3},
        writes_by_alias={"default": 1},
        now=NOW,
    )
    record_request(route="v1:product-list", status=503, duration_s=0.004, response_cache="hit", now=NOW)

    minute = last_minutes(now=NOW)[-1]

    assert (minute.overall.requests, minute.overall.errors) == (2, 1)
    assert minute.routes["v1:product-list"].requests == 2
    assert minute.response_cache == {"hit": 1, "miss": 1}
    assert minute.query_cache == {"hit": 2, "miss": 1}
    assert (minute.reads_by_alias, minute.writes_by_alias) == ({"default": 3}, {"default": 1})
    # One request in the 25-50 ms bucket, one in 0-5 ms: the p95 is interpolated in the slower one.
    assert 0.025 < minute.overall.quantile_seconds(0.95) <= 0.050


def test_the_last_hour_is_sixty_minutes_oldest_first_with_empty_minutes_included():
    record_request(route="r", status=200, duration_s=0.01, now=NOW - 10 * 60)
    record_request(route="r", status=200, duration_s=0.01, now=NOW)

    minutes = last_minutes(now=NOW)

    assert len(minutes) == 60
    assert [m.overall.requests for m in minutes][-11:] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert merged(minutes).overall.requests == 2


def test_each_minute_is_one_hash_that_expires_65_minutes_after_it_began(redis_db):
    record_request(route="r", status=200, duration_s=0.01, now=NOW)
    record_request(route="r", status=200, duration_s=0.01, now=NOW)
    minute_buckets.flush()

    [key] = bucket_keys(redis_db)
    assert 0 < redis_db.ttl(key) <= TTL_SECONDS


def test_counts_reach_redis_within_seconds_with_no_reader(redis_db):
    record_request(route="r", status=200, duration_s=0.01)

    wait_until(lambda: bucket_keys(redis_db), timeout=5 * minute_buckets.FLUSH_INTERVAL_SECONDS)


def test_two_hours_of_traffic_leave_at_most_66_hashes(redis_db):
    for minutes_ago in range(120):
        record_request(route="r", status=200, duration_s=0.01, now=time.time() - minutes_ago * 60)
    minute_buckets.flush()

    assert 60 <= len(bucket_keys(redis_db)) <= 66


def test_requests_are_counted_by_route_name_never_by_path(client):
    products = ProductFactory.create_batch(3)
    for product in products:
        assert client.get(f"/products/{product.pk}/").status_code == 200

    minute = last_minutes()[-1]

    assert minute.routes["pages:product"].requests == 3
    assert not [route for route in minute.routes if "/" in route]


def test_with_the_breaker_open_the_pending_counts_are_dropped_and_nothing_is_read(closed_breaker, redis_db):
    closed_breaker.record_failure(ConnectionError("down"))

    record_request(route="r", status=200, duration_s=0.01, now=NOW)
    minute_buckets.flush()

    assert bucket_keys(redis_db) == []
    assert last_minutes(now=NOW) is None


def test_with_redis_unreachable_sending_fails_open_and_opens_the_breaker(closed_breaker, client, monkeypatch):
    unreachable = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.25)
    monkeypatch.setattr(minute_buckets, "get_redis_connection", lambda alias: unreachable)

    record_request(route="r", status=200, duration_s=0.01, now=NOW)
    minute_buckets.flush()

    assert closed_breaker.is_down
    assert client.get("/healthz").status_code == 200


def test_a_page_view_counts_its_reads_per_database_alias(client):
    product = ProductFactory()

    client.get(f"/products/{product.pk}/")

    minute = last_minutes()[-1]
    assert minute.reads_by_alias.get("default", 0) >= 1
    assert minute.writes_by_alias == {}


def test_the_response_cache_counts_a_miss_then_a_hit_and_a_signed_in_read_as_neither(api_client, user_client):
    ProductFactory()

    for client in (api_client, api_client, user_client):
        assert client.get("/api/v1/products/").status_code == 200

    minute = last_minutes()[-1]
    assert minute.response_cache == {"miss": 1, "hit": 1}
    assert minute.routes[minute_buckets.ROUTE_FROM_RESPONSE_CACHE].requests == 1
