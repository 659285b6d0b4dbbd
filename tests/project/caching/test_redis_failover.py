"""The Redis master lost under load (marker redis_failover, a step of .ci/run): a gunicorn and a job
worker on ./scripts/redis-ha's master, replica and sentinels, the master SIGKILLed mid-load.

Before the kill the replica is given back the cache entries a write just invalidated on the master
(what it holds when that invalidation had not reached it yet), so the promoted replica starts
stale. The kit must keep serving, show no stale entry afterwards, and every password reset it
acknowledged must be emailed exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import redis
from django.conf import settings
from redis.sentinel import MasterNotFoundError, Sentinel

from apps.core import services as core_services
from apps.products import services as product_services
from tests.factories import ProductFactory, UserFactory
from tests.load import Call, SteadyLoad
from tests.mailfiles import mail_files_to
from tests.servers import Server, running_server
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.redis_failover, pytest.mark.django_db(transaction=True)]

PRODUCTS_URL = "/api/v1/products/"
PASSWORD_RESET_URL = "/api/v1/auth/password-reset/"
RESETS = 40
LOAD_BEFORE_KILL_SECONDS = 3.0
LOAD_AFTER_PROMOTION_SECONDS = 4.0
# The server's own limits would refuse a load that comes from one address.
UNTHROTTLED = {"AUTH_THROTTLE_RATE": "100000/min", "MAIL_TO_ADDRESS_RATE": "100000/h"}


def _sentinel() -> Sentinel:
    return Sentinel(settings.REDIS_SENTINEL["sentinels"], socket_timeout=0.5)


def _node(address: tuple[str, int]) -> redis.Redis:
    return redis.Redis(host=address[0], port=address[1], db=0, socket_timeout=2)


@dataclass
class Resets:
    """Password resets sent one after another through the drill; the addresses answered 202."""

    server: Server
    addresses: list[str]
    acknowledged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        for address in self.addresses:
            if stop.wait(0.15):
                return
            try:
                status = self.server.request("POST", PASSWORD_RESET_URL, body={"email": address}).status_code
            except OSError as error:
                status = repr(error)
            (self.acknowledged if status == 202 else self.failed).append(address)


def _product_name(server: Server, url: str) -> Callable[[], str]:
    def read() -> str:
        body = server.get(url).json()
        return body["name"] if "name" in body else body["results"][0]["name"]

    return read


@pytest.fixture(scope="module")
def sentinel_configured() -> None:
    if not settings.REDIS_SENTINEL:
        pytest.skip('needs Redis Sentinel: ./scripts/redis-ha start && eval "$(./scripts/redis-ha env)"')


def test_losing_the_redis_master_under_load_fails_no_request_serves_nothing_stale_and_loses_no_job(
    sentinel_configured, pytestconfig
):
    run = uuid.uuid4().hex[:8]
    product = ProductFactory(name=f"Old name {run}", stock=1000)
    users = [UserFactory(email=f"redis-failover-{run}-{number}@example.com") for number in range(RESETS)]
    detail_url = f"{PRODUCTS_URL}{product.pk}/"
    list_url = f"{PRODUCTS_URL}?search={run}"
    sentinel = _sentinel()
    master_address = sentinel.discover_master(settings.REDIS_SENTINEL_MASTER)
    (replica_address,) = sentinel.discover_slaves(settings.REDIS_SENTINEL_MASTER)
    master, replica = _node(master_address), _node(replica_address)

    with running_worker(env=UNTHROTTLED), running_server(workers=2, env=UNTHROTTLED) as server:
        read_detail, read_list = _product_name(server, detail_url), _product_name(server, list_url)
        assert read_detail() == read_list() == product.name  # cached now, on the master and the replica
        load = SteadyLoad(
            port=server.port,
            calls=[Call("GET", detail_url, 200), Call("GET", list_url, 200), Call("GET", PRODUCTS_URL, 200)],
            clients=4,
        )
        resets, stop_resets = Resets(server=server, addresses=[user.email for user in users]), threading.Event()
        resetting = threading.Thread(target=resets.run, args=(stop_resets,), daemon=True)
        with load:
            resetting.start()
            time.sleep(LOAD_BEFORE_KILL_SECONDS)
            cached_before = _snapshot(master)
            product_services.product_update(product=product, name=f"New name {run}")  # invalidates on the master
            # The master takes no write from now on, and the replica gets back what was just invalidated.
            master.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
            _restore(replica, cached_before)
            killed_at = time.monotonic()
            os.kill(master.info("server")["process_id"], signal.SIGKILL)
            wait_until(lambda: _master_now(sentinel) == replica_address, timeout=30, interval=0.05)
            wait_until(lambda: replica.role()[0] == b"master", timeout=10, interval=0.05)
            promoted_at = time.monotonic()
            time.sleep(LOAD_AFTER_PROMOTION_SECONDS)
            names_after = {read_detail(), read_list()}
            stop_resets.set()
            resetting.join(timeout=30)
        tally = load.tally
        kept_in_outbox = core_services.outbox_relay()  # what the scheduler's next minute would send
        wait_until(lambda: all(mail_files_to(address) for address in resets.acknowledged), timeout=60)
        time.sleep(1)  # a second email, if any, would be written by now
        emails = {address: len(mail_files_to(address)) for address in resets.acknowledged}

    write = pytestconfig.pluginmanager.get_plugin("terminalreporter").write_line
    with pytestconfig.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        write("")
        write("==== Redis failover drill: figures ====")
        write(f"master SIGKILLed; the sentinels promoted the replica {promoted_at - killed_at:.1f} s later")
        write(
            f"reads: {len(tally.answered)} answered, {len(tally.failures)} failed"
            f" ({tally.answered_after(killed_at) - tally.answered_after(promoted_at)} answered during the switch)"
        )
        write(
            f"password resets: {len(resets.acknowledged)} answered 202, {len(resets.failed)} failed;"
            f" {kept_in_outbox} kept in the outbox and relayed; emails: {sum(emails.values())}"
        )
        write(f"product name after the failover: {sorted(names_after)}")
    assert tally.failures == []
    assert resets.failed == []
    assert names_after == {f"New name {run}"}
    assert emails == dict.fromkeys(resets.acknowledged, 1)


def _master_now(sentinel: Sentinel) -> tuple[str, int] | None:
    try:
        return sentinel.discover_master(settings.REDIS_SENTINEL_MASTER)
    except MasterNotFoundError:  # the sentinels agree the master is down, and have not promoted yet
        return None


def _snapshot(node: redis.Redis) -> list[tuple[bytes, int, bytes]]:
    """Every cache entry of this run on ``node`` (key, ttl in ms, DUMP payload)."""
    entries = []
    for key in node.scan_iter(match=f"{settings.CACHE_KEY_PREFIX}*", count=1000):
        payload, ttl = node.dump(key), node.pttl(key)
        if payload is not None:
            entries.append((key, max(ttl, 0), payload))
    return entries


def _restore(node: redis.Redis, entries: list[tuple[bytes, int, bytes]]) -> None:
    node.config_set("replica-read-only", "no")
    pipe = node.pipeline(transaction=False)
    for key, ttl, payload in entries:
        pipe.restore(key, ttl, payload, replace=True)
    pipe.execute()
    assert entries, "nothing was cached before the failover"
