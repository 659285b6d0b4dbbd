"""The reports over 1M orders: time and peak memory. The body of scripts/bench-report.

On the 1M-order database of bench-orders-list (headroom_bench_1m; seeded here when missing or
incomplete), each step runs in a fresh process (production settings, DEBUG off) that calls what
the job calls (apps.reports.services.report_generate, apps.orders.services.daily_sales_refresh),
and reports its wall time and its peak RSS (getrusage ru_maxrss), next to the RSS of the same
process before the step (Django and the app loaded):

1. the sales report over the whole 2 years with no rollup: every day aggregated live in SQL;
2. the daily rollup of those 2 years (the nightly job, for every day at once);
3. the same sales report again, now read from the rollup;
4. the orders export (CSV of every order line) of the busiest user.

The CSV files go to a temporary VAR_DIR, deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from benchmarks import scale_db

STEPS = {
    "sales-live": "sales report, 2 years, no rollup (live SQL aggregation)",
    "rollup": "daily rollup of the 2 years (refresh_daily_sales; rows = days)",
    "sales-rolled": "sales report, 2 years, from the rollup",
    "export": "orders export of the busiest user",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep headroom_bench_1m for the next run")
    args = parser.parse_args()

    size = scale_db.SIZES["1M"]
    scale_db.ensure(size, reuse=True)
    var_dir = tempfile.mkdtemp(prefix="headroom-bench-report-")
    results = {}
    try:
        for step in STEPS:
            print(f"==> {STEPS[step]}", flush=True)
            output = subprocess.run(
                [sys.executable, "-m", "benchmarks.report", "--step", step],
                cwd=scale_db.BASE_DIR,
                env={**scale_db.django_env(size, VAR_DIR=var_dir), "PYTHONPATH": "scripts:."},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[step] = json.loads(output.strip().splitlines()[-1])
            print(f"    {results[step]}", flush=True)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        if not args.keep:
            scale_db.drop(size)

    print(f"\n==> on {size.orders:,} orders ({size.users:,} users, {size.products:,} products)")
    print(f"{'step':<58} {'seconds':>8} {'rows':>10} {'file MB':>8} {'RSS before MB':>14} {'peak RSS MB':>12}")
    for step, result in results.items():
        print(
            f"{STEPS[step]:<58} {result['seconds']:8.1f} {result['rows']:>10,} {result['file_mb']:8.1f} "
            f"{result['rss_before_mb']:14.0f} {result['peak_rss_mb']:12.0f}"
        )
    return 0


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
    if name == "sales-live":  # from a clean slate, whatever an earlier run left
        DailySales.objects.all().delete()
        DailySalesDay.objects.all().delete()
    start, end = order_selectors.first_order_day(), timezone.localdate()
    if name in ("sales-live", "sales-rolled"):
        report = Report.objects.create(kind=Report.Kind.SALES, requested_by=busiest, start=start, end=end)
    elif name == "export":
        report = Report.objects.create(kind=Report.Kind.ORDERS, requested_by=busiest)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if name == "rollup":
        rows = len(order_services.daily_sales_refresh(max_days=10_000))
    else:
        services.report_generate(report_id=report.pk)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    file_mb = 0.0
    if name != "rollup":
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
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--step":
        step(sys.argv[2])
    else:
        sys.exit(main())
