"""Fixtures for every test: clients, users, Redis, job brokers and workers, empty caches and the
N+1 guard for each test. Helpers to import: tests/queries.py (query budgets and cache hits),
tests/<app>/factories.py, tests/redis_keys.py, tests/workers.py, tests/servers.py."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from zeal import zeal_context

from project.caching.redis_sentinel import redis_client
from tests.redis_keys import forget_everything_cached
from tests.users.factories import StaffFactory, TokenFactory, UserFactory


@pytest.fixture(scope="session")
def _cache_redis():
    client = redis_client(settings.REDIS_URL)
    yield client
    forget_everything_cached(client)  # this run's keys; other runs' stay
    client.close()


@pytest.fixture
def redis_db() -> redis.Redis:
    """A plain client on the test Redis db, to look at what the caches wrote (not through the breaker)."""
    client = redis_client(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _empty_caches(_cache_redis):
    """Each test starts with empty caches (throttle counters, sessions, cached queries and responses)."""
    forget_everything_cached(_cache_redis)


@pytest.fixture(autouse=True)
def _n_plus_one_guard():
    """Every test runs under the N+1 guard (django-zeal, on in project/test_settings.py): a related
    object or .get() loaded again and again from one line raises zeal.NPlusOneError."""
    with zeal_context():
        yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


@pytest.fixture
def staff_client(staff) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=staff).key}")
    return client


@pytest.fixture
def postgres(db):
    """Skips, with the reason shown, unless the tests run on PostgreSQL (DATABASE_URL=postgres://...)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")


@pytest.fixture
def stub_broker():
    """Every actor on a dramatiq StubBroker, with the middleware of settings, for unit tests of
    retries and dead letters; the real broker is back after the test."""
    import dramatiq
    from django.conf import settings
    from django_dramatiq.utils import load_middleware
    from dramatiq.brokers.stub import StubBroker

    real = dramatiq.get_broker()  # every actor is declared on it at start (project/apps.py)
    middleware = [
        load_middleware(path)
        for path in settings.DRAMATIQ_BROKER["MIDDLEWARE"]
        if path != "project.jobs.broker.RelayOutboxAtWorkerBoot"
    ]
    stub = StubBroker(middleware=middleware)
    stub.emit_after("process_boot")
    for actor in real.actors.values():
        actor.broker = stub
        stub.declare_actor(actor)
    dramatiq.set_broker(stub)
    yield stub
    for actor in real.actors.values():
        actor.broker = real
    dramatiq.set_broker(real)
    stub.close()


@pytest.fixture
def stub_worker(stub_broker):
    import dramatiq

    worker = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=1)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def _module_job_worker(django_db_setup, django_db_blocker):
    import dramatiq

    from tests.workers import running_worker

    dramatiq.get_broker().flush_all()
    with running_worker() as worker:
        yield worker


@pytest.fixture
def job_worker(transactional_db, _module_job_worker):
    """One real worker process (`manage.py rundramatiq`) shared by a module's tests: it starts
    in about 2 s. Queues are emptied first, so it runs only what the module's tests send.

    Each test ends only once the worker has finished every job the test sent, before the
    database is emptied: a job still running would write its rows (an IdempotencyKey, a Task)
    into the next test's database (seen in CI: an order confirmation the test never waited for).
    """
    from django_dramatiq.models import Task

    from tests.workers import wait_until

    yield _module_job_worker
    in_flight = (Task.STATUS_ENQUEUED, Task.STATUS_RUNNING)
    wait_until(lambda: not Task.tasks.filter(status__in=in_flight).exists(), timeout=60)


@pytest.fixture(autouse=True, scope="session")
def _drop_this_runs_job_queues():
    """The Redis broker's keys of this run (its own namespace, see project/test_settings.py) are
    deleted at the end, so queued jobs that no worker ran do not pile up across runs."""
    yield
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = dramatiq.get_broker()
    if isinstance(broker, RedisBroker):
        for key in broker.client.scan_iter(match=f"{broker.namespace}:*", count=1000):
            broker.client.delete(key)
