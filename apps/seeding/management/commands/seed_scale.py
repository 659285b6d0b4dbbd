"""`manage.py seed_scale`: users, a catalog and orders at the size the kit claims to serve.

    python manage.py seed_scale --users 100000 --products 10000 --orders 1000000

On PostgreSQL every table is written with COPY; elsewhere (SQLite) with bulk_create, for small
numbers. The shapes are those of a real shop: 1-5 items per order, orders spread over the last
2 years, and a few users (drawn with a Zipf-like skew) with thousands of orders each. New rows
take ids after the existing ones, so it runs on a database that already has data; it is not
idempotent: each run adds more. Every seeded account has the password SEED_PASSWORD.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cacheops import invalidate_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import F, Max, Model
from django.utils import timezone

from apps.orders.models import DailySalesDay, Order, OrderItem
from apps.products.models import Category, Product
from apps.seeding.base import SeedCommand
from apps.users.models import User

SEED_PASSWORD = "headroom-scale-pass"
SPAN = timedelta(days=730)
# Zipf exponent of the draw of a user per order (and of a product per line): at 100k users and
# 1M orders the busiest user has ~10k orders, the 100th ~400, the median a handful.
SKEW = 0.7
PRODUCTS_PER_CATEGORY = 200
# Rows per bulk_create (SQLite) and per chunk written to COPY (PostgreSQL).
BATCH_SIZE = 5000
STATUSES = (Order.Status.PAID, Order.Status.PENDING, Order.Status.CANCELLED)
STATUS_WEIGHTS = (85, 10, 5)


class Command(SeedCommand):
    help = "Add many users, products and orders (COPY on PostgreSQL) for measuring at scale; never in production."
    production_refusal = "seed_scale fills the database with fake accounts and orders"

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--products", type=int, default=100)
        parser.add_argument("--orders", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=7, help="random seed: the same numbers give the same data")

    def handle(self, *args, users: int, products: int, orders: int, seed: int, **options) -> None:
        if users < 1 or products < 1 or orders < 0:
            raise CommandError("--users and --products must be at least 1, --orders at least 0.")
        started = time.perf_counter()
        on_postgresql = connection.vendor == "postgresql"
        writer = _copy_rows if on_postgresql else _bulk_create_rows
        plan = _Plan(rng=random.Random(seed), now=timezone.now())
        with transaction.atomic():
            start = {model: _next_id(model) for model in (User, Category, Product, Order, OrderItem)}
            categories = max(1, products // PRODUCTS_PER_CATEGORY)
            if on_postgresql:  # before any COPY: a key cannot be dropped while rows of this transaction await its check
                rebuilt = self._timed("foreign keys and indexes of orders dropped", _drop_order_keys_and_indexes)
            steps = [
                (User, users, lambda: plan.users(first_id=start[User], count=users)),
                (Category, categories, lambda: plan.categories(first_id=start[Category], count=categories)),
                (
                    Product,
                    products,
                    lambda: plan.products(
                        first_id=start[Product],
                        count=products,
                        first_category_id=start[Category],
                        categories=categories,
                    ),
                ),
            ]
            for model, count, rows in steps:
                self._timed(
                    f"{model._meta.db_table}: {count:,} rows", lambda model=model, rows=rows: writer(model, rows())
                )
            order_rows, item_rows = self._timed(
                f"generating {orders:,} orders and their items",
                lambda: plan.orders(
                    first_id=start[Order],
                    count=orders,
                    first_item_id=start[OrderItem],
                    user_ids=range(start[User], start[User] + users),
                    product_ids=range(start[Product], start[Product] + products),
                ),
            )
            self._timed(f"orders_order: {orders:,} rows", lambda: writer(Order, order_rows))
            self._timed(f"orders_orderitem: {len(item_rows):,} rows", lambda: writer(OrderItem, item_rows))
            # The new orders fall on days that may already be rolled up: those rollups are stale now.
            DailySalesDay.objects.update(version=F("version") + 1)
            if on_postgresql:
                self._timed("foreign keys and indexes of orders rebuilt", lambda: _rebuild(rebuilt))
                self._timed("sequences reset and tables analyzed", _reset_sequences_and_analyze)
        # COPY and bulk_create send no signal: drop what the query and response caches hold.
        invalidate_model(Product)
        invalidate_model(Category)
        self.stdout.write(
            f"Done in {time.perf_counter() - started:.1f} s. Every seeded account's password: {SEED_PASSWORD}"
        )

    def _timed(self, label: str, step):
        began = time.perf_counter()
        result = step()
        self.stdout.write(f"{label:<50} {time.perf_counter() - began:6.1f} s")
        self.stdout.flush()
        return result


class _Plan:
    """The rows to write, as tuples in the tables' column order (see COLUMNS)."""

    def __init__(self, *, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now.timestamp()
        self.span = SPAN.total_seconds()
        self.prices: list[int] = []  # cents, by product position

    def users(self, *, first_id: int, count: int) -> Iterator[tuple]:
        password = make_password(SEED_PASSWORD)  # hashed once: every seeded account shares it
        joined_before = self.now - self.span
        for user_id in range(first_id, first_id + count):
            joined = joined_before - self.rng.random() * self.span / 2
            yield (user_id, password, f"scale-{user_id}@example.com", f"Scale user {user_id}", joined)

    def categories(self, *, first_id: int, count: int) -> Iterator[tuple]:
        for category_id in range(first_id, first_id + count):
            yield (category_id, f"Scale category {category_id}", f"scale-category-{category_id}")

    def products(self, *, first_id: int, count: int, first_category_id: int, categories: int) -> Iterator[tuple]:
        rng = self.rng
        self.prices = [int(rng.lognormvariate(8, 1)) + 100 for _ in range(count)]
        for offset, price in enumerate(self.prices):
            product_id = first_id + offset
            created = self.now - rng.random() * self.span
            yield (
                product_id,
                first_category_id + offset % categories,
                f"Scale product {product_id}",
                f"scale-product-{product_id}",
                price,
                rng.randrange(0, 500),
                rng.random() < 0.95,
                created,
            )

    def orders(
        self, *, first_id: int, count: int, first_item_id: int, user_ids: Sequence[int], product_ids: Sequence[int]
    ) -> tuple[list[tuple], list[tuple]]:
        """Orders in time order (ids grow with created_at, as in a real shop) and their items;
        each order's total is the sum of its items."""
        rng = self.rng
        order_users = _skewed_draw(rng, user_ids, count)
        created = sorted(self.now - rng.random() * self.span for _ in range(count))
        statuses = rng.choices(STATUSES, weights=STATUS_WEIGHTS, k=count)
        lines = rng.choices(range(1, 6), k=count)
        line_products = iter(_skewed_draw(rng, range(len(product_ids)), sum(lines)))
        quantities = iter(rng.choices((1, 1, 1, 2, 2, 3), k=sum(lines)))
        prices, first_product = self.prices, product_ids[0]
        orders: list[tuple] = []
        items: list[tuple] = []
        item_id = first_item_id
        for offset in range(count):
            order_id = first_id + offset
            total = 0
            for _ in range(lines[offset]):
                position, quantity = next(line_products), next(quantities)
                price = prices[position]
                total += price * quantity
                items.append((item_id, order_id, first_product + position, quantity, price))
                item_id += 1
            orders.append((order_id, order_users[offset], statuses[offset], total, created[offset]))
        return orders, items


def _skewed_draw(rng: random.Random, population: Sequence[int], count: int) -> list[int]:
    """``count`` draws from ``population`` where the item of rank r has weight 1/r**SKEW, the ranks
    shuffled so that the heavy users (or products) are not simply the lowest ids."""
    ranked = list(population)
    rng.shuffle(ranked)
    cum_weights = list(itertools.accumulate(1 / rank**SKEW for rank in range(1, len(ranked) + 1)))
    return rng.choices(ranked, cum_weights=cum_weights, k=count)


# Columns written, per model, in the order of the tuples of _Plan; money is in cents and times
# are Unix timestamps, converted by each writer.
COLUMNS: dict[type[Model], tuple[str, ...]] = {
    User: ("id", "password", "email", "name", "date_joined"),
    Category: ("id", "name", "slug"),
    Product: ("id", "category_id", "name", "slug", "price", "stock", "is_active", "created_at"),
    Order: ("id", "user_id", "status", "total", "created_at"),
    OrderItem: ("id", "order_id", "product_id", "quantity", "unit_price"),
}
MONEY = {"price", "total", "unit_price"}
TIMES = {"date_joined", "created_at"}
# Written with the same value as another column, or a constant, on both backends.
EXTRA: dict[type[Model], dict[str, str]] = {
    User: {"is_superuser": "f", "is_staff": "f", "is_active": "t"},
    Product: {"description": "", "updated_at": "=created_at"},
}


def _copy_rows(model: type[Model], rows: Iterable[tuple]) -> None:
    """COPY the rows in text format, in chunks of BATCH_SIZE lines."""
    columns = COLUMNS[model]
    extra = EXTRA.get(model, {})
    formats = [_text_format(column) for column in columns]
    extra_values = [
        (None, value) if not value.startswith("=") else (columns.index(value[1:]), None) for value in extra.values()
    ]
    sql = f"COPY {model._meta.db_table} ({', '.join((*columns, *extra))}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        chunk: list[str] = []
        for row in rows:
            texts = [fmt(value) for fmt, value in zip(formats, row, strict=True)]
            texts += [texts[index] if index is not None else value for index, value in extra_values]
            chunk.append("\t".join(texts))
            if len(chunk) == BATCH_SIZE:
                copy.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            copy.write("\n".join(chunk) + "\n")


def _text_format(column: str):
    if column in MONEY:
        return lambda cents: f"{cents // 100}.{cents % 100:02d}"
    if column in TIMES:
        return lambda stamp: datetime.fromtimestamp(stamp, UTC).isoformat()
    if column == "is_active":
        return lambda flag: "t" if flag else "f"
    return str


def _bulk_create_rows(model: type[Model], rows: Iterable[tuple]) -> None:
    columns = COLUMNS[model]
    extra = EXTRA.get(model, {})
    constants = {
        name: value == "t" if value in ("t", "f") else value
        for name, value in extra.items()
        if not value.startswith("=")
    }
    copies = {name: value[1:] for name, value in extra.items() if value.startswith("=")}
    rows = iter(rows)
    while batch := list(itertools.islice(rows, BATCH_SIZE)):
        objects = []
        for row in batch:
            fields = {column: _python_value(column, value) for column, value in zip(columns, row, strict=True)}
            fields.update(constants)
            fields.update({name: fields[source] for name, source in copies.items()})
            objects.append(model(**fields))
        model.objects.bulk_create(objects)
        dated = [field for field in ("created_at", "updated_at") if field in fields]
        if dated:  # bulk_create stamps auto_now(_add) fields with now: put back the planned dates
            for obj, row in zip(objects, batch, strict=True):
                obj.created_at = obj.updated_at = _python_value("created_at", row[columns.index("created_at")])
            model.objects.bulk_update(objects, dated)


def _python_value(column: str, value):
    if column in MONEY:
        return Decimal(value).scaleb(-2)
    if column in TIMES:
        return datetime.fromtimestamp(value, UTC)
    return value


def _next_id(model: type[Model]) -> int:
    return (model.objects.nocache().aggregate(last=Max("id"))["last"] or 0) + 1


def _drop_order_keys_and_indexes() -> list[str]:
    """On PostgreSQL, drop the foreign keys and secondary indexes of the order tables and return
    the statements that recreate them: checking and indexing millions of rows once, after COPY,
    is several times faster than row by row (the keys are deferred: checked at commit)."""
    tables = [Order._meta.db_table, OrderItem._meta.db_table]
    with connection.cursor() as cursor:
        # Check now what an enclosing transaction wrote: a key cannot be dropped while checks of it wait.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
            """,
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            """
            SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
            WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary AND NOT indisunique
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in keys
    ]


def _rebuild(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's keys are all initially deferred


def _reset_sequences_and_analyze() -> None:
    models = list(COLUMNS)
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        # Rows COPYed into a table with a GIN index (the products' trigram index) wait in the index's
        # pending list until a VACUUM, which cannot run in this transaction; until then the planner
        # prices the index so high that it reads the whole table instead. Merge them in now.
        cursor.execute(
            """
            SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            WHERE am.amname = 'gin' AND i.indrelid = ANY(%s::regclass[])
            """,
            [[model._meta.db_table for model in models]],
        )
        for model in models:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
