"""The cache benchmark; run it through scripts/bench-cache (docs/performance.md shows a run).

It creates and seeds a PostgreSQL database, starts two production-like gunicorns on loopback
ports (one with both caches on, one with both off), checks that each target answers what it
should (and that the cached ones are cache hits), counts each target's SQL queries, then
measures every target with wrk in interleaved rounds and prints requests per second, p99
latency and the workers' CPU time per request. All traffic is loopback.
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
LOG_DIR = ROOT / "var" / "bench"
WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
VENV_BIN = Path(sys.executable).parent

HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_NAME = "headroom_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
PG_BENCH_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE_NAME}"  # the same, as psycopg spells it
REDIS_URL = "redis://127.0.0.1:6379/5"  # a database of its own, flushed before every run

CATEGORIES = 20
PRODUCTS = 1000
DETAIL_IDS = 100  # product detail requests rotate over this many products

GOAL_DETAIL_VS_BARE = 0.8
GOAL_LIST_VS_NAIVE = 10.0  # both: ratios of requests per second
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
SMOKE = Profile(threads=1, connections=4, warmup_seconds=1, run_seconds=1, rounds=1, sql_probe_requests=5)


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
    server: str  # "cached" or "uncached"
    paths: list[str]
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
    args = parser.parse_args()
    profile = SMOKE if args.smoke else FULL

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print_machine()
    base_env = server_environment()
    prepare_database(base_env)
    try:  # the database goes whatever happens, a failure or a SIGTERM included
        flush_redis()
        targets, sessions_opened, boots = benchmark(base_env, profile)
    finally:
        drop_database()
    print_results(targets, profile, sessions_opened=sessions_opened, boots=boots, smoke=args.smoke)
    say(f"done in {time.monotonic() - started:.0f} s; gunicorn logs in {LOG_DIR.relative_to(ROOT)}/")
    return 0


def benchmark(base_env: dict[str, str], profile: Profile) -> tuple[list[Target], int, dict[str, int]]:
    """Both servers up, every target checked and measured; the servers are stopped on the way out."""
    cached_env = base_env
    uncached_env = {**base_env, "RESPONSE_CACHE_ENABLED": "false", "CACHEOPS_ENABLED": "false"}
    # The same as "cached" without the Prometheus metrics: what they cost (docs/observability.md).
    no_metrics_env = {**base_env, "METRICS_ENABLED": "false"}
    with (
        running_server("cached", cached_env) as cached,
        running_server("uncached", uncached_env) as uncached,
        running_server("cached-no-metrics", no_metrics_env) as no_metrics,
    ):
        servers = {"cached": cached, "uncached": uncached, "cached-no-metrics": no_metrics}
        detail_paths = [f"/api/v1/products/{product_id}/" for product_id in product_ids(DETAIL_IDS)]
        # In each round the targets run in this order: the two pairs the goals compare run back to back.
        targets = [
            Target("bare", "bare JsonResponse view (the ceiling)", "cached", ["/bench/bare"]),
            Target("detail-cached", "product detail, cached", "cached", detail_paths),
            Target("detail-no-metrics", "product detail, cached, metrics off", "cached-no-metrics", detail_paths),
            Target("detail-uncached", "product detail, uncached", "uncached", detail_paths),
            Target("list-cached", "product list, API, cached", "cached", ["/api/v1/products/"]),
            Target("list-no-metrics", "product list, cached, metrics off", "cached-no-metrics", ["/api/v1/products/"]),
            Target("list-naive", "product list, naive (N+1, no cache)", "uncached", ["/bench/naive-products/"]),
            Target("list-uncached", "product list, API, uncached", "uncached", ["/api/v1/products/"]),
        ]
        check_targets(servers, detail_paths)
        count_queries(
            targets,
            {"cached": cached_env, "uncached": uncached_env, "cached-no-metrics": no_metrics_env},
            profile.sql_probe_requests,
        )
        sessions_before = pg_sessions_opened()
        measure(servers, targets, profile)
        sessions_opened = pg_sessions_opened() - sessions_before
        boots = {name: worker_boots(server) for name, server in servers.items()}
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
        "PYTHONPATH": os.pathsep.join([str(ROOT / "scripts"), str(ROOT)]),
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
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    if result.stdout.strip():
        print(f"    {result.stdout.strip()}")


def prepare_database(env: dict[str, str]) -> None:
    say(
        f"creating the database {DATABASE_NAME} (dropped first), migrating, seeding "
        f"{CATEGORIES} categories and {PRODUCTS} products"
    )
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE_NAME}")
    python = str(VENV_BIN / "python")
    run_checked([python, "manage.py", "migrate", "--no-input", "-v", "0"], env, timeout=180)
    run_checked(
        [python, "-m", "benchmarks.seed", "--categories", str(CATEGORIES), "--products", str(PRODUCTS)],
        env,
        timeout=120,
    )
    with psycopg.connect(PG_BENCH_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute("ANALYZE")


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
def running_server(name: str, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    log_path = LOG_DIR / f"gunicorn-{name}.log"
    say(
        f"starting gunicorn '{name}' on {HOST}:{port} (config/gunicorn.conf.py, WEB_CONCURRENCY=3, "
        f"GUNICORN_MAX_REQUESTS={env['GUNICORN_MAX_REQUESTS']}, log {log_path.relative_to(ROOT)})"
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            # No control socket: both servers would share its default path.
            [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "--no-control-socket", "project.wsgi"],
            cwd=ROOT,
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


def get(server: Server, path: str) -> Reply:
    # As behind a TLS-terminating proxy: production redirects plain http to https otherwise.
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request("GET", path, headers={"X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        return Reply(status=response.status, headers=response.headers, body=response.read())
    finally:
        connection.close()


# --- checks before measuring -----------------------------------------------------------------


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)


def check_targets(servers: dict[str, Server], detail_paths: list[str]) -> None:
    say("checking every target answers 200, and that cached targets are cache hits and uncached ones are not")
    cached, uncached = servers["cached"], servers["uncached"]
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
        paths = {target.key: target.paths for target in targets if target.server == server_name}
        result = subprocess.run(
            [
                str(VENV_BIN / "python"),
                "-m",
                "benchmarks.count_queries",
                json.dumps(paths),
                "--requests",
                str(requests),
            ],
            cwd=ROOT,
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
        for target in targets:
            run = wrk(servers[target.server], target, profile, profile.run_seconds)
            target.runs.append(run)
            print(
                f"    round {round_number}/{profile.rounds} {target.key:<16} {run['rps']:8.0f} rps"
                f"   p99 {run['p99_us'] / 1000:7.1f} ms   {run['cpu_us']:6.0f} µs CPU/request",
                flush=True,
            )


def print_results(
    targets: list[Target], profile: Profile, *, sessions_opened: int, boots: dict[str, int], smoke: bool
) -> None:
    by_key = {target.key: target for target in targets}
    bare = by_key["bare"]
    say(f"results: medians of {profile.rounds} round(s); ratios are medians of per-round ratios")
    print()
    print("| target | server | rps | p99 (ms) | rps × bare | app CPU / request (µs) | SQL queries / request |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for target in targets:
        print(
            f"| {target.label} | {target.server} | {target.rps:,.0f} | {target.p99_ms:.1f} | "
            f"{target.rps_ratio_to(bare):.2f} | {target.cpu_us:,.0f} | {target.sql_per_request:.1f} |"
        )
    print()
    detail, naive, cached_list = by_key["detail-cached"], by_key["list-naive"], by_key["list-cached"]
    ratios = (
        (
            "cached product detail / bare view",
            detail.rps_ratio_to(bare),
            bare.cpu_us / detail.cpu_us,
            GOAL_DETAIL_VS_BARE,
        ),
        (
            "cached list / naive list",
            cached_list.rps_ratio_to(naive),
            naive.cpu_us / cached_list.cpu_us,
            GOAL_LIST_VS_NAIVE,
        ),
    )
    for name, rps_ratio, cpu_ratio, goal in ratios:
        verdict = "" if smoke else f"; goal ≥ {goal:g}×: {'met' if rps_ratio >= goal else 'MISSED'}"
        print(f"{name}: {rps_ratio:.2f}× by rps ({cpu_ratio:.2f}× by app CPU per request){verdict}")
    for name, on, off in (
        ("cached product detail", detail, by_key["detail-no-metrics"]),
        ("cached product list", cached_list, by_key["list-no-metrics"]),
    ):
        cost, cpu_cost = 1 - on.rps_ratio_to(off), on.cpu_us / off.cpu_us - 1
        verdict = (
            "" if smoke else f"; goal ≤ {GOAL_METRICS_COST:.0%}: {'met' if cost <= GOAL_METRICS_COST else 'MISSED'}"
        )
        print(f"metrics cost on the {name}: {cost:.1%} of rps ({cpu_cost:+.1%} app CPU per request){verdict}")
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
