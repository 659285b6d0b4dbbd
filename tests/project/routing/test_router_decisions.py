"""Where the router sends reads and writes. No replica server needed: health is set by hand."""

import threading
import time

import pytest
from django.db import transaction
from django.test import RequestFactory, override_settings

from apps.products.models import Product
from project.routing import routers
from project.routing.read_your_writes import ReadYourWritesMiddleware

REPLICA = "replica_1"


@pytest.fixture
def router():
    return routers.ReplicaRouter()


@pytest.fixture
def healthy_replica():
    """One replica, freshly checked, replayed up to LSN 1000, no lag."""
    saved = dict(routers.pool._health)
    routers.pool._all_out = False
    with override_settings(DATABASE_REPLICAS=[REPLICA]):
        health = routers.pool.health(REPLICA)
        health.replay_lsn, health.lag_seconds, health.lag_bytes = 1000, 0.0, 0
        health.checked_at, health.down_until = time.monotonic() + 3600, float("-inf")
        yield health
    routers.pool._health.clear()
    routers.pool._health.update(saved)


@override_settings(DATABASE_REPLICAS=[])
def test_without_replicas_reads_use_the_primary(router):
    assert router.db_for_read(Product) == "default"


def test_reads_use_a_healthy_replica(router, healthy_replica):
    assert router.db_for_read(Product) == REPLICA


def test_writes_always_use_the_primary(router, healthy_replica):
    assert router.db_for_write(Product) == "default"


def test_migrations_run_on_the_primary_only(router, healthy_replica):
    assert router.allow_migrate("default", "products")
    assert not router.allow_migrate(REPLICA, "products")


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_use_the_primary(router, healthy_replica):
    with transaction.atomic():
        assert router.db_for_read(Product) == "default"
    assert router.db_for_read(Product) == REPLICA


def test_use_primary_as_a_context_manager_pins_reads(router, healthy_replica):
    with routers.use_primary():
        assert router.db_for_read(Product) == "default"
    assert router.db_for_read(Product) == REPLICA


def test_use_primary_as_a_decorator_pins_reads(router, healthy_replica):
    @routers.use_primary()
    def read():
        return router.db_for_read(Product)

    assert read() == "default"
    assert router.db_for_read(Product) == REPLICA


def test_pinning_is_undone_when_the_block_raises(router, healthy_replica):
    with pytest.raises(ValueError), routers.use_primary():
        raise ValueError
    assert router.db_for_read(Product) == REPLICA


def test_a_replica_behind_the_clients_last_write_is_not_used(router, healthy_replica):
    healthy_replica.checked_at = time.monotonic()  # fresh: no recheck
    with routers.routing(min_lsn=2000):
        assert router.db_for_read(Product) == "default"


def test_a_replica_that_replayed_the_clients_last_write_is_used(router, healthy_replica):
    with routers.routing(min_lsn=1000):
        assert router.db_for_read(Product) == REPLICA


def test_a_replica_lagging_too_many_seconds_leaves_rotation(router, healthy_replica, settings):
    healthy_replica.lag_seconds = settings.REPLICA_MAX_LAG_SECONDS + 1
    assert router.db_for_read(Product) == "default"


def test_a_replica_lagging_too_many_bytes_leaves_rotation(router, healthy_replica, settings):
    healthy_replica.lag_bytes = settings.REPLICA_MAX_LAG_BYTES + 1
    assert router.db_for_read(Product) == "default"


def test_a_replica_marked_down_leaves_rotation_and_logs_it(router, healthy_replica, caplog):
    routers.pool.mark_down(REPLICA, "connection refused")
    assert router.db_for_read(Product) == "default"
    assert "out of rotation" in caplog.text


def test_a_replica_comes_back_after_the_retry_period(router, healthy_replica):
    routers.pool.mark_down(REPLICA, "connection refused")
    healthy_replica.down_until = time.monotonic() - 1
    assert router.db_for_read(Product) == REPLICA


def test_routing_state_does_not_leak_between_threads(router, healthy_replica):
    seen = {}
    pinned = threading.Event()
    release = threading.Event()

    def pinned_thread():
        with routers.use_primary():
            pinned.set()
            release.wait(5)

    thread = threading.Thread(target=pinned_thread)
    thread.start()
    pinned.wait(5)
    seen["other thread"] = router.db_for_read(Product)
    release.set()
    thread.join()
    assert seen["other thread"] == REPLICA


def _middleware_decision(method: str) -> str:
    decisions = []

    def view(request):
        decisions.append(routers.ReplicaRouter().db_for_read(Product))
        from django.http import HttpResponse

        return HttpResponse(status=400)  # a failed write remembers no WAL position

    request = getattr(RequestFactory(), method.lower())("/api/v1/orders/")
    ReadYourWritesMiddleware(view)(request)
    return decisions[0]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_requests_with_unsafe_methods_read_the_primary_throughout(healthy_replica, method):
    assert _middleware_decision(method) == "default"


def test_a_get_request_of_a_client_with_no_recent_write_reads_a_replica(healthy_replica):
    assert _middleware_decision("GET") == REPLICA


def test_routing_state_is_reset_after_a_request(router, healthy_replica):
    _middleware_decision("POST")
    assert routers.current_state().pinned_to_primary is False
    assert router.db_for_read(Product) == REPLICA


def test_wal_positions_parse_in_order():
    assert routers.parse_lsn("0/3000148") < routers.parse_lsn("0/3000150") < routers.parse_lsn("1/0")


def test_a_job_reads_only_from_replicas_that_replayed_its_enqueue(router, healthy_replica):
    import dramatiq

    from project.jobs.broker import ReadYourWritesForJobs

    middleware = ReadYourWritesForJobs()
    message = dramatiq.Message(queue_name="default", actor_name="a", args=(), kwargs={}, options={"min_lsn": 2000})
    healthy_replica.checked_at = time.monotonic()

    middleware.before_process_message(None, message)
    during = router.db_for_read(Product)
    middleware.after_process_message(None, message)

    assert during == "default"
    assert router.db_for_read(Product) == REPLICA


def test_with_every_replica_out_a_log_line_says_so_once(router, healthy_replica, caplog):
    routers.pool.mark_down(REPLICA, "connection refused")
    caplog.clear()

    for _ in range(3):
        assert router.db_for_read(Product) == "default"

    assert caplog.text.count("no healthy replica: reading from the primary") == 1
