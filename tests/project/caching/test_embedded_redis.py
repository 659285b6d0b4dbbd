"""The stage 1 Redis: real, shared between processes, started on demand, with Lua."""

import subprocess
import sys

import pytest
import redis
from django.conf import settings

from project.caching import embedded_redis


@pytest.fixture
def server_dir(tmp_path):
    embedded_redis.ensure_running(directory=tmp_path)
    yield tmp_path
    embedded_redis.stop(directory=tmp_path)


def _client(directory):
    return redis.Redis.from_url(embedded_redis.url(directory=directory))


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


def test_a_deep_directory_still_gets_a_usable_socket(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    embedded_redis.ensure_running(directory=deep)
    try:
        assert len(str(embedded_redis.socket_path(directory=deep))) <= embedded_redis.MAX_SOCKET_PATH
        assert _client(deep).ping()
    finally:
        embedded_redis.stop(directory=deep)
