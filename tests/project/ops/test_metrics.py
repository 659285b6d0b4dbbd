"""Prometheus metrics (project/ops/metrics.py): who may read /metrics, and the series requests,
caches, the breaker and jobs leave, with bounded labels. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import time

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from apps.core.jobs import send_on_commit
from apps.core.models import OutboxMessage
from project.caching import redis_guard
from project.caching.redis_guard import breaker
from project.ops import metrics
from tests.factories import ProductFactory

TOKEN = "a-metrics-token-for-the-tests-only-0123456789"
committed = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, token: str = TOKEN) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.status_code
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for series in family.samples:
            found.setdefault(series.name, {})[tuple(sorted(series.labels.items()))] = series.value
    return found


# --- who may read ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_is_a_404_when_neither_a_token_nor_a_network_is_set(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []

    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_refuses_a_request_without_the_token(client, metrics_token):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


@pytest.mark.django_db
def test_metrics_answers_the_bearer_token(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"headroom_http_requests_total" in response.content


@pytest.mark.django_db
def test_metrics_answers_a_client_in_an_allowed_network_without_a_token(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", ["10.0.0.0/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 403


@pytest.mark.django_db
def test_allowed_networks_use_the_client_ip_of_the_throttles_not_a_forged_header(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", ["10.0.0.0/8"]

    response = client.get("/metrics", REMOTE_ADDR="192.168.1.1", HTTP_X_FORWARDED_FOR="10.1.2.3")

    assert response.status_code == 403


# --- the series ------------------------------------------------------------------------------------


@committed
def test_requests_are_counted_by_route_name_never_by_path(api_client, metrics_token):
    product = ProductFactory()
    before = sample("headroom_http_requests_total", route="v1:product-detail", method="GET", status="200")

    api_client.get(f"/api/v1/products/{product.pk}/", HTTP_AUTHORIZATION="")
    api_client.get(f"/api/v1/products/{product.pk}/")

    assert sample("headroom_http_requests_total", route="v1:product-detail", method="GET", status="200") == before + 2
    exposed = scrape(api_client)
    labels = {value for series in exposed.values() for key in series for _, value in key}
    assert not any(str(product.pk) in value and "/" in value for value in labels)


@pytest.mark.django_db
def test_a_path_no_route_matches_is_counted_under_one_label(client):
    before = sample("headroom_http_requests_total", route=metrics.UNROUTED, method="GET", status="404")

    client.get("/no-such-page-12345/")
    client.get("/no-such-page-67890/")

    assert sample("headroom_http_requests_total", route=metrics.UNROUTED, method="GET", status="404") == before + 2


@pytest.mark.django_db
def test_latency_is_observed_by_route(client):
    before = sample("headroom_http_request_duration_seconds_count", route="healthz")

    client.get("/healthz")

    assert sample("headroom_http_request_duration_seconds_count", route="healthz") == before + 1


@committed
def test_sql_is_counted_by_alias_as_reads_and_writes(user_client):
    product = ProductFactory(stock=5)
    reads = sample("headroom_db_queries_total", alias="default", kind="read")
    writes = sample("headroom_db_queries_total", alias="default", kind="write")

    response = user_client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 1}]}, format="json")

    assert response.status_code == 201
    assert sample("headroom_db_queries_total", alias="default", kind="read") > reads
    assert sample("headroom_db_queries_total", alias="default", kind="write") > writes
    assert sample("headroom_db_query_seconds_total", alias="default", kind="write") > 0


@committed
def test_response_cache_hits_misses_and_bypasses_are_counted_by_endpoint(api_client):
    product = ProductFactory()
    url = f"/api/v1/products/{product.pk}/"

    def count(result: str) -> float:
        return sample("headroom_response_cache_requests_total", endpoint="v1:product-detail", result=result)

    before = {result: count(result) for result in ("hit", "miss", "bypass")}
    api_client.get(url)
    api_client.get(url)
    api_client.cookies["sessionid"] = "anonymous"  # credentials: never from the shared cache
    api_client.get(url)

    assert {result: count(result) - before[result] for result in before} == {"hit": 1, "miss": 1, "bypass": 1}
    # A hit is answered before URL resolution, and still counted under its route.
    assert sample("headroom_http_requests_total", route="v1:product-detail", method="GET", status="200") >= 3


@committed
def test_query_cache_reads_are_counted_by_model():
    from apps.products.models import Product

    ProductFactory()
    hits = sample("headroom_query_cache_reads_total", model="products.Product", result="hit")
    misses = sample("headroom_query_cache_reads_total", model="products.Product", result="miss")

    list(Product.objects.cache().filter(is_active=True))
    list(Product.objects.cache().filter(is_active=True))

    assert sample("headroom_query_cache_reads_total", model="products.Product", result="miss") == misses + 1
    assert sample("headroom_query_cache_reads_total", model="products.Product", result="hit") == hits + 1


def test_a_breaker_trip_is_counted_and_its_state_shown(monkeypatch):
    # This process's outage probe would find Redis up and close the breaker between two reads.
    monkeypatch.setattr(redis_guard.probe, "paused", True)
    time.sleep(redis_guard.probe.interval_seconds)  # a PING already under way finishes
    trips = sample("headroom_redis_breaker_trips_total")
    try:
        breaker.record_failure(ConnectionError("test"))
        breaker.record_failure(ConnectionError("again, the same outage"))
        assert sample("headroom_redis_breaker_trips_total") == trips + 1
        assert sample("headroom_redis_breaker_open") == 1
        assert breaker.record_success()
        assert sample("headroom_redis_breaker_open") == 0
    finally:
        breaker.reset()


@committed
def test_jobs_are_counted_by_actor_and_queue_from_enqueue_to_failure(stub_broker, stub_worker):
    import dramatiq

    labels = {"actor": "metrics_test_job", "queue": "default"}

    @dramatiq.actor(actor_name="metrics_test_job", max_retries=0, broker=stub_broker)
    def metrics_test_job(fail: bool) -> None:
        if fail:
            raise ValueError("this job fails")

    before = {
        name: sample(f"headroom_jobs_{name}_total", **labels)
        for name in ("enqueued", "processed", "failed", "dead_lettered")
    }
    metrics_test_job.send(fail=False)
    metrics_test_job.send(fail=True)
    stub_broker.join("default", fail_fast=False)
    stub_worker.join()

    after = {name: sample(f"headroom_jobs_{name}_total", **labels) - before[name] for name in before}
    assert after == {"enqueued": 2, "processed": 2, "failed": 1, "dead_lettered": 1}
    assert sample("headroom_job_duration_seconds_count", **labels) >= 2


@committed
def test_the_scrape_reads_queue_depth_outbox_and_job_log(client, metrics_token):
    import dramatiq

    dramatiq.get_broker().flush_all()
    send_on_commit("send_welcome_email", user_id=0)
    OutboxMessage.objects.create(message_id="9c8a1b38-0b5e-4b53-9c52-1f5dfc0b9a11", actor_name="x", queue_name="x")

    exposed = scrape(client)

    assert exposed["headroom_queue_depth"][(("queue", "default"),)] >= 1
    assert exposed["headroom_queue_oldest_message_age_seconds"][(("queue", "default"),)] >= 0
    assert exposed["headroom_outbox_messages"][()] == 1
    assert exposed["headroom_job_log_rows"][(("status", "enqueued"),)] >= 1
    assert set(exposed["headroom_metrics_collector_errors"].values()) == {0}


@pytest.mark.django_db
def test_a_failing_part_of_the_scrape_is_logged_and_left_out(client, metrics_token, monkeypatch, caplog):
    def broken() -> None:
        raise RuntimeError("the outbox cannot be counted")

    monkeypatch.setattr(metrics.SharedStateCollector, "_outbox", staticmethod(broken))

    with caplog.at_level(logging.WARNING, logger="project.ops.metrics"):
        exposed = scrape(client)

    assert "headroom_outbox_messages" not in exposed
    assert exposed["headroom_metrics_collector_errors"][(("part", "outbox"),)] == 1
    assert "headroom_queue_depth" in exposed
    assert "collecting outbox failed" in caplog.text


@pytest.mark.django_db
def test_a_metric_that_fails_never_breaks_the_request(client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the metrics are broken")

    monkeypatch.setattr(metrics, "_child", broken)

    with caplog.at_level(logging.ERROR, logger="project.ops.metrics"):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert "could not record a request" in caplog.text


# --- a job worker's port ---------------------------------------------------------------------------


def worker_get(path: str, *, authorization: str = "", address: str = "127.0.0.1") -> tuple[str, bytes]:
    answered: list[str] = []
    environ = {"PATH_INFO": path, "HTTP_AUTHORIZATION": authorization, "REMOTE_ADDR": address}
    body = b"".join(metrics.worker_metrics_app(environ, lambda status, headers: answered.append(status)))
    return answered[0], body


@pytest.mark.django_db
def test_a_workers_port_answers_the_token_like_metrics(metrics_token):
    status, body = worker_get("/metrics", authorization=f"Bearer {metrics_token}")

    assert status == "200 OK"
    assert b"headroom_queue_depth" in body
    assert worker_get("/metrics")[0] == "403 Forbidden"
    assert worker_get("/other", authorization=f"Bearer {metrics_token}")[0] == "404 Not Found"


def test_a_worker_opens_no_port_when_nobody_may_read_it(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []

    assert metrics.JobMetrics().forks == []
