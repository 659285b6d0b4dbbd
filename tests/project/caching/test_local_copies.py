"""Hits from a process's memory (project/caching/local_copies.py), against the real Redis: answered
without asking Redis, and never once Redis reported a change, or could not report one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import redis
from django.core.wsgi import get_wsgi_application
from prometheus_client import REGISTRY

from apps.products import services
from apps.products.models import Product
from project.caching import local_copies as local_copies_module
from project.caching import response_cache
from project.caching.local_copies import LocalCopies
from project.caching.wsgi_front import ResponseCacheFront
from tests.factories import ProductFactory
from tests.redis_keys import response_cache_entries
from tests.wsgi_calls import HIT, get

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def front(clock) -> ResponseCacheFront:
    front = ResponseCacheFront(get_wsgi_application())
    front.local_copies = LocalCopies(clock=clock)
    return front


@pytest.fixture
def redis_asked(monkeypatch) -> list[str]:
    """The entries the front looked up in Redis (the lookups a copy answered are not in it)."""
    asked: list[str] = []
    fetch = response_cache.fetch

    def counting_fetch(keys: response_cache.Keys) -> Any:
        asked.append(keys.key)
        return fetch(keys)

    monkeypatch.setattr(response_cache, "fetch", counting_fetch)
    return asked


@pytest.fixture
def product(db) -> Product:
    return ProductFactory(name="Desk lamp", price=Decimal("10.00"))


@pytest.fixture
def path(product) -> str:
    return f"/api/v1/products/{product.pk}/"


def _copied(front: ResponseCacheFront, path: str) -> None:
    """The entry filled (a miss) and then kept in memory (a hit from Redis)."""
    get(front, path)
    assert get(front, path).header(HIT) == "hit"


def test_a_repeated_hit_is_answered_from_memory_without_asking_redis(front, path, redis_asked):
    _copied(front, path)
    asked_before = len(redis_asked)

    again = get(front, path)

    assert again.header(HIT) == "hit" and again.status == 200
    assert len(redis_asked) == asked_before


def test_a_product_update_is_seen_by_the_very_next_read(front, path, product):
    _copied(front, path)

    services.product_update(product=product, name="Floor lamp")
    after = get(front, path)

    assert after.header(HIT) is None  # Django answered it
    assert b"Floor lamp" in after.body


def test_a_tag_token_changed_by_another_process_drops_the_copies_read_under_it(front, path, redis_asked, redis_db):
    _copied(front, path)
    asked_before = len(redis_asked)

    for tag_key in redis_db.scan_iter(match=f"{front.local_copies.prefix}tag:*"):
        redis_db.set(tag_key, b"a token another process wrote")
    after = get(front, path)

    assert after.header(HIT) is None  # the entry's tokens no longer match: Django answered
    assert len(redis_asked) == asked_before + 1


def test_an_entry_deleted_by_another_client_drops_its_copy(front, path, redis_asked, redis_db):
    _copied(front, path)
    asked_before = len(redis_asked)

    redis_db.unlink(*response_cache_entries(redis_db))  # as an eviction does
    after = get(front, path)

    assert after.header(HIT) is None
    assert len(redis_asked) == asked_before + 1


def test_a_flush_drops_every_copy(front, path, redis_asked, redis_db):
    _copied(front, path)
    asked_before = len(redis_asked)

    redis_db.flushdb()
    after = get(front, path)

    assert after.header(HIT) is None
    assert len(redis_asked) == asked_before + 1


def test_when_the_tracking_connection_is_closed_every_copy_is_dropped_and_redis_is_asked(
    front, path, redis_asked, redis_db, clock
):
    _copied(front, path)
    asked_before = len(redis_asked)

    redis_db.client_kill_filter(_id=front.local_copies.client_id)
    get(front, path)
    get(front, path)  # still within the reconnect delay: asked again
    clock.now += local_copies_module.RECONNECT_SECONDS
    get(front, path)  # reconnected: a hit from Redis, kept again
    get(front, path)

    assert len(redis_asked) == asked_before + 3


def test_a_closed_tracking_connection_is_counted_in_the_metrics(front, path, redis_db):
    _copied(front, path)
    before = REGISTRY.get_sample_value("headroom_response_cache_memory_off_total") or 0

    redis_db.client_kill_filter(_id=front.local_copies.client_id)
    get(front, path)

    assert REGISTRY.get_sample_value("headroom_response_cache_memory_off_total") == before + 1


def test_no_copy_is_answered_without_a_recent_answer_to_the_connections_ping(front, path, redis_asked, clock):
    _copied(front, path)
    asked_before = len(redis_asked)

    clock.now += local_copies_module.LIVENESS_SECONDS  # the last PING answered is that old
    get(front, path)

    assert len(redis_asked) == asked_before + 1


def test_no_copy_is_answered_during_a_redis_outage_nor_after_it(front, path, redis_asked, monkeypatch):
    from project.caching import redis_guard

    monkeypatch.setattr(redis_guard.probe, "paused", True)  # its PING would end the outage at once
    breaker = redis_guard.RedisCircuitBreaker(cooldown_seconds=60)
    monkeypatch.setattr(redis_guard, "breaker", breaker)
    _copied(front, path)
    asked_before = len(redis_asked)

    breaker.record_failure(redis.ConnectionError("Redis unreachable"))
    during = get(front, path)
    breaker.reset()  # as after the outage, with one more outage on record
    after = get(front, path)

    assert during.header(HIT) is None and after.header(HIT) == "hit"
    assert len(redis_asked) == asked_before + 2


def test_more_changes_at_once_than_the_backlog_limit_drop_every_copy(front, path, redis_asked, redis_db):
    _copied(front, path)
    asked_before = len(redis_asked)
    names = [f"{front.local_copies.prefix}unrelated:{number:060d}" for number in range(1000)]

    redis_db.mset(dict.fromkeys(names, b"x"))  # keys no copy was read from: their names alone exceed it
    get(front, path)

    assert len(b"".join(name.encode() for name in names)) > local_copies_module.BACKLOG_BYTES
    assert len(redis_asked) == asked_before + 1


def test_a_lookup_that_overlapped_a_change_keeps_no_copy(front, product, monkeypatch):
    """Another thread (here: a nested request) may read the change's invalidation while this
    lookup's MGET, which saw the old tokens, is on its way back: that entry must not be kept."""
    path = f"/api/v1/products/{product.pk}/"
    other = ProductFactory()
    get(front, path)  # filled
    get(front, f"/api/v1/products/{other.pk}/")
    fetch = response_cache.fetch
    overlapped = []

    def fetch_then_overlap(keys: response_cache.Keys) -> Any:
        found = fetch(keys)
        if not overlapped:
            overlapped.append(keys.key)
            services.product_update(product=product, name="Renamed meanwhile")
            get(front, f"/api/v1/products/{other.pk}/")  # another request reads the invalidation
        return found

    monkeypatch.setattr(response_cache, "fetch", fetch_then_overlap)
    during = get(front, path)  # a hit from Redis with the old name, answered as it was read
    after = get(front, path)

    assert overlapped and b"Renamed meanwhile" not in during.body
    assert b"Renamed meanwhile" in after.body


def test_a_change_to_an_unrelated_key_keeps_the_copy(front, path, redis_asked, redis_db):
    _copied(front, path)
    asked_before = len(redis_asked)

    redis_db.set(f"{front.local_copies.prefix}unrelated", b"x")
    get(front, path)

    assert len(redis_asked) == asked_before


def test_off_the_front_asks_redis_for_every_hit(path, redis_asked, settings):
    settings.RESPONSE_CACHE_LOCAL_COPIES = False
    front = ResponseCacheFront(get_wsgi_application())
    _copied(front, path)
    asked_before = len(redis_asked)

    get(front, path)

    assert front.local_copies is None
    assert len(redis_asked) == asked_before + 1


@pytest.mark.parametrize("if_none_match", [False, True], ids=["200", "304"])
def test_a_wsgi_server_that_adds_to_the_headers_it_is_given_changes_no_later_hit(front, path, if_none_match):
    """wsgiref (runserver) adds Date and Server to the very list it is handed; a copy is shared."""
    front.server_timing = False  # as in production: the header list is then handed over as the entry has it
    _copied(front, path)
    etag = get(front, path).header("etag")
    headers = {"HTTP_IF_NONE_MATCH": etag} if if_none_match else {}

    first = get(front, path, **headers)
    first.headers.append(("Date", "added by the server"))
    again = get(front, path, **headers)

    assert again.header("date") is None
    assert again.headers == [header for header in first.headers if header[0] != "Date"]
