"""`manage.py slow_queries`: the top statements of pg_stat_statements, or how to enable it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.factories import OrderFactory, OrderItemFactory
from tests.workers import database_url_for_subprocesses


def _slow_queries(**options) -> str:
    out = StringIO()
    call_command("slow_queries", stdout=out, **options)
    return out.getvalue()


def _one(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return row[0] if row else None


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _extension_installed() -> bool:
    return _one("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'") is not None


def _extension_preloaded() -> bool:
    return "pg_stat_statements" in _one("SHOW shared_preload_libraries")


@pytest.mark.django_db
def test_slow_queries_on_sqlite_says_it_needs_postgresql_without_a_traceback():
    if connection.vendor == "postgresql":
        pytest.skip("checks the SQLite answer")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        _slow_queries()

    result = subprocess.run(
        [sys.executable, "manage.py", "slow_queries"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.test_settings"},
    )
    assert result.returncode == 1
    assert "needs PostgreSQL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.postgres
def test_slow_queries_without_the_extension_says_how_to_enable_it(postgres):
    if _extension_installed():
        pytest.skip("pg_stat_statements is installed in the test database")
    with pytest.raises(CommandError) as error:
        _slow_queries()

    assert "shared_preload_libraries = 'pg_stat_statements'" in str(error.value)
    assert "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" in str(error.value)


@pytest.mark.postgres
def test_slow_queries_with_the_extension_created_but_not_preloaded_says_how_to_enable_it(postgres):
    if (
        _extension_preloaded()
        or _one("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'") is None
    ):
        pytest.skip("needs a PostgreSQL that has pg_stat_statements available but not preloaded")
    _execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")  # rolled back with the test

    with pytest.raises(CommandError, match="shared_preload_libraries"):
        _slow_queries()


@pytest.mark.postgres
def test_slow_queries_prints_the_top_statements_by_total_and_by_mean_time_with_calls(postgres):
    if not _extension_preloaded():
        pytest.skip("needs shared_preload_libraries = 'pg_stat_statements' (./scripts/pg-pair start)")
    _execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")  # rolled back with the test
    for _ in range(3):
        _one("SELECT pg_sleep(0.01) /* headroom-slow-queries-probe */")

    output = _slow_queries(limit=500)

    assert "statements by total time" in output and "statements by mean time" in output
    probe = next(line for line in output.splitlines() if "headroom-slow-queries-probe" in line)
    assert probe.split()[2] == "3"  # calls, after total and mean


def _table(output: str, title: str) -> list[tuple[float, float, int, int, str]]:
    """The rows of one of the command's tables: (total ms, mean ms, calls, rows, statement)."""
    lines = output.split(title, 1)[1].splitlines()[2:]
    rows = []
    for line in itertools.takewhile(str.strip, lines):
        total, mean, calls, row_count, statement = line.split(maxsplit=4)
        rows.append((float(total), float(mean), int(calls), int(row_count), statement))
    return rows


@pytest.mark.replica  # the pg-pair primary preloads pg_stat_statements; .ci/run runs this file with it
@pytest.mark.django_db(transaction=True)  # the command runs in its own process: it must see committed rows
def test_slow_queries_prints_the_api_statements_it_really_ran_with_their_calls_and_rows(
    postgres, user_client, user, settings
):
    settings.CACHEOPS_ENABLED = False  # every request runs its query, none is answered from the query cache
    if not _extension_preloaded():
        pytest.skip(
            "needs shared_preload_libraries = 'pg_stat_statements': ./scripts/pg-pair start, "
            "and DATABASE_URL from ./scripts/pg-pair env"
        )
    _execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    for order in OrderFactory.create_batch(2, user=user):
        OrderItemFactory(order=order)
    _one("SELECT pg_stat_statements_reset()")
    for _ in range(5):
        assert user_client.get("/api/v1/orders/").status_code == 200

    result = subprocess.run(
        [sys.executable, "manage.py", "slow_queries", "--limit", "100", "--width", "1000"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.test_settings",
            "DATABASE_URL": database_url_for_subprocesses(),
        },
    )

    assert result.returncode == 0, result.stderr
    by_total, by_mean = (
        _table(result.stdout, "statements by total time"),
        _table(result.stdout, "statements by mean time"),
    )
    assert [row[0] for row in by_total] == sorted((row[0] for row in by_total), reverse=True)
    assert [row[1] for row in by_mean] == sorted((row[1] for row in by_mean), reverse=True)
    page = next(row for row in by_total if row[4].startswith('SELECT "orders_order"."id"'))
    total, mean, calls, rows, statement = page
    assert (calls, rows) == (5, 10)  # five requests, two orders each
    assert 'WHERE "orders_order"."user_id" = $1' in statement  # normalized: one entry for every user
    assert total == pytest.approx(mean * calls, abs=0.1)
    assert page in by_mean
