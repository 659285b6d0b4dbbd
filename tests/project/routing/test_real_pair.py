"""Routing on a real primary and streaming replica (./scripts/pg-pair start; .ci/run does it).

Runs when DATABASE_URL points at the pair's primary and DATABASE_REPLICA_URLS at its replica.
A gunicorn process serves the API with replicas on; the test talks to it over HTTP and to the
two servers directly (psycopg) to pause replay, stop the replica and check which is which.
"""

from __future__ import annotations

import glob
import os
import subprocess
import time
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.factories import DEFAULT_PASSWORD, ProductFactory, StaffFactory, TokenFactory, UserFactory
from tests.servers import running_server
from tests.workers import database_url_for_subprocesses

pytestmark = [pytest.mark.replica, pytest.mark.django_db(transaction=True)]

OTHER_CLIENT_IP = "127.0.0.2"  # a second client: its reads must not be pinned by the first one's writes


def _replica_settings() -> dict:
    # DATABASES, not DATABASE_REPLICAS: the test process itself routes nothing to replicas.
    replica = settings.DATABASES.get("replica_1")
    if replica is None or connection.vendor != "postgresql":
        pytest.skip(
            "needs the real pair: ./scripts/pg-pair start, and DATABASE_URL/DATABASE_REPLICA_URLS "
            "from ./scripts/pg-pair env"
        )
    return replica


def _connect(db: dict, *, dbname: str) -> psycopg.Connection:
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=dbname, autocommit=True, connect_timeout=2
    )


@pytest.fixture
def replica_db():
    return _replica_settings()


@pytest.fixture
def replica_sql(replica_db):
    replica = _connect(replica_db, dbname="postgres")
    yield replica
    replica.close()
    with _connect(replica_db, dbname="postgres") as fresh:  # the test may have closed or restarted it
        fresh.execute("SELECT pg_wal_replay_resume()")


def _replica_url(replica_db: dict) -> str:
    """The test database, on the replica: CREATE DATABASE on the primary was replayed there too."""
    return (
        f"postgres://{replica_db['USER']}@{replica_db['HOST']}:{replica_db['PORT']}/{connection.settings_dict['NAME']}"
    )


def _server_on_the_pair(replica_db, **env: str):
    return running_server(
        workers=1,
        env={
            "DATABASE_REPLICA_URLS": _replica_url(replica_db),
            "DATABASE_ROUTE_HEADER": "true",
            "REPLICA_CHECK_INTERVAL": "0.2",
            "REPLICA_RETRY_SECONDS": "30",
            **env,
        },
    )


@pytest.fixture
def server(replica_db):
    with _server_on_the_pair(replica_db) as server:
        yield server


@pytest.fixture
def uncached_server(replica_db):
    """Where the router sends a read, with nothing in front of it. With the caches on, a warm read
    runs no SQL and a fill reads the primary (docs/performance.md, "Signed-in reads"), so no read of
    these tests would reach the replica at all. (The response cache needs the query cache.)"""
    with _server_on_the_pair(replica_db, CACHEOPS_ENABLED="false", RESPONSE_CACHE_ENABLED="false") as server:
        yield server


def _primary_scalar(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _wait_for_replay(replica_sql) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    target = _primary_scalar("SELECT pg_current_wal_insert_lsn()::text")
    for _ in range(200):
        (caught_up,) = replica_sql.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()
        if caught_up:
            return
        time.sleep(0.02)
    raise AssertionError("replica did not catch up")


def _token_header(user) -> dict[str, str]:
    return {"Authorization": f"Token {TokenFactory(user=user).key}"}


def test_the_replica_alias_is_a_standby_and_the_primary_is_not(replica_db):
    with _connect(replica_db, dbname="postgres") as replica:
        assert replica.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
    assert _primary_scalar("SELECT pg_is_in_recovery()") is False


def test_reads_land_on_the_replica(uncached_server, replica_sql):
    server = uncached_server
    user = UserFactory()
    headers = _token_header(user)
    ProductFactory()
    _wait_for_replay(replica_sql)

    reply = server.get("/api/v1/orders/", headers=headers)

    assert reply.status_code == 200
    assert reply.headers["x-db-reads"] == "replica_1"


def test_writes_land_on_the_primary(server, replica_sql):
    product = ProductFactory(stock=5)
    headers = _token_header(UserFactory())
    _wait_for_replay(replica_sql)

    reply = server.request(
        "POST", "/api/v1/orders/", body={"items": [{"product": product.pk, "quantity": 1}]}, headers=headers
    )

    assert reply.status_code == 201, reply.body
    assert reply.headers["x-db-reads"] == "default"
    assert _primary_scalar(f"SELECT stock FROM products_product WHERE id = {product.pk}") == 4


def test_a_client_reads_its_own_write_while_replay_is_paused(server, replica_sql):
    product = ProductFactory(stock=5)
    _wait_for_replay(replica_sql)
    replica_sql.execute("SELECT pg_wal_replay_pause()")

    signup = server.request(
        "POST", "/api/v1/auth/signup/", body={"email": "lagging@example.com", "password": DEFAULT_PASSWORD, "name": "L"}
    )
    token = server.request(
        "POST", "/api/v1/auth/token/", body={"email": "lagging@example.com", "password": DEFAULT_PASSWORD}
    )
    headers = {"Authorization": f"Token {token.json()['token']}"}
    me = server.get("/api/v1/users/me/", headers=headers)
    order = server.request(
        "POST", "/api/v1/orders/", body={"items": [{"product": product.pk, "quantity": 2}]}, headers=headers
    )
    mine = server.get(f"/api/v1/orders/{order.json()['id']}/", headers=headers)

    assert (signup.status_code, token.status_code, me.status_code, order.status_code) == (201, 200, 200, 201)
    assert me.json()["email"] == "lagging@example.com"
    assert mine.status_code == 200 and mine.headers["x-db-reads"] == "default"


def test_another_client_keeps_reading_the_replica_while_replay_is_paused(uncached_server, replica_sql):
    server = uncached_server
    user = UserFactory()
    headers = _token_header(user)
    _wait_for_replay(replica_sql)
    replica_sql.execute("SELECT pg_wal_replay_pause()")
    server.request(
        "POST", "/api/v1/auth/signup/", body={"email": "writer@example.com", "password": DEFAULT_PASSWORD, "name": "W"}
    )

    reply = server.get("/api/v1/orders/", headers=headers, source_ip=OTHER_CLIENT_IP)

    assert reply.status_code == 200
    assert reply.headers["x-db-reads"] == "replica_1"


def test_no_stale_cache_entry_survives_replay_resuming(server, replica_sql):
    staff_headers = _token_header(StaffFactory())
    reader_headers = _token_header(UserFactory())
    product = ProductFactory(price=Decimal("10.00"))
    _wait_for_replay(replica_sql)
    detail, listing = f"/api/v1/products/{product.pk}/", "/api/v1/products/"
    server.get(detail)  # fills the response cache
    server.get(listing, headers=reader_headers)  # fills the query cache
    replica_sql.execute("SELECT pg_wal_replay_pause()")

    changed = server.request("PATCH", detail, body={"price": "12.00"}, headers=staff_headers)
    assert changed.status_code == 200
    prices_while_paused = {
        server.get(detail, source_ip=OTHER_CLIENT_IP).json()["price"],
        server.get(listing, headers=reader_headers, source_ip=OTHER_CLIENT_IP).json()["results"][0]["price"],
    }
    replica_sql.execute("SELECT pg_wal_replay_resume()")
    _wait_for_replay(replica_sql)
    prices_after = {
        server.get(detail, source_ip=OTHER_CLIENT_IP).json()["price"],
        server.get(listing, headers=reader_headers, source_ip=OTHER_CLIENT_IP).json()["results"][0]["price"],
    }

    assert prices_while_paused == {"12.00"}
    assert prices_after == {"12.00"}


def test_stopping_the_replica_mid_run_fails_no_request_and_fails_over_within_a_second(
    uncached_server, replica_sql, replica_db
):
    server = uncached_server
    headers = _token_header(UserFactory())
    _wait_for_replay(replica_sql)
    assert server.get("/api/v1/orders/", headers=headers).headers["x-db-reads"] == "replica_1"
    data_dir = replica_sql.execute("SHOW data_directory").fetchone()[0]
    replica_sql.close()

    subprocess.run(
        _as_postgres([_pg_ctl(), "-D", data_dir, "-m", "immediate", "stop"]), check=True, capture_output=True
    )
    stopped_at = time.monotonic()
    try:
        replies = []
        for _ in range(20):
            replies.append((server.get("/api/v1/orders/", headers=headers), time.monotonic() - stopped_at))
    finally:
        subprocess.run(
            _as_postgres([_pg_ctl(), "-D", data_dir, "-l", f"{data_dir}/../replica.log", "-w", "start"]),
            check=True,
            capture_output=True,
        )

    assert [reply.status_code for reply, _ in replies] == [200] * 20
    first_on_primary = next(elapsed for reply, elapsed in replies if reply.headers["x-db-reads"] == "default")
    assert first_on_primary < 1.0
    assert all(reply.headers["x-db-reads"] == "default" for reply, _ in replies)


def test_migrations_run_on_the_primary_only(replica_db):
    result = subprocess.run(
        [".venv/bin/python", "manage.py", "migrate", "--no-input"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url_for_subprocesses(),
            "DATABASE_REPLICA_URLS": _replica_url(replica_db),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Had migrate touched the standby, it would have failed: a standby refuses every write.
    assert result.returncode == 0, result.stderr


def _pg_ctl() -> str:
    return sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command
