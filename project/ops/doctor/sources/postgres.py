"""PostgreSQL's own statistics: reads against writes, the buffer cache, size, connections, the top
statements, and tables read by sequential scan, each over the window since the last snapshot.

The cumulative counters (pg_stat_database, pg_stat_user_tables, pg_stat_statements) only grow, so
a window is the difference between two readings. The previous reading is kept in the cache (Redis)
and replaced once older than DOCTOR_WINDOW_SECONDS; the first run, or one after the statistics were
reset, reports the totals since the reset and says so.

pg_stat_statements is optional: without it, reads and writes are counted in rows, not
statements, and the top statements and the statement behind a sequential scan are unknown.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections, transaction

from project.ops.server_timing import READ_KINDS, WRITE_KINDS, statement_keyword

SNAPSHOT_KEY = "ops:doctor:postgres-snapshot"
SNAPSHOT_TTL = 30 * 24 * 60 * 60

DATABASE_SQL = """
SELECT tup_returned, tup_inserted, tup_updated, tup_deleted, blks_read, blks_hit,
       EXTRACT(EPOCH FROM stats_reset), pg_database_size(current_database()),
       datid::text || '@' || COALESCE(inet_server_addr()::text, 'socket') || ':' || COALESCE(inet_server_port(), 0),
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       current_setting('max_connections')::int
FROM pg_stat_database WHERE datname = current_database()
"""
TABLES_SQL = """
SELECT relname, seq_scan, seq_tup_read, COALESCE(idx_scan, 0), n_live_tup FROM pg_stat_user_tables
"""
STATEMENTS_SQL = """
SELECT calls, total_exec_time, rows, query FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
COLUMNS_SQL = """
SELECT attname FROM pg_attribute
WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
"""
ENABLE_STATEMENTS = (
    "shared_preload_libraries = 'pg_stat_statements' and CREATE EXTENSION pg_stat_statements (docs/performance.md)"
)


@dataclass(frozen=True)
class Statement:
    query: str
    calls: int
    total_ms: float

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class TableScans:
    table: str
    live_rows: int
    seq_scans: int  # in the window
    seq_rows_read: int
    idx_scans: int
    statement: str | None  # the statement that reads it, from pg_stat_statements; None when unknown
    columns: list[str] = field(default_factory=list)  # the columns it filters on


@dataclass(frozen=True)
class PostgresReading:
    window_seconds: float | None  # None: since the statistics began (no reset time recorded)
    since_reset: bool  # the first run, or the statistics were reset since the last one
    reads: int
    writes: int
    read_unit: str  # "statements" (pg_stat_statements) or "rows" (pg_stat_database)
    buffer_hit_ratio: float | None
    blocks: int  # block accesses in the window (hits and reads)
    size_bytes: int
    growth_bytes: int | None  # in the window; None on the first run
    connections: int
    max_connections: int
    top_statements: list[Statement] | None  # None: pg_stat_statements missing
    statements_missing: str  # why they are missing; empty when present
    large_tables_scanned: list[TableScans]


def read_postgres(*, alias: str = "default", now: float | None = None) -> PostgresReading:
    """Raises when the database is not PostgreSQL or cannot be reached: the source is then unknown."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise LookupError(f"the database is {connection.vendor}: PostgreSQL statistics need DATABASE_URL=postgres://…")
    now = time.time() if now is None else now
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # this transaction's cached statistics, if any
        cursor.execute(DATABASE_SQL)
        (returned, inserted, updated, deleted, blks_read, blks_hit, reset, size, database, conns, max_conns) = (
            cursor.fetchone()
        )
        cursor.execute(TABLES_SQL)
        tables = {name: [int(v) for v in values] for name, *values in cursor.fetchall()}
    statements, missing = _statements(alias)
    current: dict[str, Any] = {
        "time": now,
        "database": database,  # its oid on that server's address: a snapshot of another is not compared
        "stats_reset": float(reset) if reset is not None else None,
        "returned": int(returned),
        "written": int(inserted + updated + deleted),
        "blks_read": int(blks_read),
        "blks_hit": int(blks_hit),
        "size": int(size),
        "tables": {name: values[:3] for name, values in tables.items()},
        "read_calls": sum(s.calls for s in statements or [] if statement_keyword(s.query) in READ_KINDS),
        "write_calls": sum(s.calls for s in statements or [] if statement_keyword(s.query) in WRITE_KINDS),
    }
    previous = _previous_snapshot(current)
    since = previous or {
        "time": current["stats_reset"],
        "returned": 0,
        "written": 0,
        "blks_read": 0,
        "blks_hit": 0,
        "tables": {},
        "read_calls": 0,
        "write_calls": 0,
    }

    def delta(key: str) -> int:
        return int(current[key] - since[key])

    if statements is not None and delta("read_calls") >= 0 and delta("write_calls") >= 0:
        reads, writes, unit = delta("read_calls"), delta("write_calls"), "statements"
    else:
        reads, writes, unit = delta("returned"), delta("written"), "rows"
    blocks = delta("blks_read") + delta("blks_hit")
    scanned = []
    for name, (seq_scan, seq_read, idx_scan, live) in tables.items():
        before = since["tables"].get(name, [0, 0, 0])
        seq_delta = seq_scan - before[0]
        if live < settings.DOCTOR_SEQ_SCAN_MIN_ROWS or seq_delta < settings.DOCTOR_SEQ_SCAN_MIN_SCANS:
            continue
        statement = _statement_scanning(name, statements or [])
        scanned.append(
            TableScans(
                table=name,
                live_rows=live,
                seq_scans=seq_delta,
                seq_rows_read=seq_read - before[1],
                idx_scans=idx_scan - before[2],
                statement=statement,
                columns=_filtered_columns(alias, name, statement) if statement else [],
            )
        )
    return PostgresReading(
        window_seconds=now - since["time"] if since["time"] is not None else None,
        since_reset=previous is None,
        reads=reads,
        writes=writes,
        read_unit=unit,
        buffer_hit_ratio=delta("blks_hit") / blocks if blocks else None,
        blocks=blocks,
        size_bytes=int(size),
        growth_bytes=int(size) - previous["size"] if previous else None,
        connections=int(conns),
        max_connections=int(max_conns),
        top_statements=sorted(statements, key=lambda s: s.total_ms, reverse=True)[:5] if statements else statements,
        statements_missing=missing,
        large_tables_scanned=sorted(scanned, key=lambda t: t.seq_rows_read, reverse=True),
    )


def _previous_snapshot(current: dict[str, Any]) -> dict[str, Any] | None:
    """The kept snapshot of the same database and statistics; replaced once older than the window."""
    previous: dict[str, Any] | None = cache.get(SNAPSHOT_KEY)
    usable = (
        previous is not None
        and previous["database"] == current["database"]
        and previous["stats_reset"] == current["stats_reset"]
        and previous["time"] < current["time"]
        # Counters that went back: the statistics were lost (a crash) or another server answers.
        and all(previous[key] <= current[key] for key in ("returned", "written", "blks_read", "blks_hit"))
    )
    if not usable or current["time"] - previous["time"] >= settings.DOCTOR_WINDOW_SECONDS:  # type: ignore[index]
        cache.set(SNAPSHOT_KEY, current, SNAPSHOT_TTL)
    return previous if usable else None


def _statements(alias: str) -> tuple[list[Statement] | None, str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
        if cursor.fetchone() is None:
            return None, f"pg_stat_statements is not installed: {ENABLE_STATEMENTS}"
        try:
            with transaction.atomic(using=alias):  # a savepoint: "not preloaded" is recoverable
                cursor.execute(STATEMENTS_SQL)
                rows = cursor.fetchall()
        except DatabaseError:
            return None, f"pg_stat_statements is not preloaded: {ENABLE_STATEMENTS}"
    return [
        Statement(query=" ".join(query.split()), calls=calls, total_ms=total) for calls, total, _, query in rows
    ], ""


def _statement_scanning(table: str, statements: list[Statement]) -> str | None:
    """The read statement on ``table`` with a WHERE clause that took the most time: the likeliest scan."""
    mentions = re.compile(rf'\b(?:FROM|JOIN)\s+"?{re.escape(table)}"?(?:\s|$)', re.IGNORECASE)
    candidates = [
        s
        for s in statements
        if statement_keyword(s.query) in READ_KINDS and mentions.search(s.query) and " WHERE " in s.query
    ]
    return max(candidates, key=lambda s: s.total_ms).query if candidates else None


def _filtered_columns(alias: str, table: str, statement: str) -> list[str]:
    """The table's columns named in the statement's WHERE clause, in order: what to index."""
    with connections[alias].cursor() as cursor:
        cursor.execute(COLUMNS_SQL, [table])
        columns = {name for (name,) in cursor.fetchall()}
    where = re.split(r"\bWHERE\b", statement, maxsplit=1, flags=re.IGNORECASE)[1]
    where = re.split(r"\b(?:GROUP BY|ORDER BY|LIMIT|OFFSET|RETURNING)\b", where, flags=re.IGNORECASE)[0]
    named = []
    for word in re.findall(r'"?([A-Za-z_][A-Za-z0-9_]*)"?', where):
        if word in columns and word not in named:
            named.append(word)
    return named
