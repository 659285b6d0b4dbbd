"""The per-process circuit breaker in front of every Redis client (project/caching/redis_guard.py)."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from apps.products import selectors
from project.caching import redis_guard
from project.caching.redis_guard import GuardedRedis, RedisCircuitBreaker, RedisUnavailable
from tests.factories import ProductFactory
from tests.queries import assert_query_cache_reads
from tests.workers import wait_until

KEY = f"{settings.CACHE_KEY_PREFIX}:test:value"


@pytest.fixture(autouse=True)
def no_outage_probe(monkeypatch):
    """This process's outage probe PINGs through whatever breaker is in place: not during these tests."""
    monkeypatch.setattr(redis_guard.probe, "paused", True)
    time.sleep(redis_guard.probe.interval_seconds)  # a PING already under way finishes


@pytest.fixture
def own_breaker(monkeypatch) -> RedisCircuitBreaker:
    """A fresh breaker in place of the process-wide one, for what GuardedRedis does with it."""
    breaker = RedisCircuitBreaker(cooldown_seconds=0.2)
    monkeypatch.setattr(redis_guard, "breaker", breaker)
    return breaker


@pytest.fixture
def global_breaker(monkeypatch):
    """The process-wide breaker, with the recovery wiring of ready() and a short cooldown; closed afterwards."""
    breaker = redis_guard.breaker
    breaker.reset()
    monkeypatch.setattr(breaker, "cooldown_seconds", 0.2)
    yield breaker
    breaker.reset()


@pytest.fixture
def silent_redis():
    """A port that accepts connections and never answers, as a Redis frozen by SIGSTOP does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_an_open_breaker_refuses_calls_until_its_cooldown_has_passed():
    breaker = RedisCircuitBreaker(cooldown_seconds=0.2)
    assert breaker.allows_a_call() and not breaker.is_down

    breaker.record_failure(redis.ConnectionError("refused"))

    assert breaker.is_down
    assert not breaker.allows_a_call()
    time.sleep(0.25)
    assert breaker.allows_a_call()
    assert breaker.is_down  # until a call succeeds


def test_recovery_callbacks_run_once_when_an_outage_ends():
    breaker = RedisCircuitBreaker(cooldown_seconds=0.2)
    runs = []
    breaker.on_recovery(lambda: runs.append("dropped"))
    assert breaker.record_success() is False  # no outage, nothing to recover from

    breaker.record_failure(redis.TimeoutError("frozen"))
    breaker.record_failure(redis.TimeoutError("still frozen"))

    assert breaker.record_success() is True
    assert breaker.record_success() is False
    assert runs == ["dropped"]
    assert not breaker.is_down


def test_a_recovery_that_fails_reopens_the_breaker_and_runs_again_on_the_next_success():
    breaker = RedisCircuitBreaker(cooldown_seconds=0.2)
    attempts = []

    def drop_caches() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise redis.ConnectionError("went away again")

    breaker.on_recovery(drop_caches)
    breaker.record_failure(redis.ConnectionError("refused"))

    assert breaker.record_success() is True
    assert breaker.is_down and not breaker.allows_a_call()
    assert breaker.record_success() is True
    assert not breaker.is_down
    assert len(attempts) == 2


def test_a_guarded_client_pays_one_timeout_then_fails_fast_without_the_network(own_breaker, silent_redis):
    client = GuardedRedis.from_url(silent_redis, socket_timeout=0.3, socket_connect_timeout=0.3)

    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        client.get("key")
    first = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(RedisUnavailable):
        client.get("key")
    second = time.monotonic() - started

    assert 0.25 < first < 1.0  # one socket timeout, no retries
    assert second < 0.15  # well under the 0.3 s socket timeout: nothing waited on Redis


def test_the_first_answer_after_an_outage_is_discarded_and_the_next_one_is_used(own_breaker):
    client = GuardedRedis.from_url(settings.REDIS_URL)
    client.set(KEY, "v")
    own_breaker.record_failure(redis.ConnectionError("simulated outage"))
    time.sleep(0.25)

    with pytest.raises(RedisUnavailable):
        client.get(KEY)
    assert client.get(KEY) == b"v"


def test_no_thread_uses_an_answer_while_another_is_still_dropping_the_caches_after_an_outage(own_breaker):
    """Its answer may have been read before the drop: stale data, in a threaded server (runserver, gthread)."""
    client = GuardedRedis.from_url(settings.REDIS_URL)
    client.set(KEY, "written before the outage")
    dropping, dropped = threading.Event(), threading.Event()

    def slow_drop() -> None:
        dropping.set()
        assert dropped.wait(timeout=5)

    own_breaker.on_recovery(slow_drop)
    own_breaker.record_failure(redis.ConnectionError("simulated outage"))
    time.sleep(0.25)
    recovery = threading.Thread(target=_discarded, args=(client.ping,))
    recovery.start()
    assert dropping.wait(timeout=5)
    try:
        with pytest.raises(RedisUnavailable):
            client.get(KEY)
    finally:
        dropped.set()
        recovery.join(timeout=5)
    assert client.get(KEY) == b"written before the outage"  # once the drop is over, answers are used


def test_an_answer_to_a_call_sent_during_an_outage_is_discarded_even_after_another_thread_ended_it(own_breaker):
    client = GuardedRedis.from_url(settings.REDIS_URL, socket_timeout=5)
    own_breaker.record_failure(redis.ConnectionError("simulated outage"))
    time.sleep(0.25)
    outcome: list[object] = []
    slow_call = threading.Thread(
        target=lambda: outcome.append(_discarded(lambda: client.blpop([f"{KEY}:empty"], timeout=1)))
    )
    slow_call.start()
    # Until Redis holds the blpop: only an answer to a call already sent when the outage ends counts.
    observer = redis.Redis.from_url(settings.REDIS_URL)
    try:
        wait_until(lambda: any(c.get("cmd") == "blpop" for c in observer.client_list()), timeout=5, interval=0.01)
    finally:
        observer.close()

    with pytest.raises(RedisUnavailable):
        client.ping()  # ends the outage; this thread runs the recovery
    slow_call.join(timeout=5)

    assert outcome == ["discarded"]


def _discarded(call) -> object:
    try:
        return call()
    except RedisUnavailable:
        return "discarded"


@pytest.mark.django_db(transaction=True)
def test_when_redis_is_back_after_an_outage_both_caches_are_dropped(global_breaker, api_client):
    """A write made during the outage could not invalidate: nothing from before may be served."""
    product = ProductFactory(price=Decimal("10.00"))
    url = f"/api/v1/products/{product.pk}/"
    api_client.get(url)
    assert api_client.get(url)["X-Response-Cache"] == "hit"
    list(selectors.products_for_catalog())
    with assert_query_cache_reads(hits=1):
        list(selectors.products_for_catalog())

    global_breaker.record_failure(redis.ConnectionError("simulated outage"))
    time.sleep(0.25)
    api_client.get(url)  # its Redis answer is the first after the outage: discarded, caches dropped

    assert "X-Response-Cache" not in api_client.get(url)
    with assert_query_cache_reads(hits=0, misses=1):
        list(selectors.products_for_catalog())
