"""Where a request's time goes: py-spy samples the workers of a running gunicorn while wrk loads one URL.

    PYTHONPATH=scripts .venv/bin/python -m benchmarks.profile --pid <gunicorn master pid> \\
        --url http://127.0.0.1:8000/api/v1/products/1/ [-H 'Authorization: Token …'] [--seconds 10]

scripts/bench-cache --profile runs it on every target of the cache benchmark. py-spy (a sampling
profiler that reads the workers' memory from outside, so the code under test is unchanged) is
installed on first use into var/tools/py-spy, outside the project's locked virtualenv.

Samples are CPU samples: py-spy counts a worker only while it runs, so a request's wait for Redis
or PostgreSQL (the benchmark counts their round trips) and a worker idle between requests are not
in them. (With its --idle, on a machine whose cores are all busy, a worker waiting for a core shows
up in whatever system call it made last, mostly the response's sendall: wall time, misattributed.) It prints each part's share of the request time, by the code the sample
was in (self time, grouped by package), and the share of requests' time spent inside a few
frames of interest (inclusive). The raw stacks (collapsed format, one line per stack) are kept
in var/bench/profiles/ for flamegraph.pl or speedscope.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = ROOT / "var" / "tools" / "py-spy"
PROFILE_DIR = ROOT / "var" / "bench" / "profiles"
PY_SPY_VERSION = "0.4.3"
SAMPLE_RATE = 200  # per second and worker

# A sample is part of a request when one of its frames is gunicorn handling one.
REQUEST_FRAME = re.compile(r"^(\w+\.)?handle_request \(.*gunicorn/workers/")
# Self time, grouped by the file of the innermost frame: the first pattern that matches names it.
GROUPS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "socket I/O in the kernel (the response's write, Redis and PostgreSQL answers; on a busy machine also the wait for a core)",
            r"^(\w+\.)?(sendall|recv|recv_into|send|_read_from_socket) \(",
        ),
        ("metrics (prometheus-client)", r"[(/]prometheus_client/"),
        ("Redis client and its socket wait", r"[(/](redis|hiredis)/"),
        ("psycopg and PostgreSQL's answer", r"[(/]psycopg(_c|_binary)?/"),
        ("cacheops", r"[(/]cacheops/"),
        ("the kit: project/", r"[(/]project/"),
        ("the kit: apps/", r"[(/]apps/"),
        ("DRF", r"[(/](rest_framework|knox|drf_spectacular)/"),
        ("Django ORM", r"[(/]django/db/"),
        ("Django URL resolution", r"[(/]django/urls/"),
        ("Django templates", r"[(/]django/template/"),
        ("Django request, response, middleware", r"[(/](django/(core|middleware|http|contrib|utils)|csp|whitenoise)/"),
        ("other Django", r"[(/]django/"),
        ("gunicorn (parsing, logging the request)", r"[(/]gunicorn/"),
        ("the standard library", r"[(/<]"),
    )
)
# Inclusive: the share of request time spent inside any frame matching each of these.
FRAMES_OF_INTEREST: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("the response cache's WSGI front", r"project/caching/wsgi_front\.py"),
        (
            "Django's handler (middleware chain, URL resolution, view)",
            r"^(\w+\.)?get_response \(.*django/core/handlers/base\.py",
        ),
        (
            "authentication (DRF, knox, the kit's token check)",
            r"^(\w+\.)?(authenticate|_authenticate|authenticate_credentials) \(",
        ),
        ("SQL (psycopg execute)", r"^(\w+\.)?execute \(.*psycopg/"),
        ("Redis commands", r"^(\w+\.)?execute_command \(.*redis/"),
        # Not request_recorder.py: its middleware wraps the whole request.
        ("the metrics and ops recording", r"project/ops/(metrics|minute_buckets)\.py|prometheus_client/"),
        ("rendering (DRF renderers, templates)", r"^(\w+\.)?render \("),
    )
)


@dataclass(frozen=True)
class Profile:
    name: str
    request_samples: int
    groups: list[tuple[str, float]]  # (group, share of request samples), largest first
    frames: list[tuple[str, float]]


def ensure_py_spy() -> Path:
    binary = TOOLS_DIR / "bin" / "py-spy"
    if not binary.exists():
        print(f"==> installing py-spy {PY_SPY_VERSION} into {TOOLS_DIR.relative_to(ROOT)} (not the project's venv)")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(TOOLS_DIR), f"py-spy=={PY_SPY_VERSION}"],
            check=True,
        )
    return binary


def worker_pids(master_pid: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]


def record(*, master_pid: int, seconds: float, name: str) -> list[Path]:
    """Samples every worker of the gunicorn whose master is `master_pid` for `seconds`; the raw stack files."""
    binary = ensure_py_spy()
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    outputs, recorders = [], []
    for pid in worker_pids(master_pid):
        output = PROFILE_DIR / f"{name}-{pid}.txt"
        outputs.append(output)
        recorders.append(
            subprocess.Popen(
                [
                    str(binary),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(seconds)),
                    "--rate",
                    str(SAMPLE_RATE),
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(output),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for recorder in recorders:
        _, errors = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0:
            raise RuntimeError(f"py-spy failed: {errors.strip()}")
    return outputs


def summarize(*, name: str, raw_files: list[Path]) -> Profile:
    self_time: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    total = 0
    for raw in raw_files:
        for line in raw.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            frames = stack.split(";")
            if not any(REQUEST_FRAME.match(frame) for frame in frames):
                continue  # a worker waiting for the next connection
            count = int(count_text)
            total += count
            leaf = frames[-1]
            self_time[next((group for group, pattern in GROUPS if pattern.search(leaf)), "other")] += count
            for label, pattern in FRAMES_OF_INTEREST:
                if any(pattern.search(frame) for frame in frames):
                    inside[label] += count
    share = (lambda count: count / total) if total else (lambda count: 0.0)
    return Profile(
        name=name,
        request_samples=total,
        groups=[(group, share(count)) for group, count in self_time.most_common()],
        frames=[(label, share(inside[label])) for label, _ in FRAMES_OF_INTEREST if inside[label]],
    )


def print_profile(profile: Profile) -> None:
    print(f"\n{profile.name}: {profile.request_samples} samples inside requests")
    print("  self time by code:")
    for group, share in profile.groups:
        print(f"    {share:6.1%}  {group}")
    print("  inside (inclusive):")
    for label, share in profile.frames:
        print(f"    {share:6.1%}  {label}")


def profile_url(
    *, master_pid: int, url: str, headers: list[str], seconds: float, name: str, connections: int = 8
) -> Profile:
    """Loads `url` with wrk while py-spy samples the workers."""
    load = subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(seconds) + 2}s",
            "-H",
            "X-Forwarded-Proto: https",
            *(argument for header in headers for argument in ("-H", header)),
            url,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(1)  # past the first requests' warm-up
        raw_files = record(master_pid=master_pid, seconds=seconds, name=name)
    finally:
        load.wait(timeout=seconds + 30)
    return summarize(name=name, raw_files=raw_files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pid", type=int, required=True, help="the gunicorn master's pid")
    parser.add_argument("--url", required=True)
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value', sent with each request")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--name", default="profile", help="names the raw files in var/bench/profiles/")
    arguments = parser.parse_args()
    print_profile(
        profile_url(
            master_pid=arguments.pid,
            url=arguments.url,
            headers=arguments.header,
            seconds=arguments.seconds,
            name=arguments.name,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
