"""Server-Timing (project/ops/server_timing.py): database time and query count, query cache hits and
misses and a response cache hit, on every response when SERVER_TIMING is on; nothing when off."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from project.ops.server_timing import HEADER
from tests.factories import CategoryFactory, OrderItemFactory, ProductFactory, TokenFactory

MIDDLEWARE_PATH = "project.ops.server_timing.ServerTimingMiddleware"
ORDERS_URL = "/api/v1/orders/"
PRODUCTS_URL = "/api/v1/products/"

# Committed data, as in production: inside a test's transaction cacheops neither caches nor invalidates.
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server_timing_on(settings) -> None:
    """The middleware where SERVER_TIMING=true puts it, whatever the environment of this run says."""
    if MIDDLEWARE_PATH not in settings.MIDDLEWARE:
        position = settings.MIDDLEWARE.index("project.caching.response_cache.PublicResponseCache")
        settings.MIDDLEWARE = [*settings.MIDDLEWARE[:position], MIDDLEWARE_PATH, *settings.MIDDLEWARE[position:]]


def server_timing(response) -> dict[str, dict[str, str]]:
    """{"db": {"dur": "3.2", "desc": "4 queries"}, ...} from the header."""
    metrics: dict[str, dict[str, str]] = {}
    for metric in response[HEADER].split(", "):
        name, *params = metric.split(";")
        metrics[name] = {key: value.strip('"') for key, value in (param.split("=", 1) for param in params)}
    return metrics


def _queries(metrics: dict[str, dict[str, str]]) -> int:
    return int(re.fullmatch(r"(\d+) quer(?:y|ies)", metrics["db"]["desc"])[1])


def _cache_reads(metrics: dict[str, dict[str, str]], kind: str) -> int:
    hits, misses = re.fullmatch(r"(\d+) hits? (\d+) miss(?:es)?", metrics["cache"]["desc"]).groups()
    return int(hits if kind == "hits" else misses)


@pytest.mark.parametrize("rows", [1, 20])
def test_the_header_reports_the_queries_of_the_order_list(server_timing_on, user, user_client, rows):
    for _ in range(rows):
        OrderItemFactory(order__user=user, product=ProductFactory())

    with CaptureQueriesContext(connection) as queries:
        response = user_client.get(ORDERS_URL)

    assert response.status_code == 200
    metrics = server_timing(response)
    assert _queries(metrics) == len(queries), [query["sql"] for query in queries.captured_queries]
    assert float(metrics["db"]["dur"]) >= 0
    assert float(metrics["app"]["dur"]) >= float(metrics["db"]["dur"])


def test_the_header_is_in_a_format_browsers_read(server_timing_on, user_client, db):
    """Comma-separated metrics, each a token name with dur in milliseconds and a quoted desc."""
    header = user_client.get(ORDERS_URL)[HEADER]

    assert re.fullmatch(
        r'db;dur=\d+\.\d;desc="\d+ quer(y|ies)", cache;desc="\d+ hits? \d+ miss(es)?", app;dur=\d+\.\d', header
    ), header


@committed
def test_the_second_signed_in_catalog_read_reports_query_cache_hits(server_timing_on, user_client):
    ProductFactory.create_batch(3, category=CategoryFactory())

    first = server_timing(user_client.get(PRODUCTS_URL))
    second = server_timing(user_client.get(PRODUCTS_URL))

    misses = _cache_reads(first, "misses")
    assert misses > 0 and _cache_reads(first, "hits") == 0
    assert (_cache_reads(second, "hits"), _cache_reads(second, "misses")) == (misses, 0)
    assert _queries(second) == _queries(first) - misses  # each hit is a query not run


@committed
def test_an_answer_from_the_response_cache_says_so_and_reports_no_queries(server_timing_on, api_client):
    ProductFactory()
    api_client.get(PRODUCTS_URL)

    hit = api_client.get(PRODUCTS_URL)

    assert hit["X-Response-Cache"] == "hit"
    metrics = server_timing(hit)
    assert metrics["response-cache"] == {"desc": "hit"}
    assert metrics["db"]["desc"] == "0 queries"


@committed
def test_a_304_from_the_response_cache_says_it_was_a_hit(server_timing_on, api_client):
    ProductFactory()
    etag = api_client.get(PRODUCTS_URL)["ETag"]
    assert api_client.get(PRODUCTS_URL)["X-Response-Cache"] == "hit"

    not_modified = api_client.get(PRODUCTS_URL, HTTP_IF_NONE_MATCH=etag)

    assert not_modified.status_code == 304
    assert server_timing(not_modified)["response-cache"] == {"desc": "hit"}


def test_a_read_the_view_answers_has_no_response_cache_metric(server_timing_on, api_client, db):
    assert "response-cache" not in server_timing(api_client.get(PRODUCTS_URL))


def test_the_header_is_absent_when_the_middleware_is_not_installed(settings, user_client, db):
    settings.MIDDLEWARE = [path for path in settings.MIDDLEWARE if path != MIDDLEWARE_PATH]

    response = user_client.get(ORDERS_URL)

    assert response.status_code == 200
    assert HEADER not in response


def _middleware_at_startup(**env: str) -> list[str]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(','.join(settings.MIDDLEWARE))",
        ],
        cwd=settings.BASE_DIR,
        # Only the variables given here decide: none of this run's environment's.
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "SERVER_TIMING", "N_PLUS_ONE_GUARD")},
            "DJANGO_SETTINGS_MODULE": "project.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split(",")


def test_server_timing_off_leaves_the_middleware_out_entirely():
    assert MIDDLEWARE_PATH not in _middleware_at_startup(SERVER_TIMING="false")


def test_server_timing_on_puts_the_middleware_before_the_response_cache():
    middleware = _middleware_at_startup(SERVER_TIMING="true")

    assert (
        middleware.index(MIDDLEWARE_PATH) == middleware.index("project.caching.response_cache.PublicResponseCache") - 1
    )


def test_server_timing_is_off_by_default_in_production():
    middleware = _middleware_at_startup(ENVIRONMENT="production", SECRET_KEY="x" * 50, DEBUG="false")

    assert MIDDLEWARE_PATH not in middleware


@committed
def test_the_header_reports_the_queries_of_a_request_served_through_asgi(server_timing_on, user):
    """Under ASGI (Django runs the sync middleware chain in a thread), the same count as under WSGI."""
    OrderItemFactory(order__user=user, product=ProductFactory())
    token = TokenFactory(user=user).key

    with CaptureQueriesContext(connection) as queries:
        response = async_to_sync(AsyncClient().get)(ORDERS_URL, headers={"authorization": f"Token {token}"})

    assert response.status_code == 200
    assert _queries(server_timing(response)) == len(queries) > 0
