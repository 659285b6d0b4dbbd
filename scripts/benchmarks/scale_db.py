"""Seeded PostgreSQL databases for the scale benchmarks (bench-orders-list, bench-report).

Each size gets a database of its own on the local PostgreSQL (127.0.0.1:5432, user postgres),
named headroom_bench_<size> (or a name of the caller's), migrated and filled by `manage.py
seed_scale`. With reuse=True a database that already holds the size's orders is used as it is
(seeding 1M orders takes ~40 s). With template=True the freshly seeded database is also copied
to <name>_template, and a later ensure() whose database is missing or altered copies it back
(CREATE DATABASE ... TEMPLATE: seconds, and the same rows every time) instead of seeding again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/6"  # this benchmark's Redis database; bench-cache uses 5


@dataclass(frozen=True)
class Size:
    label: str
    users: int
    products: int
    orders: int
    name: str = ""  # the database's name; headroom_bench_<label> if empty

    @property
    def database(self) -> str:
        return self.name or f"headroom_bench_{self.label.lower()}"

    @property
    def template(self) -> str:
        return f"{self.database}_template"

    @property
    def url(self) -> str:
        return f"{SERVER}/{self.database}"


SIZES = {
    "10k": Size("10k", users=1_000, products=1_000, orders=10_000),
    "1M": Size("1M", users=100_000, products=10_000, orders=1_000_000),
}


def django_env(size: Size, **extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off: no query log), on the size's database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": size.url,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:No directory at",  # whitenoise: no collected static files, none needed
        **extra,
    }
    env.pop("DATABASE_REPLICA_URLS", None)
    return env


def _admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _orders_in(size: Size, database: str = "") -> int | None:
    try:
        with psycopg.connect(f"{SERVER}/{database or size.database}", connect_timeout=3) as connection:
            return connection.execute("SELECT count(*) FROM orders_order").fetchone()[0]
    except psycopg.Error:
        return None


def ensure(size: Size, *, reuse: bool, template: bool = False) -> float | None:
    """The size's database, seeded; returns seed_scale's own "Done in" seconds, or None if reused
    or copied from its template."""
    if reuse and _orders_in(size) == size.orders:
        print(f"==> {size.database}: reusing its {size.orders:,} orders", flush=True)
        return None
    if template and _orders_in(size, size.template) == size.orders:
        print(f"==> {size.database}: copying {size.template}", flush=True)
        _admin(f'DROP DATABASE IF EXISTS "{size.database}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{size.database}" TEMPLATE "{size.template}"')
        return None
    print(f"==> {size.database}: creating, migrating and seeding {size.orders:,} orders", flush=True)
    _admin(f'DROP DATABASE IF EXISTS "{size.database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{size.database}"')
    python = str(BASE_DIR / ".venv" / "bin" / "python")
    env = django_env(size)
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    started = time.perf_counter()
    result = subprocess.run(
        [
            python,
            "manage.py",
            "seed_scale",
            f"--users={size.users}",
            f"--products={size.products}",
            f"--orders={size.orders}",
        ],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    sys.stdout.write(result.stdout)
    done = re.search(r"Done in ([0-9.]+) s", result.stdout)
    print(f"    seed_scale process: {wall:.1f} s wall, startup included", flush=True)
    # A VACUUM, as autovacuum would soon do: sets the visibility map, so plans read as in production.
    with psycopg.connect(size.url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    if template:
        print(f"    keeping a copy as {size.template}", flush=True)
        _admin(f'DROP DATABASE IF EXISTS "{size.template}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{size.template}" TEMPLATE "{size.database}"')
    return float(done.group(1)) if done else wall


def drop(size: Size) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{size.database}" WITH (FORCE)')
