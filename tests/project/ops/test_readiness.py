"""`/readyz` names each dependency it checked, and answers 503 fast when one is down or frozen."""

import socket
import time

import pytest
from django.test import override_settings

from project.ops import readiness

pytestmark = pytest.mark.django_db(transaction=True)

# Nothing listens here: a connection is refused at once.
DEAD_REDIS_URL = "redis://127.0.0.1:6399/0"


@pytest.fixture
def frozen_redis_url():
    """A socket that accepts connections (the kernel's backlog) and never answers a command."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_readyz_is_200_when_the_database_redis_and_the_broker_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": {"database:default": "ok", "redis": "ok", "broker": "ok"},
    }
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_503_naming_redis_when_redis_is_down(client):
    with override_settings(REDIS_URL=DEAD_REDIS_URL):
        response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["redis"]
    assert body["checks"]["redis"] == "ConnectionError"


def test_a_check_left_out_of_readiness_required_reports_degraded_with_a_200(client, settings):
    settings.READINESS_REQUIRED = ["database:default", "replicas"]
    with override_settings(REDIS_URL=DEAD_REDIS_URL):
        response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["failed"] == []
    assert body["degraded"] == ["redis"]
    assert body["checks"]["redis"] == "ConnectionError"


def test_replicas_in_readiness_required_stands_for_every_replica_alias(settings):
    settings.READINESS_REQUIRED = ["replicas"]

    assert readiness.gates_readiness("database:replica_2")
    assert not readiness.gates_readiness("redis")


def test_readyz_answers_503_within_the_deadline_when_redis_is_frozen(client, frozen_redis_url):
    started = time.monotonic()
    with override_settings(REDIS_URL=frozen_redis_url):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]
    # The margin is the request around the checks, on a busy machine.
    assert time.monotonic() - started < readiness.CHECK_DEADLINE_SECONDS + 1.5


def test_a_check_that_outlives_the_deadline_is_reported_as_a_timeout(monkeypatch):
    monkeypatch.setattr(readiness, "CHECK_DEADLINE_SECONDS", 0.2)

    results = readiness.run_checks({"stuck": lambda: time.sleep(2), "fine": lambda: None})

    assert results == {"stuck": "timeout", "fine": "ok"}


def test_each_replica_alias_is_checked(settings):
    settings.DATABASE_REPLICAS = ["replica_1", "replica_2"]

    assert list(readiness.readiness_checks()) == [
        "database:default",
        "database:replica_1",
        "database:replica_2",
        "redis",
        "broker",
    ]


def test_healthz_stays_200_when_redis_is_down(client):
    with override_settings(REDIS_URL=DEAD_REDIS_URL):
        response = client.get("/healthz")

    assert response.status_code == 200
