"""`/readyz`: may this app server take traffic? The primary, each replica, Redis and the broker;
in production also the errors of `manage.py check --deploy` (the security checks).

All are checked and reported; READINESS_REQUIRED names those whose failure answers 503. A failed
deploy check always does: a demo account with its published password must not be served.

Every check runs in its own thread under one deadline, so a dependency that is down or frozen
(accepting connections, never answering) makes the answer a 503 within CHECK_DEADLINE_SECONDS,
never a hung probe. `/healthz` (project/urls.py) checks nothing: it is the liveness probe.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core import checks as system_checks
from django.db import connections
from django.http import HttpRequest, JsonResponse

from project.caching.redis_sentinel import redis_client

logger = logging.getLogger(__name__)

# The socket timeout of one check, and the longest the whole answer may take.
CHECK_TIMEOUT_SECONDS = 1.0
CHECK_DEADLINE_SECONDS = 2.0


def check_database(*, alias: str) -> None:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # Each check runs in a short-lived thread: its connection must not outlive it.
        connection.close()


def check_redis(*, url: str) -> None:
    client = redis_client(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def check_broker() -> None:
    if not settings.BROKER_IS_RABBITMQ:
        # With Sentinel the broker has a client, not a URL: it is the Redis of REDIS_URL.
        check_redis(url=settings.DRAMATIQ_BROKER["OPTIONS"].get("url", settings.REDIS_URL))
        return
    url: str = settings.DRAMATIQ_BROKER["OPTIONS"]["url"]
    import pika  # type: ignore[import-untyped]

    parameters = pika.URLParameters(url)
    parameters.socket_timeout = CHECK_TIMEOUT_SECONDS
    parameters.blocked_connection_timeout = CHECK_TIMEOUT_SECONDS
    parameters.connection_attempts = 1
    pika.BlockingConnection(parameters).close()


class DeployCheckFailed(Exception):
    """``manage.py check --deploy`` reports an error (its ids are the message)."""


def check_deploy() -> None:
    """The security checks of `check --deploy`: Django's, and those apps register with deploy=True."""
    try:
        messages = system_checks.run_checks(tags=[system_checks.Tags.security], include_deployment_checks=True)
    finally:
        connections.close_all()  # an app's check may read the database from this short-lived thread
    errors = sorted({str(message.id) for message in messages if message.is_serious() and not message.is_silenced()})
    if errors:
        raise DeployCheckFailed(", ".join(errors))


def readiness_checks() -> dict[str, Callable[[], None]]:
    """Name -> check; a check raises when its dependency cannot serve."""
    checks: dict[str, Callable[[], None]] = {"database:default": lambda: check_database(alias="default")}
    for alias in settings.DATABASE_REPLICAS:
        checks[f"database:{alias}"] = functools.partial(check_database, alias=alias)
    checks["redis"] = lambda: check_redis(url=settings.REDIS_URL)
    checks["broker"] = check_broker
    if settings.IS_PRODUCTION:
        checks["deploy"] = check_deploy
    return checks


def run_checks(checks: dict[str, Callable[[], None]]) -> dict[str, str]:
    """Runs every check at once; returns name -> "ok", the error's class name, or "timeout"."""
    results: dict[str, str] = {}

    def run(name: str, check: Callable[[], None]) -> None:
        try:
            check()
        except Exception as error:  # any failure means "not ready", and is reported
            # The answer names the error class only: hosts and ports in the message go to the log.
            logger.warning("readiness check %s failed: %r", name, error)
            results[name] = type(error).__name__
        else:
            results[name] = "ok"

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in checks.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + CHECK_DEADLINE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: results.get(name, "timeout") for name in checks}


def gates_readiness(name: str) -> bool:
    """Whether check ``name`` failing makes this instance not ready (settings.READINESS_REQUIRED).

    "replicas" stands for every replica alias, so the setting need not change with their number.
    """
    required = settings.READINESS_REQUIRED
    if name == "deploy":
        return True
    if name.startswith("database:") and name != "database:default":
        return "replicas" in required or name in required
    return name in required


def readyz(request: HttpRequest) -> JsonResponse:
    results = run_checks(readiness_checks())
    broken = [name for name, result in results.items() if result != "ok"]
    failed = [name for name in broken if gates_readiness(name)]
    degraded = [name for name in broken if not gates_readiness(name)]
    status = "unavailable" if failed else "degraded" if degraded else "ok"
    body: dict[str, object] = {"status": status, "failed": failed, "checks": results}
    if degraded:
        # Down, but the app serves without it (caches miss, jobs wait in the outbox, reads go to
        # the primary): reported for alerts, not a reason to take this instance out of rotation.
        body["degraded"] = degraded
    return JsonResponse(body, status=503 if failed else 200, headers={"Cache-Control": "no-store"})
