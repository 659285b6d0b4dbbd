"""The stage 1 Redis: real, shared between processes, with Lua; started by the first client that
connects (never by importing settings), stopped soon after the last one exits."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from project.caching import embedded_redis

# Long enough for the supervisor to notice, on a busy machine, that its last client has gone.
STOPS_WITHIN_SECONDS = embedded_redis.IDLE_SECONDS + 10


@pytest.fixture
def server_dir(tmp_path):
    embedded_redis.ensure_running(directory=tmp_path)
    client = _client(tmp_path)
    client.ping()  # a connected client keeps it running for the test
    yield tmp_path
    client.close()
    embedded_redis.stop(directory=tmp_path)


def _client(directory):
    return redis.Redis.from_url(embedded_redis.url(directory=directory))


def _servers(directory: Path) -> list[str]:
    """The pids of the redis-server processes listening on this directory's socket."""
    found = subprocess.run(
        ["pgrep", "-f", str(embedded_redis.socket_path(directory=directory))], capture_output=True, text=True
    )
    return found.stdout.split()


def _stage_1_env(var_dir: Path) -> dict[str, str]:
    env = {**os.environ, "VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "project.settings"}
    for name in ("REDIS_URL", "BROKER_URL", "DATABASE_URL"):
        env.pop(name, None)
    return env


def _django(code: str, var_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=settings.BASE_DIR,
        env=_stage_1_env(var_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _wait_until_stopped(directory: Path) -> None:
    deadline = time.monotonic() + STOPS_WITHIN_SECONDS
    while _servers(directory) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _servers(directory), f"redis-server still running {STOPS_WITHIN_SECONDS} s after its last client left"
    assert not embedded_redis.socket_path(directory=directory).exists()


def test_it_starts_on_demand_and_answers(server_dir):
    assert _client(server_dir).ping()


def test_a_second_start_reuses_the_running_server(server_dir):
    pid = (server_dir / "redis.pid").read_text()
    embedded_redis.ensure_running(directory=server_dir)
    assert (server_dir / "redis.pid").read_text() == pid


def test_another_process_sees_the_same_data(server_dir):
    _client(server_dir).set("written-by", "the test process")
    code = (
        "import redis; from pathlib import Path; from project.caching import embedded_redis;"
        f"url = embedded_redis.url(directory=Path({str(server_dir)!r}));"
        "print(redis.Redis.from_url(url).get('written-by').decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "the test process", result.stderr


def test_it_runs_lua_scripts_as_cacheops_and_dramatiq_need(server_dir):
    assert _client(server_dir).eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "counter", 41) == 41


def test_stop_shuts_the_server_down(server_dir):
    embedded_redis.stop(directory=server_dir)
    assert not embedded_redis.is_running(directory=server_dir)
    assert not _servers(server_dir)


def test_a_deep_directory_still_gets_a_usable_socket(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    embedded_redis.ensure_running(directory=deep)
    try:
        assert len(str(embedded_redis.socket_path(directory=deep))) <= embedded_redis.MAX_SOCKET_PATH
        assert _client(deep).ping()
    finally:
        embedded_redis.stop(directory=deep)


def test_it_stops_when_its_directory_is_deleted(tmp_path):
    """A throwaway VAR_DIR (scripts/api-fuzz, scripts/bench-signup) is simply deleted."""
    directory = tmp_path / "redis"
    embedded_redis.ensure_running(directory=directory)
    client = _client(directory)
    client.ping()
    shutil.rmtree(directory)
    _wait_until_stopped(directory)
    client.close()


def test_importing_settings_starts_nothing(tmp_path):
    result = _django("print('set up')", tmp_path)
    assert result.stdout.strip() == "set up", result.stderr
    assert not _servers(tmp_path / "redis")
    assert not embedded_redis.socket_path(directory=tmp_path / "redis").exists()


def test_manage_py_check_starts_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=_stage_1_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert not _servers(tmp_path / "redis")


def test_the_first_cache_use_starts_it_and_it_stops_after_the_process_exits(tmp_path):
    result = _django("from django.core.cache import cache; cache.set('k', 'v'); print(cache.get('k'))", tmp_path)
    assert result.stdout.strip() == "v", result.stderr
    assert (tmp_path / "redis" / "appendonly.aof").exists()  # the job queue survives a restart
    _wait_until_stopped(tmp_path / "redis")


@pytest.mark.parametrize(
    "code",
    [
        "import dramatiq; print(dramatiq.get_broker().client.ping())",
        "from dramatiq_crontab import utils; print(utils.lock.acquire()); utils.lock.release()",
    ],
    ids=["job broker", "scheduler lock"],
)
def test_the_clients_libraries_build_for_themselves_start_it_too(tmp_path, code):
    """Dramatiq's broker and dramatiq-crontab's lock build their own redis-py client from the URL."""
    result = _django(code, tmp_path)
    assert result.stdout.strip() == "True", result.stderr
    _wait_until_stopped(tmp_path / "redis")


def test_a_process_still_connected_keeps_it_running_when_another_exits(tmp_path):
    code = (
        "import django, sys; django.setup()\n"
        "from django.core.cache import cache; cache.set('k', 'v'); print('connected', flush=True)\n"
        "sys.stdin.readline()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=_stage_1_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "connected"
        result = _django("from django.core.cache import cache; print(cache.get('k'))", tmp_path)
        assert result.stdout.strip() == "v", result.stderr
        time.sleep(embedded_redis.IDLE_SECONDS + 1)
        assert _servers(tmp_path / "redis"), "stopped while a process was still connected"
    finally:
        holder.communicate("\n", timeout=30)
    _wait_until_stopped(tmp_path / "redis")


def test_scripts_test_leaves_no_server_running(tmp_path):
    """A test run that used the embedded Redis leaves nothing behind, nor does a collect-only run."""
    env = {**_stage_1_env(tmp_path), "DJANGO_SETTINGS_MODULE": "project.test_settings"}
    for args in (
        ["--collect-only", "-q"],
        ["tests/project/test_settings.py::test_an_unknown_environment_name_is_refused"],
    ):
        result = subprocess.run(
            ["./scripts/test", *args, "-q", "-p", "no:cacheprovider"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "redis" / "appendonly.aof").exists(), "the test run never used the embedded Redis"
    _wait_until_stopped(tmp_path / "redis")
