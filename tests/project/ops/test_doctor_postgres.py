"""The doctor on a real PostgreSQL: read-heavy traffic recommends a read replica and write-heavy does
not; a filter on an unindexed column of a 200k-row table names the table (and the statement, with
pg_stat_statements); with the replica pair, each replica's lag, and the step taken.

Each test works on a table of its own and compares two readings of the statistics taken around its
workload (the doctor's own snapshot), so other tests' traffic is not in its window.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

from project.ops.doctor.findings import Severity
from project.ops.doctor.verdict import diagnose
from tests.project.ops.doctor_helpers import finding, findings_starting, flush_own_statistics

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The read-share verdicts of one PostgreSQL; with replicas configured (the pair's step) the step is taken.
one_postgresql = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_REPLICA_URLS")), reason="one PostgreSQL only: replicas are configured here"
)

PROBE_ROWS = 200_000


def _execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _pg_stat_statements_usable() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_preload_libraries")
        return "pg_stat_statements" in cursor.fetchone()[0]


@pytest.fixture
def probe_table(postgres):
    """A table no other test touches: id, an unindexed customer_ref, an amount."""
    _execute("CREATE TABLE doctor_probe (id bigserial PRIMARY KEY, customer_ref text NOT NULL, amount int NOT NULL)")
    yield "doctor_probe"
    _execute("DROP TABLE IF EXISTS doctor_probe")


def _window_start() -> None:
    """The doctor's first run keeps the snapshot the next run's window starts from."""
    flush_own_statistics()
    diagnose()


def _verdict_after_workload():
    flush_own_statistics()
    return diagnose()


@one_postgresql
def test_read_heavy_traffic_on_one_postgresql_recommends_a_read_replica(probe_table):
    _execute("INSERT INTO doctor_probe (customer_ref, amount) SELECT 'c' || n, n FROM generate_series(1, 1000) n")
    _window_start()

    with connection.cursor() as cursor:
        for n in range(1, 3001):
            cursor.execute("SELECT amount FROM doctor_probe WHERE id = %s", [n % 1000 + 1])
    verdict = _verdict_after_workload()

    read_share = finding(verdict, "postgres.read_share")
    assert read_share.severity is Severity.AMBER
    assert read_share.message.startswith("reads are ")
    assert int(read_share.message.split()[2].rstrip("%")) >= 70
    assert read_share.next_step == "add a read replica: set DATABASE_REPLICA_URLS"
    assert read_share.doc == "docs/replicas.md"


@one_postgresql
def test_write_heavy_traffic_does_not_recommend_a_read_replica(probe_table):
    _window_start()

    with connection.cursor() as cursor:
        for n in range(1200):
            cursor.execute(
                "INSERT INTO doctor_probe (customer_ref, amount) SELECT %s, g FROM generate_series(1, 20) g", [f"w{n}"]
            )
    verdict = _verdict_after_workload()

    read_share = finding(verdict, "postgres.read_share")
    assert read_share.severity is Severity.GREEN
    assert read_share.message.startswith("read replicas: not needed, reads are ")
    assert "the seed's threshold is 70%+" in read_share.message


def test_an_unindexed_filter_on_a_large_table_names_the_table_and_what_to_index(probe_table):
    _execute(
        "INSERT INTO doctor_probe (customer_ref, amount)"
        f" SELECT 'c' || (n % 5000), n FROM generate_series(1, {PROBE_ROWS}) n"
    )
    flush_own_statistics()  # the inserts counted before ANALYZE counts the rows, not after: once
    _execute("ANALYZE doctor_probe")
    if _pg_stat_statements_usable():
        _execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    _window_start()

    with connection.cursor() as cursor:
        for n in range(12):
            cursor.execute("SELECT count(*) FROM doctor_probe WHERE customer_ref = %s", [f"c{n}"])
    verdict = _verdict_after_workload()

    scans = finding(verdict, "postgres.sequential_scans.doctor_probe")
    assert scans.severity is Severity.AMBER
    assert scans.message.startswith("doctor_probe (200,000 rows): 2.4M rows read by sequential scan ")
    if _pg_stat_statements_usable():
        assert "from `SELECT count(*) FROM doctor_probe WHERE customer_ref = $1`" in scans.message
        assert scans.next_step == "index doctor_probe(customer_ref)"
    else:
        assert "the statement is unknown (pg_stat_statements is not" in scans.message
        assert finding(verdict, "postgres.top_statements").severity is Severity.UNKNOWN
    assert [f.id for f in findings_starting(verdict, "postgres.sequential_scans")] == [
        "postgres.sequential_scans.doctor_probe"
    ]


def test_without_pg_stat_statements_top_statements_are_unknown_and_the_rest_runs(postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
        if cursor.fetchone() is not None:
            pytest.skip("pg_stat_statements is installed in the test database")

    verdict = diagnose()

    top = finding(verdict, "postgres.top_statements")
    assert top.severity is Severity.UNKNOWN
    assert "shared_preload_libraries = 'pg_stat_statements'" in top.message
    assert finding(verdict, "postgres.sharding").message.startswith("sharding: not needed, the database is ")
    assert finding(verdict, "postgres.connections").severity is Severity.GREEN


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")  # the doctor checks replica_1 itself
def test_with_the_replica_pair_it_reports_each_replicas_lag_and_that_the_step_is_taken(postgres, settings):
    from django.conf import settings as django_settings

    if "replica_1" not in django_settings.DATABASES:
        pytest.skip('needs the real pair: ./scripts/pg-pair start, and eval "$(./scripts/pg-pair env)"')
    settings.DOCTOR_READ_SHARE_MIN_SAMPLE = 1

    verdict = diagnose()

    assert verdict.stage.number == "3"
    replica = finding(verdict, "replicas.replica_1")
    assert replica.severity is Severity.GREEN
    assert replica.message.startswith("replica_1: in rotation, lag ")
    assert finding(verdict, "postgres.read_share").message.startswith("read replicas: the step is taken; reads are ")
