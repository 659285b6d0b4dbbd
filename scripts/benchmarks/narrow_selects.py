"""Narrow selects against SELECT *: the body of scripts/bench-narrow-selects.

The list selectors read only the columns their serializers show (``only()``): the product list
leaves out ``description`` and ``updated_at`` (apps/products/selectors.py, CATALOG_COLUMNS), and
the orders list reads ``id, name`` of the products its items name (apps/orders/selectors.py).
This measures what that buys, on a database seeded with ``seed_scale`` whose products are then
given descriptions of 1-4 KB of text (seed_scale leaves them empty), for four lists:

- ``GET /api/v1/products/`` (the default page, 20) and ``?page_size=100``, anonymous;
- ``GET /api/v1/orders/`` (20) and ``?page_size=100``, as the user with the most orders.

Each list is measured **narrow** (the selectors as they are) and **wide** (the same querysets
without ``only()``: every column, as ``SELECT *`` reads them). The wide variant is made in this
process only, by swapping the selector functions the API views call
(``apps.products.selectors.products_for_catalog``, ``apps.orders.selectors.orders_for_user``);
no app code changes. Both variants must give the same JSON.

Per list and variant:

- **bytes fetched**: the rows of every query the request sends, as text (the size of each row's
  text form, ``octet_length(row::text)``: what psycopg receives in text mode), summed;
- **SQL fetch**: executing those queries and fetching every row through Django's connection
  (``cursor.execute`` + ``fetchall``; the rows decoded into Python values), repeated, and the
  server's own ``EXPLAIN ANALYZE`` execution time, which stops before the rows leave the
  executor: it neither detoasts nor sends the columns it returns;
- **request**: the whole request through Django's test client (middleware, auth, DRF,
  serialization; no HTTP server), query cache (cacheops) and response cache off
  (``CACHEOPS_ENABLED=false RESPONSE_CACHE_ENABLED=false``), ``DEBUG`` off.

Narrow and wide requests alternate one by one (which goes first swaps every round), so the
machine's other load falls on both alike. Prints medians, p95s and the wide / narrow ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import psycopg
import redis

from benchmarks import scale_db

REDIS_URL = "redis://127.0.0.1:6379/7"  # this benchmark's Redis database alone
SIZE = scale_db.Size("narrow", users=100_000, products=10_000, orders=1_000_000)  # headroom_bench_narrow
DESCRIPTION_BYTES = (1024, 4096)  # each product's description: uniform in this range
SEED = 7

WORDS = (
    "the a of and to with for in on is it this that our your all every new made from by as at "
    "cotton linen wool leather steel oak walnut ceramic glass recycled organic handmade durable light "
    "soft warm waterproof breathable compact sturdy classic modern everyday travel kitchen garden office "
    "outdoor indoor size colour fit care wash dry cool iron hand machine warranty year years delivery "
    "returns days free shipping order stock price quality design detail finish edge seam strap pocket "
    "zip handle lid base surface layer weight height width length cm kg ml capacity battery charge "
    "hours use battery-powered adjustable removable included set pack piece pair each comfortable "
    "easy clean store fold carry gift perfect ideal suitable dishwasher safe oven microwave natural "
    "materials sourced responsibly tested certified standard premium grade finish matte gloss brushed"
).split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30, help="requests per list and variant per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fetches", type=int, default=100, help="SQL fetches per list and variant")
    parser.add_argument("--orders", type=int, default=SIZE.orders, help="orders to seed (users: 1 per 10 orders)")
    parser.add_argument("--reuse", action="store_true", help="use an already-seeded headroom_bench_narrow")
    parser.add_argument("--keep", action="store_true", help="keep headroom_bench_narrow (for --reuse)")
    args = parser.parse_args()

    size = scale_db.Size("narrow", users=max(1, args.orders // 10), products=SIZE.products, orders=args.orders)
    began = time.perf_counter()
    load_before = os.getloadavg()
    redis.Redis.from_url(REDIS_URL).flushdb()  # its own database: nothing left from an earlier run
    try:
        seeding = _ensure(size, reuse=args.reuse)
        env = scale_db.django_env(
            size, REDIS_URL=REDIS_URL, CACHEOPS_ENABLED="false", RESPONSE_CACHE_ENABLED="false", PYTHONPATH="scripts:."
        )
        # The measuring runs in a process of its own, so that the seeding's memory is not in it.
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.narrow_selects",
                "--measure",
                json.dumps({"requests": args.requests, "rounds": args.rounds, "fetches": args.fetches}),
            ],
            cwd=scale_db.BASE_DIR,
            env=env,
            check=False,
        )
    finally:
        if not args.keep:
            scale_db.drop(size)
            redis.Redis.from_url(REDIS_URL).flushdb()
    load_after = os.getloadavg()
    if seeding is not None:
        print(f"seeding: {seeding:.1f} s (seed_scale, descriptions, VACUUM ANALYZE)")
    print(
        f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
        f"whole run {time.perf_counter() - began:.0f} s"
    )
    return child.returncode


# --- seeding ---------------------------------------------------------------------------------------


def _ensure(size: scale_db.Size, *, reuse: bool) -> float | None:
    """The database, seeded, with descriptions; the seconds it took, or None if reused."""
    if reuse and _seeded(size):
        print(f"==> {size.database}: reusing it", flush=True)
        return None
    started = time.perf_counter()
    print(
        f"==> {size.database}: creating, migrating, seeding {size.users:,} users, "
        f"{size.products:,} products, {size.orders:,} orders",
        flush=True,
    )
    scale_db.drop(size)
    with psycopg.connect(f"{scale_db.SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{size.database}"')
    python = str(scale_db.BASE_DIR / ".venv" / "bin" / "python")
    env = scale_db.django_env(size, REDIS_URL=REDIS_URL)
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=scale_db.BASE_DIR, env=env, check=True)
    subprocess.run(
        [
            python,
            "manage.py",
            "seed_scale",
            f"--users={size.users}",
            f"--products={size.products}",
            f"--orders={size.orders}",
        ],
        cwd=scale_db.BASE_DIR,
        env=env,
        check=True,
    )
    began = time.perf_counter()
    with psycopg.connect(size.url, autocommit=True) as connection:
        _describe_products(connection)
        print(f"{'descriptions written':<50} {time.perf_counter() - began:6.1f} s", flush=True)
        began = time.perf_counter()
        connection.execute("VACUUM ANALYZE")  # as autovacuum soon would: plans read as in production
        print(f"{'VACUUM ANALYZE':<50} {time.perf_counter() - began:6.1f} s", flush=True)
    return time.perf_counter() - started


def _seeded(size: scale_db.Size) -> bool:
    try:
        with psycopg.connect(size.url, connect_timeout=3) as connection:
            orders, described = connection.execute(
                "SELECT (SELECT count(*) FROM orders_order),"
                " (SELECT count(*) FROM products_product WHERE description <> '')"
            ).fetchone()
            return orders == size.orders and described > 0
    except psycopg.Error:
        return False


def _describe_products(connection: psycopg.Connection) -> None:
    """Gives every product a description of 1-4 KB of product-like prose (sentences of words drawn
    from a small vocabulary: it compresses about as well as real text)."""
    rng = random.Random(SEED)
    ids = [row[0] for row in connection.execute("SELECT id FROM products_product ORDER BY id")]
    connection.execute("CREATE TEMPORARY TABLE descriptions (id bigint PRIMARY KEY, description text)")
    with connection.cursor().copy("COPY descriptions (id, description) FROM STDIN") as copy:
        for product_id in ids:
            copy.write_row((product_id, _description(rng, rng.randint(*DESCRIPTION_BYTES))))
    connection.execute(
        "UPDATE products_product AS p SET description = d.description FROM descriptions AS d WHERE d.id = p.id"
    )
    connection.execute("DROP TABLE descriptions")


def _description(rng: random.Random, length: int) -> str:
    sentences, total = [], 0
    while total < length:
        words = rng.choices(WORDS, k=rng.randint(6, 18))
        sentence = " ".join(words).capitalize() + "."
        sentences.append(sentence)
        total += len(sentence) + 1
    return " ".join(sentences)[:length]


# --- measuring (in the child process, Django set up) -------------------------------------------------


def measure(options: dict[str, int]) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Prefetch
    from django.test import Client

    from apps.orders import selectors as order_selectors
    from apps.orders.models import Order, OrderItem
    from apps.products import selectors as product_selectors
    from apps.products.models import Product
    from apps.users import services as user_services
    from apps.users.models import User

    assert not settings.CACHEOPS_ENABLED and not settings.RESPONSE_CACHE_ENABLED and not settings.DEBUG

    narrow_products = product_selectors.products_for_catalog
    narrow_orders = order_selectors.orders_for_user

    def wide_products():
        return narrow_products().defer(None)  # defer(None) also clears only(): every column

    def wide_orders(*, user):
        return Order.objects.filter(user=user).prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.all()),
            Prefetch("items__product", queryset=Product.objects.nocache().all()),
        )

    def use(variant: str) -> None:
        product_selectors.products_for_catalog = narrow_products if variant == "narrow" else wide_products
        order_selectors.orders_for_user = narrow_orders if variant == "narrow" else wide_orders

    with connection.cursor() as cursor:
        cursor.execute("SELECT user_id, count(*) FROM orders_order GROUP BY user_id ORDER BY 2 DESC, 1 LIMIT 1")
        user_id, user_orders = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), avg(octet_length(description)), avg(pg_column_size(description)),"
            " pg_relation_size('products_product'),"
            " pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE relname = 'products_product'))"
            " FROM products_product"
        )
        products, text_bytes, stored_bytes, heap, toast = cursor.fetchone()
    print(
        f"==> {products:,} products, descriptions {text_bytes:,.0f} bytes on average "
        f"({stored_bytes:,.0f} stored, compressed); products heap {heap / 2**20:.1f} MiB, "
        f"TOAST {toast / 2**20:.1f} MiB",
        flush=True,
    )
    print(f"==> orders list as user {user_id} ({user_orders:,} orders)", flush=True)
    _token, key = user_services.api_token_create(user=User.objects.get(pk=user_id), label="benchmark: narrow selects")
    anonymous = Client()
    signed_in = Client(HTTP_AUTHORIZATION=f"Token {key}")
    targets = {
        "products, 20 (default)": (anonymous, "/api/v1/products/"),
        "products, page_size=100": (anonymous, "/api/v1/products/?page_size=100"),
        "orders, 20 (default)": (signed_in, "/api/v1/orders/"),
        "orders, page_size=100": (signed_in, "/api/v1/orders/?page_size=100"),
    }

    # The queries each request sends, and the same JSON from both variants.
    queries: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for name, (client, url) in targets.items():
        bodies = {}
        for variant in ("narrow", "wide"):
            use(variant)
            sent: list[tuple[str, Any]] = []

            def record(execute, sql, params, many, context, sent=sent):
                sent.append((sql, params))
                return execute(sql, params, many, context)

            with connection.execute_wrapper(record):
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            bodies[variant] = response.content
            # the token lookup is the same in both and not the list's: leave it out
            queries[(name, variant)] = [(sql, params) for sql, params in sent if "users_apitoken" not in sql]
        assert bodies["narrow"] == bodies["wide"], f"{name}: the two variants answer differently"
    use("narrow")

    # Bytes, and EXPLAIN ANALYZE, per request.
    sizes: dict[tuple[str, str], tuple[int, int, int]] = {}
    explained: dict[tuple[str, str], float] = {}
    with connection.cursor() as cursor:
        for key, sent in queries.items():
            rows = columns = text = 0
            for sql, params in sent:
                cursor.execute(f"SELECT count(*), coalesce(sum(octet_length(t::text)), 0) FROM ({sql}) AS t", params)
                count, length = cursor.fetchone()
                cursor.execute(f"SELECT * FROM ({sql}) AS t LIMIT 0", params)
                rows, columns, text = rows + count, columns + len(cursor.description), text + length
            sizes[key] = (rows, columns, text)
            times = []
            for _ in range(10):
                total = 0.0
                for sql, params in sent:
                    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                    plan = cursor.fetchone()[0]
                    plan = json.loads(plan) if isinstance(plan, str) else plan
                    total += plan[0]["Execution Time"]
                times.append(total)
            explained[key] = statistics.median(times)

    # SQL fetch: execute + fetchall of each request's queries, narrow and wide alternating.
    fetch: dict[tuple[str, str], list[float]] = {key: [] for key in queries}
    with connection.cursor() as cursor:
        for number in range(options["fetches"]):
            for name in targets:
                variants = ("narrow", "wide") if number % 2 == 0 else ("wide", "narrow")
                for variant in variants:
                    started = time.perf_counter()
                    for sql, params in queries[(name, variant)]:
                        cursor.execute(sql, params)
                        cursor.fetchall()
                    fetch[(name, variant)].append((time.perf_counter() - started) * 1000)

    # Whole requests.
    requests: dict[tuple[str, str], list[float]] = {key: [] for key in queries}
    for client, url in targets.values():  # warm-up
        for variant in ("narrow", "wide"):
            use(variant)
            for _ in range(5):
                client.get(url)
    gc.collect()
    for number in range(options["rounds"]):
        for name, (client, url) in targets.items():
            for index in range(options["requests"]):
                variants = ("narrow", "wide") if (number + index) % 2 == 0 else ("wide", "narrow")
                for variant in variants:
                    use(variant)
                    started = time.perf_counter()
                    response = client.get(url)
                    requests[(name, variant)].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
        print(f"    round {number + 1}/{options['rounds']} done", flush=True)
    use("narrow")

    _print(targets, sizes, explained, fetch, requests)
    return 0


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _print(targets, sizes, explained, fetch, requests) -> None:
    count = len(next(iter(requests.values())))
    fetches = len(next(iter(fetch.values())))
    print("\n==> bytes fetched per request (each row's text form, all the list's queries; the token lookup left out)")
    print(
        f"{'list':<26} {'rows':>5} {'narrow cols':>11} {'wide cols':>9} {'narrow KB':>10} {'wide KB':>9}"
        f" {'wide/narrow':>11}"
    )
    for name in targets:
        rows, narrow_columns, narrow_bytes = sizes[(name, "narrow")]
        _, wide_columns, wide_bytes = sizes[(name, "wide")]
        print(
            f"{name:<26} {rows:>5} {narrow_columns:>11} {wide_columns:>9} {narrow_bytes / 1000:>10.1f} "
            f"{wide_bytes / 1000:>9.1f} {wide_bytes / narrow_bytes:>10.1f}x"
        )

    print(
        f"\n==> SQL: execute + fetchall of the list's queries, {fetches} times each (ms); "
        f"EXPLAIN ANALYZE execution time, median of 10 (ms)"
    )
    print(
        f"{'list':<26} {'narrow med':>10} {'p95':>7} {'wide med':>9} {'p95':>7} {'wide/narrow med':>15} "
        f"{'p95':>6} {'EXPLAIN n / w':>15}"
    )
    for name in targets:
        _row(
            name,
            fetch[(name, "narrow")],
            fetch[(name, "wide")],
            f"{explained[(name, 'narrow')]:.2f} / {explained[(name, 'wide')]:.2f}",
        )

    print(f"\n==> whole request through Django's test client, caches off, {count} requests each (ms)")
    print(f"{'list':<26} {'narrow med':>10} {'p95':>7} {'wide med':>9} {'p95':>7} {'wide/narrow med':>15} {'p95':>6}")
    for name in targets:
        _row(name, requests[(name, "narrow")], requests[(name, "wide")], "")


def _row(name: str, narrow: list[float], wide: list[float], extra: str) -> None:
    narrow_median, wide_median = statistics.median(narrow), statistics.median(wide)
    print(
        f"{name:<26} {narrow_median:>10.2f} {_p95(narrow):>7.2f} {wide_median:>9.2f} {_p95(wide):>7.2f} "
        f"{wide_median / narrow_median:>14.2f}x {_p95(wide) / _p95(narrow):>5.2f}x {extra:>15}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        sys.exit(measure(json.loads(sys.argv[2])))
    sys.exit(main())
