"""Database URLs with several hosts reach psycopg as libpq takes them (project/routing/database_urls.py)."""

import json
import os
import subprocess
import sys

from django.conf import settings

from project.routing.database_urls import database_config, split_database_urls


def test_each_host_of_a_multi_host_url_keeps_its_own_port():
    config = database_config("postgres://app:pw@db-1:5432,db-2:5433/headroom?target_session_attrs=read-write")

    assert (config["HOST"], config["PORT"]) == ("db-1,db-2", "5432,5433")
    assert config["OPTIONS"] == {"target_session_attrs": "read-write"}
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("headroom", "app", "pw")


def test_a_host_without_a_port_gets_the_default_port_not_its_neighbours():
    config = database_config("postgres://app@db-1,db-2:5433/headroom")

    assert (config["HOST"], config["PORT"]) == ("db-1,db-2", ",5433")


def test_ipv6_hosts_lose_their_brackets():
    config = database_config("postgres://app@[::1]:5432,[fd00::2]:5433/headroom")

    assert (config["HOST"], config["PORT"]) == ("::1,fd00::2", "5432,5433")


def test_a_single_host_url_is_django_environs_own():
    config = database_config("postgres://app@db-1:5432/headroom?sslmode=require")

    assert (config["HOST"], config["PORT"], config["OPTIONS"]) == ("db-1", 5432, {"sslmode": "require"})


def test_a_list_of_urls_splits_where_a_new_url_starts_not_between_hosts():
    value = (
        "postgres://app@r-1:5432,r-2:5432/headroom?target_session_attrs=prefer-standby, postgresql://app@r-3/headroom"
    )

    assert split_database_urls(value) == [
        "postgres://app@r-1:5432,r-2:5432/headroom?target_session_attrs=prefer-standby",
        "postgresql://app@r-3/headroom",
    ]


def test_an_empty_list_of_urls_is_no_replica():
    assert split_database_urls("") == []


def test_settings_pass_the_host_list_and_session_attributes_to_psycopg():
    """The connection parameters Django gives psycopg, from the environment, for the primary and a replica."""
    script = (
        "import django, json; django.setup(); from django.db import connections; "
        "print(json.dumps({a: {k: v for k, v in connections[a].get_connection_params().items() "
        "if k in ('host', 'port', 'target_session_attrs', 'connect_timeout')} for a in ('default', 'replica_1')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DATABASE_URL": "postgres://app@db-1:5432,db-2:5433/headroom?target_session_attrs=read-write",
            "DATABASE_REPLICA_URLS": "postgres://app@db-2:5433,db-1:5432/headroom?target_session_attrs=prefer-standby",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr

    params = json.loads(result.stdout.splitlines()[-1])
    assert params["default"] == {
        "host": "db-1,db-2",
        "port": "5432,5433",
        "target_session_attrs": "read-write",
        "connect_timeout": 5,
    }
    assert params["replica_1"] == {
        "host": "db-2,db-1",
        "port": "5433,5432",
        "target_session_attrs": "prefer-standby",
        "connect_timeout": 1,
    }
