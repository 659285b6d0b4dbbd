"""`manage.py slow_queries`: the statements PostgreSQL spent most time on, from pg_stat_statements.

Two tables: the top statements by total time (where the database's time goes) and by mean time
(the slowest single statements), each with its calls. How to enable the extension is in
docs/performance.md, and in the message printed when it is missing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, transaction

ENABLE_HELP = """pg_stat_statements is not enabled on this database. To enable it:
  1. in postgresql.conf:  shared_preload_libraries = 'pg_stat_statements'   (then restart PostgreSQL)
  2. in this database:    CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
./scripts/pg-pair start does both. See docs/performance.md, "Slow queries"."""

STATEMENTS_SQL = """
SELECT total_exec_time, mean_exec_time, calls, rows, query
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY {order} DESC
LIMIT %s
"""


class Command(BaseCommand):
    help = "Print the top statements from pg_stat_statements by total and by mean execution time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=10, help="statements per table (default 10)")
        parser.add_argument("--width", type=int, default=100, help="characters of each statement shown")

    def handle(self, *args: Any, limit: int, width: int, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                f"slow_queries needs PostgreSQL with pg_stat_statements; this database is {connection.vendor}. "
                'Set DATABASE_URL=postgres://... (see docs/performance.md, "Slow queries").'
            )
        for title, order in [("by total time", "total_exec_time"), ("by mean time", "mean_exec_time")]:
            rows = _top_statements(order=order, limit=limit)
            self.stdout.write(f"Top {limit} statements {title}")
            self.stdout.write(f"{'total ms':>12} {'mean ms':>10} {'calls':>9} {'rows':>10}  statement")
            for total, mean, calls, row_count, query in rows:
                statement = " ".join(query.split())
                if len(statement) > width:
                    statement = statement[: width - 1] + "…"
                self.stdout.write(f"{total:12.1f} {mean:10.2f} {calls:9d} {row_count:10d}  {statement}")
            self.stdout.write("")


def _top_statements(*, order: str, limit: int) -> list[tuple[Any, ...]]:
    """Raises CommandError with how to enable the extension when it is missing or not preloaded."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
        if cursor.fetchone() is None:
            raise CommandError(ENABLE_HELP)
        try:
            with transaction.atomic():  # a savepoint: the error of a library not preloaded is recoverable
                cursor.execute(STATEMENTS_SQL.format(order=order), [limit])
                rows: list[tuple[Any, ...]] = cursor.fetchall()
                return rows
        except DatabaseError as error:
            raise CommandError(f"{ENABLE_HELP}\n(PostgreSQL said: {str(error).strip()})") from None
