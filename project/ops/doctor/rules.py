"""From readings to findings: one function per area, each threshold a setting (docs/doctor.md).

A reading is None when its source could not be read; its area then says "unknown" with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from project.ops.doctor.findings import Finding, Severity, Stage
from project.ops.doctor.sources.jobs import JobsReading
from project.ops.doctor.sources.postgres import PostgresReading
from project.ops.doctor.sources.prometheus import PrometheusReading
from project.ops.doctor.sources.queues import QueueReading
from project.ops.doctor.sources.redis_server import RedisReading
from project.ops.doctor.sources.replicas import ReplicaReading
from project.ops.doctor.sources.stage import WorkersReading

GREEN, AMBER, RED, UNKNOWN = Severity.GREEN, Severity.AMBER, Severity.RED, Severity.UNKNOWN
STAGES_DOC = "docs/stages.md"
STAGE_2_DOC = "docs/stages.md#stage-2-one-server-with-real-services"
# Where docs/doctor.md explains the findings of each source.
DOCTOR_DOC = {
    "workers": "docs/doctor.md#the-stage",
    "postgres": "docs/doctor.md#postgresql",
    "replicas": "docs/doctor.md#read-replicas",
    "redis": "docs/doctor.md#redis",
    "queues": "docs/doctor.md#jobs",
    "jobs": "docs/doctor.md#jobs",
    "prometheus": "docs/doctor.md#the-kits-own-signals-prometheus",
}
# Fewer lookups (Redis) or block accesses (PostgreSQL) than these say nothing about a hit ratio.
REDIS_MIN_LOOKUPS = 1000
BUFFER_MIN_BLOCKS = 10_000


@dataclass
class Readings:
    variables: dict[str, bool]
    workers: WorkersReading | None = None
    postgres: PostgresReading | None = None
    replicas: list[ReplicaReading] | None = None
    redis: RedisReading | None = None
    queues: list[QueueReading] | None = None
    jobs: JobsReading | None = None
    prometheus: PrometheusReading | None = None
    unknown: dict[str, str] = field(default_factory=dict)  # source -> why it could not be read


# --- figures, written the way a person reads them -----------------------------------------


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def count(number: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}{suffix}"
    return f"{number:,.0f}"


def size(number_of_bytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(number_of_bytes) < 1024 or unit == "TB":
            return (
                f"{number_of_bytes:.0f} {unit}"
                if unit == "B"
                else f"{number_of_bytes:.1f}".removesuffix(".0") + f" {unit}"
            )
        number_of_bytes /= 1024
    raise AssertionError("unreachable")


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def window(reading: PostgresReading) -> str:
    if reading.window_seconds is None:
        return "since the statistics began"
    text = f"over {duration(reading.window_seconds)}"
    return (
        f"{text} (since the statistics were reset: the first run keeps no earlier snapshot)"
        if (reading.since_reset)
        else text
    )


# --- the stage ------------------------------------------------------------------------------


def stage_of(variables: dict[str, bool]) -> Stage:
    database, redis = variables["DATABASE_URL"], variables["REDIS_URL"]
    extras = [
        label
        for name, label in (
            ("BROKER_URL", "2b RabbitMQ for jobs"),
            ("CDN_URL", "2c a CDN for static files"),
            ("MEDIA_S3_BUCKET", "3b files shared by every machine"),
        )
        if variables[name]
    ]
    if variables["DATABASE_REPLICA_URLS"] and database:
        return Stage("3", "read replicas", variables, extras)
    if database and redis:
        return Stage("2", "one server", variables, extras)
    if database or redis:
        return Stage("1-2", "between stages 1 and 2", variables, extras)
    return Stage("1", "laptop", variables, extras)


def stage_findings(stage: Stage, readings: Readings) -> list[Finding]:
    variables = stage.variables_set
    set_names = [name for name, is_set in variables.items() if is_set]
    findings = []
    if stage.number == "1":
        findings.append(
            Finding(
                "stage",
                RED if settings.IS_PRODUCTION else GREEN,
                f"stage 1 (laptop): none of {', '.join(variables)} is set: SQLite, the embedded Redis"
                + (", with ENVIRONMENT=production" if settings.IS_PRODUCTION else ""),
                "stage 2's first step: set DATABASE_URL=postgres://… and REDIS_URL=redis://…, "
                "then run gunicorn, manage.py rundramatiq and manage.py crontab",
                STAGE_2_DOC,
            )
        )
    elif stage.number == "1-2":
        missing = "REDIS_URL" if variables["DATABASE_URL"] else "DATABASE_URL"
        findings.append(
            Finding(
                "stage",
                AMBER,
                f"between stages 1 and 2: {', '.join(set_names)} set, {missing} not",
                f"set {missing} too: stage 2 is PostgreSQL and Redis together",
                STAGE_2_DOC,
            )
        )
    else:
        extras = f", with {', '.join(stage.extras)}" if stage.extras else ""
        findings.append(
            Finding("stage", GREEN, f"stage {stage.number} ({stage.name}){extras}: {', '.join(set_names)} set")
        )
    if variables["DATABASE_REPLICA_URLS"] and not variables["DATABASE_URL"]:
        findings.append(
            Finding(
                "stage.replicas_without_postgres",
                RED,
                "DATABASE_REPLICA_URLS is set but the primary is not PostgreSQL",
                "set DATABASE_URL=postgres://… to the primary of those replicas",
                "docs/replicas.md",
            )
        )
    workers = readings.workers
    if workers is None:
        findings.append(_unknown("workers", "job workers reporting in", readings))
    else:
        findings.append(
            Finding(
                "workers",
                GREEN if workers.processes else AMBER,
                f"job workers: {workers.processes} processes on {workers.machines} machines report in"
                if workers.processes
                else "job workers: none reports in",
                "" if workers.processes else "run manage.py rundramatiq (./scripts/run starts one)",
                "docs/jobs.md",
            )
        )
        if workers.machines > 1 and not variables["MEDIA_S3_BUCKET"]:
            findings.append(
                Finding(
                    "stage.shared_files",
                    AMBER,
                    f"job workers run on {workers.machines} machines and files are in VAR_DIR/media, "
                    "which each machine sees alone",
                    "set MEDIA_S3_BUCKET (stage 3b)",
                    "docs/deploy.md#shared-storage",
                )
            )
    return findings


# --- PostgreSQL -----------------------------------------------------------------------------


def postgres_findings(readings: Readings) -> list[Finding]:
    pg = readings.postgres
    if pg is None:
        return [_unknown("postgres", "PostgreSQL statistics", readings)]
    return [
        _read_share(pg, readings),
        _buffer_cache(pg),
        _sharding(pg),
        _connections(pg),
        *_top_statements(pg),
        *_sequential_scans(pg),
    ]


def _read_share(pg: PostgresReading, readings: Readings) -> Finding:
    total = pg.reads + pg.writes
    threshold = settings.DOCTOR_REPLICAS_READ_SHARE
    replicas_set = readings.variables["DATABASE_REPLICA_URLS"]
    if total < settings.DOCTOR_READ_SHARE_MIN_SAMPLE:
        return Finding(
            "postgres.read_share",
            GREEN,
            f"read replicas: too little traffic to judge, {count(total)} {pg.read_unit} {window(pg)} "
            f"(fewer than DOCTOR_READ_SHARE_MIN_SAMPLE={settings.DOCTOR_READ_SHARE_MIN_SAMPLE})",
        )
    share = pg.reads / total
    counted = "rows read and written" if pg.read_unit == "rows" else "statements that read or write"
    figures = f"reads are {percent(share)} of {count(total)} {counted} {window(pg)}"
    if replicas_set:
        return Finding(
            "postgres.read_share", GREEN, f"read replicas: the step is taken; {figures}", "", "docs/replicas.md"
        )
    if share >= threshold:
        return Finding(
            "postgres.read_share",
            AMBER,
            f"{figures} (the seed's threshold: {percent(threshold)}+)",
            "add a read replica: set DATABASE_REPLICA_URLS",
            "docs/replicas.md",
        )
    return Finding(
        "postgres.read_share",
        GREEN,
        f"read replicas: not needed, {figures}; the seed's threshold is {percent(threshold)}+",
    )


def _buffer_cache(pg: PostgresReading) -> Finding:
    if pg.buffer_hit_ratio is None or pg.blocks < BUFFER_MIN_BLOCKS:
        return Finding(
            "postgres.buffer_cache",
            GREEN,
            f"buffer cache: too few block accesses to judge ({count(pg.blocks)} {window(pg)})",
        )
    figures = f"buffer cache hit ratio {percent(pg.buffer_hit_ratio)} {window(pg)}"
    if pg.buffer_hit_ratio < settings.DOCTOR_BUFFER_CACHE_HIT_RATIO:
        return Finding(
            "postgres.buffer_cache",
            AMBER,
            f"{figures} (below {percent(settings.DOCTOR_BUFFER_CACHE_HIT_RATIO)}): the working set outgrows memory",
            "give PostgreSQL more memory (shared_buffers, a larger instance): the seed scales the database "
            "up before adding replicas",
            DOCTOR_DOC["postgres"],
        )
    return Finding("postgres.buffer_cache", GREEN, figures)


def _sharding(pg: PostgresReading) -> Finding:
    threshold = settings.DOCTOR_SHARDING_DATABASE_BYTES
    growth = f", grew {size(pg.growth_bytes)} {window(pg)}" if pg.growth_bytes is not None else ""
    if pg.size_bytes >= threshold:
        return Finding(
            "postgres.sharding",
            AMBER,
            f"the database is {size(pg.size_bytes)}{growth}: the seed's sharding threshold is {size(threshold)}",
            "first archive old rows and scale the server up; shard only when single-server performance is "
            "no longer acceptable",
            DOCTOR_DOC["postgres"],
        )
    return Finding(
        "postgres.sharding",
        GREEN,
        f"sharding: not needed, the database is {size(pg.size_bytes)}{growth}; "
        f"the seed's threshold is about {size(threshold)}",
    )


def _connections(pg: PostgresReading) -> Finding:
    share = pg.connections / pg.max_connections
    figures = f"connections: {pg.connections} of max_connections {pg.max_connections} ({percent(share)})"
    if share >= settings.DOCTOR_CONNECTIONS_SHARE:
        return Finding(
            "postgres.connections",
            RED if share >= 0.95 else AMBER,
            figures,
            "put PgBouncer in front of PostgreSQL, or lower gunicorn workers × threads per server",
            DOCTOR_DOC["postgres"],
        )
    return Finding("postgres.connections", GREEN, figures)


def _top_statements(pg: PostgresReading) -> list[Finding]:
    if pg.top_statements is None:
        return [Finding("postgres.top_statements", UNKNOWN, f"top statements: unknown, {pg.statements_missing}")]
    return [
        Finding(
            f"postgres.top_statements.{rank}",
            GREEN,
            f"top statement #{rank} by total time: {statement.total_ms:,.0f} ms in {count(statement.calls)} calls "
            f"(mean {statement.mean_ms:.2f} ms) since the statistics were reset: `{_short(statement.query)}`",
        )
        for rank, statement in enumerate(pg.top_statements[:3], start=1)
    ]


def _sequential_scans(pg: PostgresReading) -> list[Finding]:
    if not pg.large_tables_scanned:
        return [
            Finding(
                "postgres.sequential_scans",
                GREEN,
                f"sequential scans: no table of {count(settings.DOCTOR_SEQ_SCAN_MIN_ROWS)}+ rows read by "
                f"sequential scan {settings.DOCTOR_SEQ_SCAN_MIN_SCANS}+ times {window(pg)}",
            )
        ]
    findings = []
    for table in pg.large_tables_scanned:
        if pg.window_seconds and pg.window_seconds >= 3600:
            rate = f"{count(table.seq_scans / (pg.window_seconds / 3600))} times/h"
        else:
            rate = f"{count(table.seq_scans)} times"
        figures = (
            f"{table.table} ({count(table.live_rows)} rows): {count(table.seq_rows_read)} rows read by sequential "
            f"scan {rate} {window(pg)}, against {count(table.idx_scans)} index scans"
        )
        if table.statement:
            message = f"{figures}, from `{_short(table.statement)}`"
            step = f"index {table.table}({', '.join(table.columns)})" if table.columns else "index what it filters on"
        else:
            message = f"{figures}; the statement is unknown ({pg.statements_missing})"
            step = "find the statement (EXPLAIN) and index the columns it filters on"
        findings.append(
            Finding(f"postgres.sequential_scans.{table.table}", AMBER, message, step, "docs/performance.md")
        )
    return findings


def replica_findings(readings: Readings) -> list[Finding]:
    if not readings.variables["DATABASE_REPLICA_URLS"]:
        return []
    if readings.replicas is None:
        return [_unknown("replicas", "read replicas", readings)]
    findings = []
    for replica in readings.replicas:
        lag = f"lag {replica.lag_seconds:.1f} s ({size(replica.lag_bytes)} of WAL)"
        if replica.in_rotation:
            findings.append(
                Finding(
                    f"replicas.{replica.alias}", GREEN, f"{replica.alias}: in rotation, {lag}", "", "docs/replicas.md"
                )
            )
        elif not replica.reachable:
            findings.append(
                Finding(
                    f"replicas.{replica.alias}",
                    RED,
                    f"{replica.alias}: out of rotation, unreachable or promoted; reads go to the primary",
                    "bring the replica back, or remove it from DATABASE_REPLICA_URLS",
                    "docs/replicas.md",
                )
            )
        else:
            findings.append(
                Finding(
                    f"replicas.{replica.alias}",
                    AMBER,
                    f"{replica.alias}: out of rotation, {lag} is over REPLICA_MAX_LAG_SECONDS="
                    f"{settings.REPLICA_MAX_LAG_SECONDS:g} or REPLICA_MAX_LAG_BYTES={settings.REPLICA_MAX_LAG_BYTES}",
                    "find what holds replay back (long queries on the replica, its disk, the network)",
                    "docs/replicas.md",
                )
            )
    return findings


# --- Redis, queues, jobs ------------------------------------------------------------------------


def redis_findings(readings: Readings) -> list[Finding]:
    r = readings.redis
    if r is None:
        return [_unknown("redis", "Redis", readings)]
    since = f"since Redis started {duration(r.uptime_seconds)} ago"
    findings = []
    ratio = r.hit_ratio
    if ratio is None or r.hits + r.misses < REDIS_MIN_LOOKUPS:
        findings.append(
            Finding(
                "redis.hit_ratio",
                GREEN,
                f"Redis hit ratio: too few lookups to judge ({count(r.hits + r.misses)} {since})",
            )
        )
    else:
        low = ratio < settings.DOCTOR_REDIS_HIT_RATIO
        findings.append(
            Finding(
                "redis.hit_ratio",
                AMBER if low else GREEN,
                f"Redis hit ratio {percent(ratio)} ({count(r.hits)} hits, {count(r.misses)} misses) {since}",
                "find what misses: cache hit ratios per cache come from Prometheus (PROMETHEUS_URL)" if low else "",
                "docs/caching.md" if low else "",
            )
        )
    if r.maxmemory:
        share = r.used_memory / r.maxmemory
        high = share >= settings.DOCTOR_REDIS_MEMORY_SHARE
        findings.append(
            Finding(
                "redis.memory",
                AMBER if high else GREEN,
                f"Redis memory {size(r.used_memory)} of maxmemory {size(r.maxmemory)} ({percent(share)})",
                "raise maxmemory, or move the job broker to a Redis (or RabbitMQ) of its own" if high else "",
            )
        )
    else:
        findings.append(Finding("redis.memory", GREEN, f"Redis memory {size(r.used_memory)}, no maxmemory set"))
    findings.append(_memory_hits(r))
    findings.append(
        Finding(
            "redis.evictions",
            AMBER if r.evicted_keys else GREEN,
            f"Redis evicted {count(r.evicted_keys)} keys {since}",
            "raise maxmemory: an evicted cache entry is a database query, an evicted job is lost"
            if r.evicted_keys
            else "",
        )
    )
    return findings


def _memory_hits(r: RedisReading) -> Finding:
    doc = "docs/caching.md#hits-from-the-workers-memory"
    if not settings.RESPONSE_CACHE_ENABLED:
        return Finding("redis.memory_hits", GREEN, "response cache off: no hits to answer from memory")
    if not settings.RESPONSE_CACHE_LOCAL_COPIES:
        why = "with Redis Sentinel" if settings.REDIS_SENTINEL else "RESPONSE_CACHE_LOCAL_COPIES=false"
        return Finding("redis.memory_hits", GREEN, f"response-cache hits ask Redis each time ({why})", doc=doc)
    if not r.tracks_clients:
        return Finding(
            "redis.memory_hits",
            AMBER,
            f"response-cache hits ask Redis each time: Redis {r.version} has no CLIENT TRACKING",
            "upgrade Redis to 6 or newer: each worker then answers repeated hits from its memory",
            doc,
        )
    return Finding(
        "redis.memory_hits",
        GREEN,
        f"response-cache hits from each worker's memory (Redis {r.version} reports every change)",
        doc=doc,
    )


def queue_findings(readings: Readings) -> list[Finding]:
    if readings.queues is None:
        return [_unknown("queues", "job queues", readings)]
    no_worker = readings.workers is not None and readings.workers.processes == 0
    findings = []
    for queue in readings.queues:
        oldest = f", oldest {duration(queue.oldest_seconds)}" if queue.oldest_seconds is not None else ""
        figures = f"queue {queue.name}: {count(queue.depth)} jobs waiting{oldest}"
        age = queue.oldest_seconds or 0
        if queue.depth and no_worker:
            findings.append(
                Finding(
                    f"queue.{queue.name}",
                    RED,
                    f"{figures}, and no job worker reports in",
                    "start workers: manage.py rundramatiq",
                    "docs/jobs.md",
                )
            )
        elif age >= settings.DOCTOR_QUEUE_AGE_AMBER:
            findings.append(
                Finding(
                    f"queue.{queue.name}",
                    RED if age >= settings.DOCTOR_QUEUE_AGE_RED else AMBER,
                    figures,
                    "run more workers (manage.py rundramatiq --processes N --threads N, or more machines)",
                    "docs/jobs.md",
                )
            )
        else:
            findings.append(
                Finding(f"queue.{queue.name}", GREEN, figures if queue.depth else f"queue {queue.name}: empty")
            )
    return findings


def jobs_findings(readings: Readings) -> list[Finding]:
    jobs = readings.jobs
    if jobs is None:
        return [_unknown("jobs", "dead letters and the outbox", readings)]
    actors = ", ".join(f"{name} {n}" for name, n in sorted(jobs.dead_letters_by_actor.items()))
    findings = [
        Finding(
            "jobs.dead_letters",
            AMBER if jobs.dead_letters else GREEN,
            f"dead letters: {count(jobs.dead_letters)} jobs failed after their last retry"
            + (f" ({actors})" if actors else ""),
            "read their errors in the admin: Django Dramatiq › Tasks, status failed" if jobs.dead_letters else "",
            "docs/jobs.md" if jobs.dead_letters else "",
        )
    ]
    if not jobs.outbox_size:
        findings.append(Finding("jobs.outbox", GREEN, "outbox: empty"))
    else:
        age = jobs.outbox_oldest_seconds or 0
        findings.append(
            Finding(
                "jobs.outbox",
                RED if age >= settings.DOCTOR_QUEUE_AGE_RED else AMBER,
                f"outbox: {count(jobs.outbox_size)} jobs kept while the broker was unreachable, oldest {duration(age)}",
                "check the broker (/readyz); a worker or the scheduler relays them once it answers",
                "docs/jobs.md",
            )
        )
    return findings


# --- the kit's own signals (Prometheus) ------------------------------------------------------


def prometheus_findings(readings: Readings) -> list[Finding]:
    p = readings.prometheus
    if p is None:
        return [
            _unknown(
                "prometheus",
                "cache hit ratios, p95 and 5xx per route, app servers and their CPU",
                readings,
                next_step="set PROMETHEUS_URL to the Prometheus that scrapes the kit",
            )
        ]
    over = f"over {p.window}"
    findings = []
    for name, ratio in (("response", p.response_cache_hit_ratio), ("query", p.query_cache_hit_ratio)):
        if ratio is None:
            findings.append(Finding(f"cache.{name}", GREEN, f"{name} cache: no lookup {over}"))
            continue
        low = ratio < settings.DOCTOR_CACHE_HIT_RATIO
        findings.append(
            Finding(
                f"cache.{name}",
                AMBER if low else GREEN,
                f"{name} cache hit ratio {percent(ratio)} {over}",
                "look at what each write invalidates, and at the TTLs" if low else "",
                "docs/caching.md" if low else "",
            )
        )
    for route, p95 in sorted(p.p95_seconds_by_route.items()):
        if p95 * 1000 >= settings.DOCTOR_P95_MS:
            findings.append(
                Finding(
                    f"route.p95.{route}",
                    AMBER,
                    f"{route}: p95 {p95 * 1000:.0f} ms {over} (above DOCTOR_P95_MS={settings.DOCTOR_P95_MS})",
                    "see what it costs (Server-Timing, manage.py slow_queries)",
                    "docs/performance.md",
                )
            )
    for route, share in sorted(p.errors_share_by_route.items()):
        if share >= settings.DOCTOR_5XX_SHARE:
            findings.append(
                Finding(
                    f"route.5xx.{route}",
                    RED,
                    f"{route}: {percent(share)} of answers are 5xx {over}",
                    "read the error log for this route",
                )
            )
    if p.app_server_cpu is not None:
        cpu, servers = p.app_server_cpu, p.app_servers_up
        on = f" on {servers} app servers" if servers is not None else ""
        if cpu > settings.DOCTOR_CPU_SCALE_OUT:
            findings.append(
                Finding(
                    "cpu",
                    AMBER,
                    f"app servers' CPU {percent(cpu)}{on} {over} (the seed scales out above "
                    f"{percent(settings.DOCTOR_CPU_SCALE_OUT)})",
                    "add app servers behind the load balancer",
                    "docs/deploy.md",
                )
            )
        elif cpu < settings.DOCTOR_CPU_SCALE_IN and (servers or 0) > 2:
            findings.append(
                Finding(
                    "cpu",
                    AMBER,
                    f"app servers' CPU {percent(cpu)}{on} {over} (the seed scales in below "
                    f"{percent(settings.DOCTOR_CPU_SCALE_IN)}, keeping at least 2)",
                    "remove an app server",
                    "docs/deploy.md",
                )
            )
        else:
            findings.append(Finding("cpu", GREEN, f"app servers' CPU {percent(cpu)}{on} {over}"))
    return findings


def _unknown(source: str, what: str, readings: Readings, *, next_step: str = "") -> Finding:
    return Finding(
        source,
        UNKNOWN,
        f"{what}: unknown, {readings.unknown.get(source, 'not read')}",
        next_step,
        DOCTOR_DOC[source],
    )


def _short(query: str, width: int = 120) -> str:
    return query if len(query) <= width else query[: width - 1] + "…"


def all_findings(stage: Stage, readings: Readings) -> list[Finding]:
    return [
        *stage_findings(stage, readings),
        *postgres_findings(readings),
        *replica_findings(readings),
        *redis_findings(readings),
        *queue_findings(readings),
        *jobs_findings(readings),
        *prometheus_findings(readings),
    ]
