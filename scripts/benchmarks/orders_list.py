"""The orders list at 10k orders against 1M orders: the body of scripts/bench-orders-list.

Seeds two databases with seed_scale (benchmarks/scale_db.py), then one process per database
serves requests to GET /api/v1/orders/ through Django's test client (the whole stack: middleware,
token auth, DRF, the selector's three queries, serialization), production settings, DEBUG off.
Each process signs in as its database's busiest user (the most orders) and times two URLs: the
first page, and a deep keyset page, 90% of the way through that user's orders. The two
processes take turns, round by round, so the machine's other load falls on both alike.
Prints the median and p95 of each and the ratio of the p95s, 1M over 10k; goal <= 1.5x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from benchmarks import scale_db

GOAL_RATIO = 1.5
PAGE_SIZE = 20  # the API's default


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50, help="requests per URL per round")
    parser.add_argument("--reuse", action="store_true", help="use already-seeded headroom_bench_* databases")
    parser.add_argument("--keep", action="store_true", help="keep the databases (bench-report --reuse reads 1M)")
    args = parser.parse_args()

    sizes = [scale_db.SIZES["10k"], scale_db.SIZES["1M"]]
    seeding = {size.label: scale_db.ensure(size, reuse=args.reuse) for size in sizes}
    servers = {size.label: _Server(size) for size in sizes}
    try:
        for label, server in servers.items():
            info = server.info
            print(
                f"==> {label}: busiest user {info['user_id']} has {info['user_orders']:,} orders; "
                f"deep page = page {info['deep_page']} (orders {info['deep_offset']:,}+)",
                flush=True,
            )
        for server in servers.values():
            server.round(requests=10)  # warm-up: connections, caches, code paths
        timings = {(label, page): [] for label in servers for page in ("first", "deep")}
        for number in range(1, args.rounds + 1):
            for label, server in servers.items():
                for page, values in server.round(requests=args.requests).items():
                    timings[(label, page)] += values
            print(f"    round {number}/{args.rounds} done", flush=True)
    finally:
        for server in servers.values():
            server.close()
        if not args.keep:
            for size in sizes:
                scale_db.drop(size)

    return _print(timings, seeding, requests=args.rounds * args.requests)


class _Server:
    """A child process on one database: `python -m benchmarks.orders_list --serve <label>`."""

    def __init__(self, size: scale_db.Size) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.orders_list", "--serve", size.label],
            cwd=scale_db.BASE_DIR,
            env={**scale_db.django_env(size), "PYTHONPATH": "scripts:."},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = self._reply()

    def round(self, *, requests: int) -> dict[str, list[float]]:
        self.process.stdin.write(f"{requests}\n")
        self.process.stdin.flush()
        return self._reply()

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the measuring process exited with status {self.process.wait()}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def serve(label: str) -> None:
    """In the child: sign in as the busiest user, find the deep page, then time rounds on demand."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from apps.users import services as user_services
    from apps.users.models import User

    with connection.cursor() as cursor:
        cursor.execute("SELECT user_id, count(*) FROM orders_order GROUP BY user_id ORDER BY 2 DESC, 1 LIMIT 1")
        user_id, user_orders = cursor.fetchone()
    _token, key = user_services.api_token_create(user=User.objects.get(pk=user_id), label="benchmark: orders list")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    first = "/api/v1/orders/"
    deep_page = max(2, int(user_orders / PAGE_SIZE * 0.9))
    deep = first
    for _ in range(deep_page - 1):  # walk the next links: a cursor is opaque
        deep = client.get(deep).json()["next"]
    for url in (first, deep):
        response = client.get(url)
        assert response.status_code == 200 and len(response.json()["results"]) == PAGE_SIZE, response.content[:300]
    _send(
        {
            "user_id": user_id,
            "user_orders": user_orders,
            "deep_page": deep_page,
            "deep_offset": (deep_page - 1) * PAGE_SIZE,
        }
    )

    for line in sys.stdin:
        requests = int(line)
        timings: dict[str, list[float]] = {"first": [], "deep": []}
        for _ in range(requests):
            for page, url in (("first", first), ("deep", deep)):
                started = time.perf_counter()
                response = client.get(url)
                timings[page].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code}")
        _send(timings)


def _send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _print(timings: dict[tuple[str, str], list[float]], seeding: dict[str, float | None], *, requests: int) -> int:
    print(f"\n==> GET /api/v1/orders/ as the busiest user, {requests} requests per row (ms)")
    print(f"{'orders':>8} {'page':>6} {'median':>8} {'p95':>8}")
    for (label, page), values in timings.items():
        print(f"{label:>8} {page:>6} {statistics.median(values):8.2f} {_p95(values):8.2f}")
    met = True
    for page in ("first", "deep"):
        ratio = _p95(timings[("1M", page)]) / _p95(timings[("10k", page)])
        met = met and ratio <= GOAL_RATIO
        print(
            f"p95 1M / p95 10k, {page} page: {ratio:.2f}x (goal <= {GOAL_RATIO}x): {'met' if ratio <= GOAL_RATIO else 'MISSED'}"
        )
    for label, seconds in seeding.items():
        if seconds is not None:
            print(f"seed_scale {label}: {seconds:.1f} s")
    return 0 if met else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        sys.exit(main())
