"""The reports over 1M orders, before and after: time and peak memory. The body of scripts/bench-report.

On a seeded database (headroom_bench_1m by default, as bench-orders-list makes; seeded here when
missing or incomplete), each step runs in a fresh process (production settings, DEBUG off) that
calls what the job calls (apps.reports.services.report_generate, apps.orders.services.daily_sales_refresh),
and reports its wall time and its peak RSS (getrusage ru_maxrss), next to the RSS of the same
process before the step (Django and the app loaded). Each "before" is the old way, still callable:

1. the sales report over the whole 2 years with no rollup (every day aggregated live in SQL):
   before, rows streamed to Python and written by CsvWriter (stage 1's path); after, PostgreSQL
   aggregates and writes the CSV (COPY);
2. the daily rollup of those 2 years: before, one day per transaction (the old job's shape, now
   each day one INSERT ... SELECT), then one INSERT ... SELECT ... GROUP BY for every day, both
   into the rollup table as it was (a foreign key constraint on product_id, checked for each
   row, and an index on it: added back for the step); after, the same statement into the table
   as it is (neither);
3. the same sales report again, now read from the rollup, before and after;
4. the orders export (CSV of every order line) of the busiest user, before and after.

The CSV files go to a temporary VAR_DIR, deleted at the end. The load average is printed with
each step, and the CPU seconds of the step's process and of its PostgreSQL backend: on a shared
machine the wall times move with the load, so compare a before with its after.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from benchmarks import scale_db

# (step, what it measures): each "after" follows its "before".
STEPS = {
    "sales-live-python": "sales report, 2 years, no rollup: Python writer (before)",
    "sales-live": "sales report, 2 years, no rollup: COPY (after)",
    "rollup-per-day": "rollup of the 2 years, one day per statement, FK (before)",
    "rollup-fk": "rollup of the 2 years, one statement, FK and its index (before)",
    "rollup": "rollup of the 2 years, one statement, no FK (after)",
    "sales-rolled-python": "sales report, 2 years, from the rollup: Python writer (before)",
    "sales-rolled": "sales report, 2 years, from the rollup: COPY (after)",
    "export-python": "orders export, busiest user: Python writer (before)",
    "export": "orders export, busiest user: COPY (after)",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database for the next run")
    parser.add_argument("--size", choices=sorted(scale_db.SIZES), default="1M", help="orders seeded (default 1M)")
    parser.add_argument(
        "--database-suffix", default="", help="seed a database of your own: headroom_bench_<size><suffix>"
    )
    parser.add_argument("--database", default="", help="the database's whole name instead (headroom_bench_<size>)")
    parser.add_argument(
        "--template",
        action="store_true",
        help="keep a seeded copy as <database>_template and start from it when the database is missing",
    )
    parser.add_argument("--redis-db", type=int, default=6, help="the Redis database number (default 6)")
    parser.add_argument("--skip", default="", help="steps to leave out, comma-separated (e.g. rollup-per-day)")
    args = parser.parse_args()

    size = scale_db.SIZES[args.size]
    size = dataclasses.replace(size, label=size.label + args.database_suffix, name=args.database)
    scale_db.ensure(size, reuse=True, template=args.template)
    redis_url = scale_db.REDIS_URL.rsplit("/", 1)[0] + f"/{args.redis_db}"
    skipped = {name for name in args.skip.split(",") if name}
    var_dir = tempfile.mkdtemp(prefix="headroom-bench-report-")
    results = {}
    try:
        for step in STEPS:
            if step in skipped:
                continue
            print(f"==> {STEPS[step]} (load average {_load()})", flush=True)
            output = subprocess.run(
                [sys.executable, "-m", "benchmarks.report", "--step", step],
                cwd=scale_db.BASE_DIR,
                env={
                    **scale_db.django_env(size, VAR_DIR=var_dir, REDIS_URL=redis_url),
                    "PYTHONPATH": "scripts:.",
                },
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[step] = {**json.loads(output.strip().splitlines()[-1]), "load": _load()}
            print(f"    {results[step]}", flush=True)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        if not args.keep:
            scale_db.drop(size)

    print(f"\n==> on {size.orders:,} orders ({size.users:,} users, {size.products:,} products)")
    print(
        f"{'step':<64} {'seconds':>8} {'rows':>10} {'file MB':>8} {'RSS before MB':>14} {'peak RSS MB':>12}"
        f" {'load 1 min':>10} {'CPU s: Python':>13} {'PostgreSQL':>10}"
    )
    for step, result in results.items():
        print(
            f"{STEPS[step]:<64} {result['seconds']:8.1f} {result['rows']:>10,} {result['file_mb']:8.1f} "
            f"{result['rss_before_mb']:14.0f} {result['peak_rss_mb']:12.0f} {result['load']:>10}"
            f" {result['python_cpu']:13.1f} {result['db_cpu']:10.1f}"
        )
    print(
        "(CPU s: of the step's Python process and of its PostgreSQL backend, parallel workers not counted;"
        " wall seconds grow with the load average, CPU seconds barely)"
    )
    # Each "after" must write what its "before" did; the ratio is before / after, both of this run.
    befores = {
        "sales-live-python": "sales-live",
        "rollup-per-day": "rollup",
        "rollup-fk": "rollup",
        "sales-rolled-python": "sales-rolled",
        "export-python": "export",
    }
    pairs = {before: after for before, after in befores.items() if before in results and after in results}
    print()
    for before, after in pairs.items():
        ratio = results[before]["seconds"] / max(results[after]["seconds"], 1e-9)
        print(f"{STEPS[after]:<64} {ratio:5.1f}x as fast as: {STEPS[before]}")
    differ = [after for before, after in pairs.items() if results[before]["rows"] != results[after]["rows"]]
    if differ:
        print(f"FAILED: rows differ from the old path's in {', '.join(differ)}", file=sys.stderr)
        return 1
    return 0


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backend ``pid`` (the server is
    local: /proc); NaN where it cannot be read. Unlike wall time, it barely moves with the load."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


# The rollup table as it was before issue 18 part 2, for the "before" steps: a foreign key
# constraint on product_id (Django's: checked at commit, one lookup per row) and an index on it.
OLD_SCHEMA = [
    "ALTER TABLE orders_dailysales ADD CONSTRAINT bench_dailysales_product_fk FOREIGN KEY (product_id)"
    " REFERENCES products_product (id) DEFERRABLE INITIALLY DEFERRED",
    "CREATE INDEX bench_dailysales_product_idx ON orders_dailysales (product_id)",
]
NEW_SCHEMA = [
    "ALTER TABLE orders_dailysales DROP CONSTRAINT IF EXISTS bench_dailysales_product_fk",
    "DROP INDEX IF EXISTS bench_dailysales_product_idx",
]


def step(name: str) -> None:
    import django

    django.setup()
    from django.core.files.storage import default_storage
    from django.db import connection
    from django.utils import timezone

    from apps.orders import selectors as order_selectors
    from apps.orders import services as order_services
    from apps.orders.models import DailySales, DailySalesDay
    from apps.reports import services
    from apps.reports.models import Report
    from apps.users.models import User

    with connection.cursor() as cursor:
        cursor.execute("SELECT user_id FROM orders_order GROUP BY user_id ORDER BY count(*) DESC, 1 LIMIT 1")
        busiest = User.objects.get(pk=cursor.fetchone()[0])
    if name.startswith(("sales-live", "rollup")):  # from a clean slate, whatever an earlier step left
        DailySales.objects.all().delete()
        DailySalesDay.objects.all().delete()
    with connection.cursor() as cursor:
        for statement in NEW_SCHEMA + (OLD_SCHEMA if name in ("rollup-per-day", "rollup-fk") else []):
            cursor.execute(statement)
    start, end = order_selectors.first_order_day(), timezone.localdate()
    if name.startswith("sales"):
        report = Report.objects.create(kind=Report.Kind.SALES, requested_by=busiest, start=start, end=end)
    elif name.startswith("export"):
        report = Report.objects.create(kind=Report.Kind.ORDERS, requested_by=busiest)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    backend = connection.connection.info.backend_pid  # the step's queries run on this connection
    db_cpu, python_cpu = _backend_cpu(backend), time.process_time()
    started = time.perf_counter()
    if name.startswith("rollup"):
        per_statement = 1 if name == "rollup-per-day" else order_services.ROLLUP_DAYS_PER_STATEMENT
        rows = len(order_services.daily_sales_refresh(max_days=10_000, days_per_statement=per_statement))
    else:
        services.report_generate(report_id=report.pk, database_formats=not name.endswith("-python"))
    seconds = time.perf_counter() - started
    db_cpu, python_cpu = _backend_cpu(backend) - db_cpu, time.process_time() - python_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    file_mb = 0.0
    if not name.startswith("rollup"):
        report.refresh_from_db()
        assert report.status == Report.Status.DONE, report.status
        rows, file_mb = report.rows, default_storage.size(report.file) / 2**20
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": rows,
                "file_mb": file_mb,
                "rss_before_mb": rss_before / 1024,
                "peak_rss_mb": peak / 1024,
                "python_cpu": python_cpu,
                "db_cpu": db_cpu,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--step":
        step(sys.argv[2])
    else:
        sys.exit(main())
