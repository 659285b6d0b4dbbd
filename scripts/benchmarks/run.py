"""The cache benchmark; run it through scripts/bench-cache (docs/performance.md shows a run).

It creates and seeds a PostgreSQL database, starts production-like gunicorns on loopback ports
(both caches on; both off; the caches on and the metrics off; and the reference: the same Django
with no middleware and one JsonResponse view, benchmarks/minimal_settings.py), checks that each
target answers what it should (and that the cached ones are cache hits), counts each target's SQL
queries, then measures every target with wrk in interleaved rounds and prints requests per second,
p99 latency and the workers' CPU time per request, each also as a ratio to the reference measured
in the same round. All traffic is loopback.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import django
import gunicorn
import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
# The checkout whose code the servers run: this one, or another commit's (--code, for a before/after).
CODE = ROOT
LOG_DIR = ROOT / "var" / "bench"
WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
VENV_BIN = Path(sys.executable).parent

HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# BENCH_DATABASE and BENCH_REDIS_URL let two runs on one machine keep apart.
DATABASE_NAME = os.environ.get("BENCH_DATABASE", "headroom_bench")
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
PG_BENCH_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE_NAME}"  # the same, as psycopg spells it
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")  # a database of its own, flushed first

CATEGORIES = 20
CATALOG_PATH = "/products/"  # the catalog page, anonymous: declared response-cached (apps/products/caching.py)
# The reference server's application: Django's own WSGI handler on benchmarks.minimal_settings.
REFERENCE_APP = "django.core.wsgi:get_wsgi_application()"
PRODUCTS = 1000
DETAIL_IDS = 100  # product detail requests rotate over this many products

# Ratios of requests per second to the reference (minimal Django) measured in the same round.
GOAL_ANONYMOUS_CACHED = 0.85  # cached product detail and list, the cached catalog page
GOAL_USERS_ME = 0.4
GOAL_ORDERS = 0.25
GOAL_LIST_VS_NAIVE = 10.0
GOAL_METRICS_COST = 0.03  # the share of a cached hot read's requests per second the metrics may take


@dataclass(frozen=True)
class Profile:
    threads: int
    connections: int
    warmup_seconds: int
    run_seconds: int
    rounds: int
    sql_probe_requests: int


FULL = Profile(threads=2, connections=32, warmup_seconds=2, run_seconds=3, rounds=5, sql_probe_requests=40)
SMOKE = Profile(threads=1, connections=4, warmup_seconds=0, run_seconds=1, rounds=1, sql_probe_requests=5)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path


@dataclass
class Target:
    key: str
    label: str
    server: str  # "reference", "cached", "uncached" or "cached-no-metrics"
    paths: list[str]
    headers: list[str] = field(default_factory=list)  # "Name: value", sent with each request
    runs: list[dict] = field(default_factory=list)
    sql_per_request: float | None = None

    @property
    def rps(self) -> float:
        return statistics.median(run["rps"] for run in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(run["p99_us"] for run in self.runs) / 1000

    def rps_ratio_to(self, other: Target) -> float:
        """Median over rounds of this target's rps over the other's in the same round: runs close
        in time share whatever else the machine is doing, so their ratio is steadier than the rps."""
        return statistics.median(
            mine["rps"] / theirs["rps"] for mine, theirs in zip(self.runs, other.runs, strict=True)
        )

    def cpu_ratio_to(self, other: Target) -> float:
        """The other's CPU per request over this one's: like rps_ratio_to, above 1 means cheaper."""
        return other.cpu_us / self.cpu_us

    @property
    def cpu_us(self) -> float:
        """The gunicorn workers' CPU time per request: other load on the machine moves it far less than rps."""
        return statistics.median(run["cpu_us"] for run in self.runs)


class BenchError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Headroom's cache benchmark (docs/performance.md).")
    parser.add_argument("--smoke", action="store_true", help="about 1 s per target with few connections (CI)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after measuring, sample each target's workers with py-spy: where a request's time goes (benchmarks/profile.py)",
    )
    parser.add_argument(
        "--code",
        type=Path,
        help="run the servers from this checkout (e.g. a worktree of an older commit), for a before/after",
    )
    args = parser.parse_args()
    profile = SMOKE if args.smoke else FULL
    global CODE
    if args.code:
        CODE = args.code.resolve()
        say(f"the servers run the code in {CODE}")

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print_machine()
    base_env = server_environment()
    token = prepare_database(base_env)
    try:  # the database goes whatever happens, a failure or a SIGTERM included
        flush_redis()
        targets, sessions_opened, boots = benchmark(base_env, profile, token, profiling=args.profile)
    finally:
        drop_database()
    print_results(targets, profile, sessions_opened=sessions_opened, boots=boots, smoke=args.smoke)
    print("load average after the run: " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    say(f"done in {time.monotonic() - started:.0f} s; gunicorn logs in {LOG_DIR.relative_to(ROOT)}/")
    return 0


def benchmark(
    base_env: dict[str, str], profile: Profile, token: str, *, profiling: bool = False
) -> tuple[list[Target], int, dict[str, int]]:
    """The servers up, every target checked and measured; the servers are stopped on the way out."""
    # The reference: the same Django and gunicorn, no app, no middleware, one JsonResponse view.
    reference_env = {**base_env, "DJANGO_SETTINGS_MODULE": "benchmarks.minimal_settings"}
    cached_env = base_env
    uncached_env = {**base_env, "RESPONSE_CACHE_ENABLED": "false", "CACHEOPS_ENABLED": "false"}
    # The same as "cached" without the Prometheus metrics: what they cost (docs/observability.md).
    no_metrics_env = {**base_env, "METRICS_ENABLED": "false"}
    with (
        running_server("reference", reference_env, app=REFERENCE_APP) as reference,
        running_server("cached", cached_env) as cached,
        running_server("uncached", uncached_env) as uncached,
        running_server("cached-no-metrics", no_metrics_env) as no_metrics,
    ):
        servers = {"reference": reference, "cached": cached, "uncached": uncached, "cached-no-metrics": no_metrics}
        signed_in = [f"Authorization: Token {token}"]
        detail_paths = [f"/api/v1/products/{product_id}/" for product_id in product_ids(DETAIL_IDS)]
        # In each round the targets run in this order: the two pairs the goals compare run back to back.
        targets = [
            Target(
                "reference",
                "minimal Django: no middleware, a JsonResponse view (the reference)",
                "reference",
                ["/bench/bare"],
            ),
            Target("bare", "the same view behind the kit's middleware", "cached", ["/bench/bare"]),
            Target("healthz", "/healthz", "cached", ["/healthz"]),
            Target("detail-cached", "product detail, cached", "cached", detail_paths),
            Target("detail-no-metrics", "product detail, cached, metrics off", "cached-no-metrics", detail_paths),
            Target("detail-uncached", "product detail, uncached", "uncached", detail_paths),
            Target("list-cached", "product list, API, cached", "cached", ["/api/v1/products/"]),
            Target("list-no-metrics", "product list, cached, metrics off", "cached-no-metrics", ["/api/v1/products/"]),
            Target("list-naive", "product list, naive (N+1, no cache)", "uncached", ["/bench/naive-products/"]),
            Target("list-uncached", "product list, API, uncached", "uncached", ["/api/v1/products/"]),
            Target("catalog-cached", "catalog page (HTML), anonymous, cached", "cached", [CATALOG_PATH]),
            Target("catalog-no-metrics", "catalog page, cached, metrics off", "cached-no-metrics", [CATALOG_PATH]),
            Target("users-me", "GET /api/v1/users/me/, token", "cached", ["/api/v1/users/me/"], signed_in),
            Target("orders", "GET /api/v1/orders/, token (3 orders)", "cached", ["/api/v1/orders/"], signed_in),
        ]
        check_targets(servers, detail_paths, signed_in)
        count_queries(
            targets,
            {"cached": cached_env, "uncached": uncached_env, "cached-no-metrics": no_metrics_env},
            profile.sql_probe_requests,
        )
        sessions_before = pg_sessions_opened()
        measure(servers, targets, profile)
        sessions_opened = pg_sessions_opened() - sessions_before
        boots = {name: worker_boots(server) for name, server in servers.items()}
        if profiling:
            profile_targets(servers, targets, seconds=2 if profile is SMOKE else PROFILE_SECONDS)
    return targets, sessions_opened, boots


# --- the machine -----------------------------------------------------------------------------


def print_machine() -> None:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
    with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as connection:
        pg_version = connection.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(REDIS_URL, socket_timeout=5).info("server")["redis_version"]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10).stdout.split(" Copyright")[
        0
    ]
    cpus = len(os.sched_getaffinity(0))
    say("machine")
    print(f"    cpus: {cpus} x {cpu_model}")
    print(
        f"    memory: {mem_kib / 1024 / 1024:.1f} GiB; load average before the run: "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    print(
        f"    Python {platform.python_version()}, Django {django.__version__}, gunicorn {gunicorn.__version__}, "
        f"PostgreSQL {pg_version.split()[0]}, Redis {redis_version}, {wrk_version.strip()}"
    )
    if os.getloadavg()[0] > cpus / 2:
        print("    the machine is busy: rps will move from round to round; the CPU per request much less")


# --- data ------------------------------------------------------------------------------------


def server_environment() -> dict[str, str]:
    """Production settings on loopback services; scripts/ on the path for benchmarks.settings."""
    # The API serves no static file; an empty STATIC_ROOT keeps whitenoise from warning about it.
    (LOG_DIR / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "scripts"), str(CODE)]),
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "VAR_DIR": str(LOG_DIR / "var"),
        "WEB_CONCURRENCY": "3",
        # config/gunicorn.conf.py recycles a worker every ~2000 requests; at these rates that is a
        # re-import of Django every second or two, which would dominate p99 (docs/performance.md).
        # GUNICORN_MAX_REQUESTS=2000 ./scripts/bench-cache measures with it.
        "GUNICORN_MAX_REQUESTS": os.environ.get("GUNICORN_MAX_REQUESTS", "0"),
        "LOG_LEVEL": "WARNING",
    }


def run_checked(command: list[str], env: dict[str, str], timeout: float) -> None:
    result = subprocess.run(command, cwd=CODE, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    if result.stdout.strip():
        print(f"    {result.stdout.strip()}")


def prepare_database(env: dict[str, str]) -> str:
    """Returns the API token of the seeded user with orders."""
    say(
        f"creating the database {DATABASE_NAME} (dropped first), migrating, seeding "
        f"{CATEGORIES} categories and {PRODUCTS} products"
    )
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE_NAME}")
    python = str(VENV_BIN / "python")
    run_checked([python, "manage.py", "migrate", "--no-input", "-v", "0"], env, timeout=180)
    token_file = LOG_DIR / "token"
    run_checked(
        [
            python,
            "-m",
            "benchmarks.seed",
            "--categories",
            str(CATEGORIES),
            "--products",
            str(PRODUCTS),
            "--token-file",
            str(token_file),
        ],
        env,
        timeout=120,
    )
    with psycopg.connect(PG_BENCH_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute("ANALYZE")
    token = token_file.read_text().strip()
    token_file.unlink()
    return token


def drop_database() -> None:
    say(f"dropping the database {DATABASE_NAME}")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")


def flush_redis() -> None:
    say(f"flushing {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL, socket_timeout=5).flushdb()


def product_ids(count: int) -> list[int]:
    with psycopg.connect(PG_BENCH_URL, connect_timeout=5) as connection:
        rows = connection.execute("SELECT id FROM products_product ORDER BY id LIMIT %s", (count,)).fetchall()
    return [row[0] for row in rows]


def pg_sessions_opened() -> int:
    """Connections opened to the benchmark database so far (backends report within a second or so)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
    return row[0]


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(name: str, env: dict[str, str], app: str = "project.wsgi") -> Iterator[Server]:
    port = free_port()
    log_path = LOG_DIR / f"gunicorn-{name}.log"
    say(
        f"starting gunicorn '{name}' on {HOST}:{port} (config/gunicorn.conf.py, WEB_CONCURRENCY=3, "
        f"GUNICORN_MAX_REQUESTS={env['GUNICORN_MAX_REQUESTS']}, log {log_path.relative_to(ROOT)})"
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            # No control socket: both servers would share its default path.
            [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "--no-control-socket", app],
            cwd=CODE,
            env={**env, "GUNICORN_BIND": f"{HOST}:{port}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stopping it stops its workers
        )
    server = Server(name=name, port=port, process=process, log_path=log_path)
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop(server)


def wait_until_ready(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"gunicorn '{server.name}' exited:\n{log_tail(server)}")
        try:
            if get(server, "/bench/bare").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn '{server.name}' did not answer within {timeout:.0f} s:\n{log_tail(server)}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=5)


def log_tail(server: Server, lines: int = 30) -> str:
    return "\n".join(server.log_path.read_text(errors="replace").splitlines()[-lines:])


def worker_boots(server: Server) -> int:
    return server.log_path.read_text(errors="replace").count("Booting worker with pid")


def workers_cpu_seconds(server: Server) -> float:
    """CPU time of the server's workers so far, recycled ones included (from Linux's /proc)."""
    master = server.process.pid
    fields = _proc_stat(master)
    total = int(fields[13]) + int(fields[14])  # cutime + cstime: the workers that have exited
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        try:
            fields = _proc_stat(int(child))
        except FileNotFoundError:
            continue  # exited just now: counted in cutime from the next reading on
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # fields 3 onwards


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def get(server: Server, path: str, headers: list[str] = ()) -> Reply:
    # As behind a TLS-terminating proxy: production redirects plain http to https otherwise.
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request(
            "GET",
            path,
            headers={"X-Forwarded-Proto": "https", **dict(header.split(": ", 1) for header in headers)},
        )
        response = connection.getresponse()
        return Reply(status=response.status, headers=response.headers, body=response.read())
    finally:
        connection.close()


# --- checks before measuring -----------------------------------------------------------------


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)


def check_targets(servers: dict[str, Server], detail_paths: list[str], signed_in: list[str]) -> None:
    say("checking every target answers 200, and that cached targets are cache hits and uncached ones are not")
    cached, uncached = servers["cached"], servers["uncached"]
    expect(get(servers["reference"], "/bench/bare").status == 200, "the reference did not answer 200")
    expect(get(cached, "/healthz").status == 200, "/healthz did not answer 200")
    for path in ("/api/v1/users/me/", "/api/v1/orders/"):
        reply = get(cached, path, signed_in)
        expect(reply.status == 200, f"{path} with the token: {reply.status}")
        expect("X-Response-Cache" not in reply.headers, f"{path} with a token came from the response cache")
    orders = json.loads(get(cached, "/api/v1/orders/", signed_in).body)["results"]
    expect(len(orders) == 3, f"the signed-in user has {len(orders)} orders, not 3")
    for server in (cached, servers["cached-no-metrics"]):
        first, second = get(server, CATALOG_PATH), get(server, CATALOG_PATH)
        expect(first.status == second.status == 200, f"{CATALOG_PATH}: {first.status}, {second.status}")
        expect(second.headers.get("X-Response-Cache") == "hit", f"{CATALOG_PATH}: the second request was not a hit")
    for path in ("/api/v1/products/", detail_paths[0]):
        first, second = get(cached, path), get(cached, path)
        expect(first.status == 200 and second.status == 200, f"{path} on 'cached': {first.status}, {second.status}")
        expect(second.headers.get("X-Response-Cache") == "hit", f"{path}: the second request was not a cache hit")
        for _ in range(2):
            reply = get(uncached, path)
            expect(reply.status == 200, f"{path} on 'uncached': {reply.status}")
            expect("X-Response-Cache" not in reply.headers, f"{path} on 'uncached' came from the response cache")
    naive = get(uncached, "/bench/naive-products/")
    expect(naive.status == 200, f"/bench/naive-products/: {naive.status}")
    api_ids = [row["id"] for row in json.loads(get(uncached, "/api/v1/products/").body)["results"]]
    naive_ids = [row["id"] for row in json.loads(naive.body)["results"]]
    expect(naive_ids == api_ids and len(api_ids) == 20, "the naive list and the API list show different products")


def count_queries(targets: list[Target], environments: dict[str, dict[str, str]], requests: int) -> None:
    say("counting the SQL queries per request of each target (benchmarks/count_queries.py)")
    for server_name, env in environments.items():
        paths = {target.key: [target.paths, target.headers] for target in targets if target.server == server_name}
        result = subprocess.run(
            [
                str(VENV_BIN / "python"),
                "-m",
                "benchmarks.count_queries",
                json.dumps(paths),
                "--requests",
                str(requests),
            ],
            cwd=CODE,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise BenchError(f"counting queries failed:\n{result.stdout}{result.stderr}")
        for target in targets:
            if target.key in paths:
                target.sql_per_request = json.loads(result.stdout.strip().splitlines()[-1])[target.key]


# --- measuring -------------------------------------------------------------------------------


def wrk(server: Server, target: Target, profile: Profile, seconds: int) -> dict:
    command = [
        "wrk",
        f"-t{profile.threads}",
        f"-c{profile.connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-H",
        "X-Forwarded-Proto: https",
        *(argument for header in target.headers for argument in ("-H", header)),
        "-s",
        str(WRK_SCRIPT),
        f"http://{HOST}:{server.port}",
        "--",
        *target.paths,
    ]
    cpu_before = workers_cpu_seconds(server)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    cpu_seconds = workers_cpu_seconds(server) - cpu_before
    match = re.search(r"^WRK_RESULT (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise BenchError(f"wrk failed on {target.key}:\n{result.stdout}{result.stderr}")
    run = json.loads(match[1])
    run["rps"] = run["requests"] / (run["duration_us"] / 1e6)
    run["cpu_us"] = cpu_seconds * 1e6 / max(run["requests"], 1)
    errors = {key: value for key, value in run.items() if key.startswith("errors_") and value}
    if errors.get("errors_status") or errors.get("errors_timeout") or errors.get("errors_connect"):
        raise BenchError(f"{target.key}: wrk saw errors {errors}; see {server.log_path}")
    return run


def measure(servers: dict[str, Server], targets: list[Target], profile: Profile) -> None:
    say(
        f"wrk: {profile.threads} threads, {profile.connections} connections, "
        f"{profile.rounds} round(s) of {profile.run_seconds:g} s per target"
        + (f", after a {profile.warmup_seconds:g} s warm-up" if profile.warmup_seconds else "")
    )
    if profile.warmup_seconds:
        for target in targets:
            wrk(servers[target.server], target, profile, profile.warmup_seconds)
    for round_number in range(1, profile.rounds + 1):
        for target in in_round_order(targets, round_number):
            run = wrk(servers[target.server], target, profile, profile.run_seconds)
            target.runs.append(run)
            print(
                f"    round {round_number}/{profile.rounds} {target.key:<16} {run['rps']:8.0f} rps"
                f"   p99 {run['p99_us'] / 1000:7.1f} ms   {run['cpu_us']:6.0f} µs CPU/request",
                flush=True,
            )


# The targets the profile covers: the reference, and each goal's.
PROFILED = ("reference", "healthz", "detail-cached", "list-cached", "catalog-cached", "users-me", "orders")
PROFILE_SECONDS = 8


def profile_targets(servers: dict[str, Server], targets: list[Target], *, seconds: int) -> None:
    from benchmarks.profile import print_profile, profile_url

    say(f"profiling: py-spy samples each target's workers for {seconds} s under wrk -c8")
    for target in targets:
        if target.key in PROFILED:
            server = servers[target.server]
            print_profile(
                profile_url(
                    master_pid=server.process.pid,
                    url=f"http://{HOST}:{server.port}{target.paths[0]}",
                    headers=target.headers,
                    seconds=seconds,
                    name=f"{target.key}{'-' + CODE.name if CODE != ROOT else ''}",
                )
            )


def in_round_order(targets: list[Target], round_number: int) -> list[Target]:
    """The targets in their order, but every second round each metrics-off target runs before its
    metrics-on twin: whichever of a pair runs second would otherwise always meet the same machine."""
    if round_number % 2:
        return targets
    ordered = list(targets)
    for index in range(1, len(ordered)):
        if ordered[index].key.endswith("-no-metrics"):
            ordered[index - 1], ordered[index] = ordered[index], ordered[index - 1]
    return ordered


def print_results(
    targets: list[Target], profile: Profile, *, sessions_opened: int, boots: dict[str, int], smoke: bool
) -> None:
    by_key = {target.key: target for target in targets}
    reference = by_key["reference"]
    say(f"results: medians of {profile.rounds} round(s); ratios are medians of per-round ratios")
    print()
    print(
        "| target | server | rps | p99 (ms) | rps × reference | app CPU / request (µs) | CPU × reference "
        "| SQL queries / request |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for target in targets:
        sql = "–" if target.sql_per_request is None else f"{target.sql_per_request:.1f}"
        print(
            f"| {target.label} | {target.server} | {target.rps:,.0f} | {target.p99_ms:.1f} | "
            f"{target.rps_ratio_to(reference):.2f} | {target.cpu_us:,.0f} | {target.cpu_ratio_to(reference):.2f} | {sql} |"
        )
    print()
    print("(× reference: the reference's CPU per request over the target's, so above 1 is cheaper; rps likewise)")

    def verdict(met: bool, goal: str) -> str:
        return "" if smoke else f"; goal {goal}: {'met' if met else 'MISSED'}"

    goals = (
        ("cached product detail", "detail-cached", GOAL_ANONYMOUS_CACHED),
        ("cached product list", "list-cached", GOAL_ANONYMOUS_CACHED),
        ("cached catalog page (HTML)", "catalog-cached", GOAL_ANONYMOUS_CACHED),
        ("/healthz", "healthz", None),
        ("GET /api/v1/users/me/ with a token", "users-me", GOAL_USERS_ME),
        ("GET /api/v1/orders/ with a token", "orders", GOAL_ORDERS),
    )
    for name, key, goal in goals:
        target = by_key[key]
        rps_ratio = target.rps_ratio_to(reference)
        print(
            f"{name} / minimal Django: {rps_ratio:.2f}× by rps ({target.cpu_ratio_to(reference):.2f}× by app CPU "
            f"per request)" + ("" if goal is None else verdict(rps_ratio >= goal, f"≥ {goal:g}×"))
        )
    naive, cached_list = by_key["list-naive"], by_key["list-cached"]
    rps_ratio = cached_list.rps_ratio_to(naive)
    print(
        f"cached list / naive list: {rps_ratio:.2f}× by rps ({cached_list.cpu_ratio_to(naive):.2f}× by app CPU "
        f"per request)" + verdict(rps_ratio >= GOAL_LIST_VS_NAIVE, f"≥ {GOAL_LIST_VS_NAIVE:g}×")
    )
    pairs = (
        ("cached product detail", by_key["detail-cached"], by_key["detail-no-metrics"]),
        ("cached product list", cached_list, by_key["list-no-metrics"]),
        ("cached catalog page", by_key["catalog-cached"], by_key["catalog-no-metrics"]),
    )
    for name, on, off in pairs:
        cost, cpu_cost = 1 - on.rps_ratio_to(off), on.cpu_us / off.cpu_us - 1
        print(f"metrics on vs off, {name}: {cost:.1%} of rps ({cpu_cost:+.1%} app CPU per request)")
    # The goal's line: every pair of every round, so one noisy 3 s run moves it less.
    rps_costs = [
        1 - mine["rps"] / theirs["rps"] for _, on, off in pairs for mine, theirs in zip(on.runs, off.runs, strict=True)
    ]
    cpu_costs = [
        mine["cpu_us"] / theirs["cpu_us"] - 1
        for _, on, off in pairs
        for mine, theirs in zip(on.runs, off.runs, strict=True)
    ]
    cost = statistics.median(rps_costs)
    print(
        f"metrics on vs off, the cached hot reads together (median of {len(rps_costs)} pairs): {cost:.1%} of rps "
        f"({statistics.median(cpu_costs):+.1%} app CPU per request)"
        + verdict(cost <= GOAL_METRICS_COST, f"≤ {GOAL_METRICS_COST:.0%}")
    )
    print(
        f"PostgreSQL connections opened while measuring: {sessions_opened}; gunicorn workers booted: "
        + ", ".join(f"{count} ({name})" for name, count in boots.items())
    )
    if smoke:
        print("smoke run: too short to judge the goals")


if __name__ == "__main__":
    # A SIGTERM (bench-cache's time limit, CI) unwinds like Ctrl-C, so the servers are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        sys.exit(main())
    except (BenchError, OSError, psycopg.Error, redis.RedisError, subprocess.TimeoutExpired) as error:
        print(f"bench-cache FAILED: {error}", file=sys.stderr)
        sys.exit(1)
