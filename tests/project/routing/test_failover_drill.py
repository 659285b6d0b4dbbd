"""The primary failover drill (.ci/run; the figures are in docs/reliability.md).

A gunicorn app server and a job worker run on ./scripts/pg-pair with multi-host URLs. Clients
place orders (each sends a confirmation email from the worker) and read their orders. First,
the order latency with synchronous replication off and on, in alternating rounds. Then, with it
on, ./scripts/pg-failover --kill-primary stops the primary as a crash would and promotes the
replica, under that load. The drill measures how long writes fail, what reads do meanwhile,
and whether every order answered with a 201 exists on the new primary and got its email.

It leaves the pair with one primary:

    ./scripts/pg-pair start && eval "$(./scripts/pg-pair env --multi-host)"
    ./scripts/test -m failover tests/project/routing/test_failover_drill.py
    ./scripts/pg-pair rebuild
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.orders.models import Order
from tests.factories import ProductFactory, TokenFactory, UserFactory
from tests.mailfiles import mail_files_to
from tests.servers import Reply, Server, running_server
from tests.workers import postgres_url, running_worker

pytestmark = [pytest.mark.failover, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
WRITERS = 2
ORDERS_PER_LATENCY_ROUND = 20
COMMITS_PER_LATENCY_ROUND = 100
LATENCY_ROUNDS = 3
LOAD_BEFORE_KILL_SECONDS = 3.0
LOAD_AFTER_PROMOTION_SECONDS = 8.0
READER_IP = "127.0.0.3"  # a client that never writes: its reads may use the replica throughout
# The longest a failed confirmation email waits for its retry (apps/core/jobs.py: 15 s backoff, doubling).
EMAIL_WAIT_SECONDS = 75


@dataclass(frozen=True)
class Call:
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    body: dict = field(default_factory=dict)
    reads: str = ""  # X-DB-Reads: the aliases a read used

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def _call(send: Callable[[], Reply]) -> Call:
    started = time.monotonic()
    try:
        reply = send()
    except OSError:
        return Call(started, time.monotonic(), None)
    body = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
    return Call(started, time.monotonic(), reply.status_code, body, reply.headers.get("x-db-reads", ""))


def _pair(*args: str) -> str:
    result = subprocess.run(
        [str(BASE_DIR / "scripts" / args[0]), *args[1:]], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


class Load:
    """Writers placing orders and a reader listing its orders, each in a loop of its own, until stopped."""

    def __init__(self, server: Server, *, product_id: int, writers: list[dict], reader: dict) -> None:
        self.server, self.product_id = server, product_id
        self.writes: list[Call] = []
        self.reads: list[Call] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._write_loop, args=(headers,)) for headers in writers]
        self._threads.append(threading.Thread(target=self._read_loop, args=(reader,)))

    def place_order(self, headers: dict) -> Call:
        body = {"items": [{"product": self.product_id, "quantity": 1}]}
        return _call(lambda: self.server.request("POST", "/api/v1/orders/", body=body, headers=headers))

    def _write_loop(self, headers: dict) -> None:
        while not self._stop.is_set():
            self.writes.append(self.place_order(headers))

    def _read_loop(self, headers: dict) -> None:
        while not self._stop.is_set():
            self.reads.append(_call(lambda: self.server.get("/api/v1/orders/", headers=headers, source_ip=READER_IP)))
            time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


@dataclass
class DrillResult:
    order_latency: dict[str, list[float]]  # by synchronous replication "off"/"on"
    commit_latency: dict[str, list[float]]
    killed_at: float
    promoted_at: float
    writes: list[Call]
    reads: list[Call]
    acknowledged: list[int]
    found: int
    committed_unacknowledged: int
    emailed: set[int]
    emails_done_after: float | None  # seconds after the promotion; None: some never came
    failover_log: str

    def write_outage(self) -> tuple[float, float]:
        """(when the first write failed, when the first write after the last failure got its 201)."""
        failed = [call for call in self.writes if call.status != 201]
        last_failure = max(call.ended for call in failed)
        recovered = min(call.ended for call in self.writes if call.status == 201 and call.started >= last_failure)
        return min(call.started for call in failed), recovered


def _multi_host_pair() -> None:
    db = connection.settings_dict
    if (
        connection.vendor != "postgresql"
        or "," not in db["HOST"]
        or db["OPTIONS"].get("target_session_attrs") != "read-write"
        or "replica_1" not in settings.DATABASES
    ):
        pytest.skip(
            "needs the pair with multi-host URLs: ./scripts/pg-pair start && "
            'eval "$(./scripts/pg-pair env --multi-host)"'
        )


@pytest.fixture(scope="module")
def drill(django_db_setup, django_db_blocker, pytestconfig) -> DrillResult:
    _multi_host_pair()
    run = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock():
        product_id = ProductFactory(stock=1_000_000).pk
        writer_users = [UserFactory(email=f"failover-{run}-{number}@example.com") for number in range(WRITERS)]
        writers = [{"Authorization": f"Token {TokenFactory(user=user).key}"} for user in writer_users]
        reader = {"Authorization": f"Token {TokenFactory(user=UserFactory()).key}"}
    test_database = connection.settings_dict["NAME"]
    replica_url = postgres_url(settings.DATABASES["replica_1"], name=test_database)
    env = {
        "DATABASE_REPLICA_URLS": replica_url,
        "DATABASE_ROUTE_HEADER": "true",
        "DATABASE_CONNECT_TIMEOUT": "2",
        "REPLICA_CHECK_INTERVAL": "0.5",
        # The reads must reach a database for the drill to see where they go: with the caches on, the
        # reader's warm list runs no SQL and a fill reads the primary (docs/performance.md, "Signed-in reads").
        "CACHEOPS_ENABLED": "false",
        "RESPONSE_CACHE_ENABLED": "false",
    }
    with running_worker(env=env), running_server(workers=3, env=env) as server:
        load = Load(server, product_id=product_id, writers=writers, reader=reader)
        order_latency: dict[str, list[float]] = {"off": [], "on": []}
        commit_latency: dict[str, list[float]] = {"off": [], "on": []}
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("CREATE TABLE failover_commit_probe (id bigserial PRIMARY KEY)")
            for _ in range(LATENCY_ROUNDS):
                for mode in ("off", "on"):
                    _pair("pg-pair", "sync", mode)
                    for _ in range(ORDERS_PER_LATENCY_ROUND):
                        call = load.place_order(writers[0])
                        assert call.status == 201, call
                        order_latency[mode].append(call.seconds)
                    for _ in range(COMMITS_PER_LATENCY_ROUND):
                        started = time.monotonic()
                        cursor.execute("INSERT INTO failover_commit_probe DEFAULT VALUES")  # autocommit: one commit
                        commit_latency[mode].append(time.monotonic() - started)
        latency_orders = len(order_latency["off"]) + len(order_latency["on"])
        with load:
            time.sleep(LOAD_BEFORE_KILL_SECONDS)
            killed_at = time.monotonic()
            failover_log = _pair("pg-failover", "--kill-primary")
            promoted_at = time.monotonic()
            time.sleep(LOAD_AFTER_PROMOTION_SECONDS)
        acknowledged = [call.body["id"] for call in load.writes if call.status == 201]
        with django_db_blocker.unblock():
            connection.close()  # its server is gone: the next query connects to the new primary
            found = Order.objects.filter(id__in=acknowledged).count()
            expected_emails = set(Order.objects.filter(user__in=writer_users).values_list("id", flat=True))

        def emailed() -> set[int]:
            subjects = {
                line
                for user in writer_users
                for path in mail_files_to(user.email)
                for line in path.read_text(errors="replace").splitlines()
                if line.startswith("Subject: Your Headroom order ")
            }
            return {int(subject.rsplit(" ", 1)[1]) for subject in subjects}

        deadline = time.monotonic() + EMAIL_WAIT_SECONDS
        while not expected_emails <= emailed() and time.monotonic() < deadline:
            time.sleep(0.5)
        emails_done_after = time.monotonic() - promoted_at if expected_emails <= emailed() else None
    result = DrillResult(
        order_latency=order_latency,
        commit_latency=commit_latency,
        killed_at=killed_at,
        promoted_at=promoted_at,
        writes=load.writes,
        reads=load.reads,
        acknowledged=acknowledged,
        found=found,
        committed_unacknowledged=len(expected_emails) - latency_orders - len(acknowledged),
        emailed=emailed() & expected_emails,
        emails_done_after=emails_done_after,
        failover_log=failover_log,
    )
    # Printed even when the drill passes: .ci/run shows the figures.
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    with pytestconfig.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        _report(result, write=reporter.write_line)
    return result


def _report(result: DrillResult, *, write: Callable[[str], None]) -> None:
    write("")
    write("==== failover drill: figures ====")
    for name, latency in (("order POST (HTTP)", result.order_latency), ("one-row commit (SQL)", result.commit_latency)):
        for mode in ("off", "on"):
            values = latency[mode]
            write(
                f"{name}, synchronous replication {mode:>3}: p50 {1000 * statistics.median(values):.1f} ms,"
                f" p95 {1000 * _percentile(values, 0.95):.1f} ms ({len(values)})"
            )
    write(
        f"scripts/pg-failover --kill-primary (stop -m immediate, promote): {result.promoted_at - result.killed_at:.2f} s"
    )
    first_failure, recovered = result.write_outage()
    failed = [call for call in result.writes if call.status != 201]
    write(
        f"writes: {len(result.writes)}, {len(failed)} failed ({_statuses(failed)}); writes failed for"
        f" {recovered - first_failure:.2f} s (the first failure to the first 201 after the last one)"
    )
    failed_reads = [call for call in result.reads if call.status != 200]
    during = [call for call in result.reads if first_failure <= call.started and call.ended <= recovered]
    after = [call for call in result.reads if call.started > recovered]
    write(
        f"reads: {len(result.reads)}, {len(failed_reads)} failed ({_statuses(failed_reads)}); while writes failed:"
        f" {len(during)}, answered by {_aliases(during)}; after: {_aliases(after)}"
    )
    write(
        f"orders acknowledged with 201: {len(result.acknowledged)}, on the new primary: {result.found};"
        f" committed although the client got no 201: {result.committed_unacknowledged}"
    )
    done = "never" if result.emails_done_after is None else f"{result.emails_done_after:.1f} s after the promotion"
    write(f"confirmation emails: every order's sent {done} ({len(result.emailed)} orders)")


def _statuses(calls: list[Call]) -> str:
    counts: dict[str, int] = {}
    for call in calls:
        key = str(call.status or "no answer")
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{count} x {status}" for status, count in sorted(counts.items())) or "none"


def _aliases(calls: list[Call]) -> str:
    counts: dict[str, int] = {}
    for call in calls:
        if call.status == 200:
            counts[call.reads] = counts.get(call.reads, 0) + 1
    return ", ".join(f"{alias} {count}" for alias, count in sorted(counts.items())) or "none"


def test_writes_come_back_on_the_promoted_replica_without_a_restart(drill):
    _, recovered = drill.write_outage()
    assert recovered - drill.promoted_at < 5, drill.failover_log


def test_a_write_that_fails_during_the_failover_gets_a_503_never_a_500(drill):
    assert {call.status for call in drill.writes} <= {201, 503}


def test_every_order_acknowledged_with_201_exists_after_the_failover(drill):
    assert drill.found == len(drill.acknowledged)


def test_reads_never_fail_during_the_failover(drill):
    assert [call for call in drill.reads if call.status != 200] == []


def test_reads_move_from_the_replica_to_the_new_primary(drill):
    before = [call.reads for call in drill.reads if call.ended < drill.killed_at]
    after = [call.reads for call in drill.reads if call.started > drill.promoted_at + 2]
    assert "replica_1" in before
    assert after and set(after) == {"default"}


def test_every_order_gets_its_confirmation_email_after_the_failover(drill):
    assert drill.emails_done_after is not None
    assert set(drill.acknowledged) <= drill.emailed
