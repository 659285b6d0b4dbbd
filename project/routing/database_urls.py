"""Database URLs with several hosts, as libpq takes them, for failover (docs/reliability.md).

``postgres://app@db-1:5432,db-2:5432/headroom?target_session_attrs=read-write`` connects to
whichever host is the primary now; ``prefer-standby`` in a replica URL prefers a standby.
django-environ parses the host list, but gives every host the last host's port
(``h1,h2:5433`` becomes port 5433 for both) and keeps the brackets of IPv6 addresses: here each
host keeps its own port, and a list of URLs splits only where a new URL starts.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import environ

# A comma followed by a scheme starts the next URL; other commas separate the hosts of one URL.
_NEXT_URL = re.compile(r",\s*(?=[a-zA-Z][a-zA-Z0-9+.-]*://)")


def split_database_urls(value: str) -> list[str]:
    """'postgres://a,b/db,postgres://c/db' -> ['postgres://a,b/db', 'postgres://c/db']."""
    return [url.strip() for url in _NEXT_URL.split(value) if url.strip()]


def database_config(url: str) -> dict[str, Any]:
    """A DATABASES entry for ``url``: django-environ's, with libpq's host and port lists."""
    config: dict[str, Any] = environ.Env.db_url_config(url)
    hosts_part = urlsplit(url).netloc.rpartition("@")[2]
    if "," in hosts_part and config["ENGINE"] == "django.db.backends.postgresql":
        hosts, ports = zip(*(_host_and_port(part) for part in hosts_part.split(",")), strict=True)
        config["HOST"] = ",".join(hosts)
        # libpq: one port per host, an empty item meaning the default (5432).
        config["PORT"] = ",".join(ports) if any(ports) else ""
    return config


def _host_and_port(part: str) -> tuple[str, str]:
    """'db-1:5433' -> ('db-1', '5433'); '[::1]:5433' -> ('::1', '5433'); 'db-1' -> ('db-1', '')."""
    match = re.fullmatch(r"\[(?P<v6>[^\]]+)\](?::(?P<v6port>\d*))?|(?P<host>[^:]*)(?::(?P<port>\d*))?", part)
    if match is None:
        raise ValueError(f"not a host[:port] in a database URL: {part!r}")
    host = match["v6"] or match["host"] or ""
    return unquote(host), match["v6port"] or match["port"] or ""
