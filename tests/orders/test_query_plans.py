"""EXPLAIN proofs: the API's list and filter queries reach orders and products through an index.

The data is seeded small (seed_scale), analyzed, and then sequential scans are priced out of the
planner (enable_seqscan = off), which is how the plan is made to match the one at scale: a Seq
Scan that remains on orders_order or products_product is one that no index can replace. The SQL
explained is exactly what the API ran, captured from the requests.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.products.models import Category
from apps.users.models import User
from tests.factories import TokenFactory

pytestmark = pytest.mark.postgres

GUARDED_TABLES = ("orders_order", "products_product")


@pytest.fixture
def seeded(postgres):
    call_command("seed_scale", users=500, products=2000, orders=20000, stdout=None)


def _sequential_scans(queries: CaptureQueriesContext) -> dict[str, str]:
    """The plan of every SELECT on a guarded table that still reads one by a Seq Scan."""
    found = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or not any(f'"{table}"' in sql for table in GUARDED_TABLES):
                continue
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if any(f"Seq Scan on {table}" in plan for table in GUARDED_TABLES):
                found[sql] = plan
    return found


def _report(scans: dict[str, str]) -> str:
    return "\n\n".join(f"{sql}\n{plan}" for sql, plan in scans.items())


def test_the_orders_list_of_the_busiest_user_reads_orders_by_index_on_the_first_and_a_deep_page(seeded):
    busiest = User.objects.annotate(n=Count("orders")).order_by("-n").first()
    assert busiest.n >= 100
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=busiest).key}")

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/v1/orders/").json()
        for _ in range(3):
            page = client.get(page["next"]).json()
    assert page["results"]

    order_queries = [q for q in queries.captured_queries if '"orders_order"' in q["sql"]]
    assert order_queries and not any("COUNT(" in q["sql"] for q in order_queries)
    scans = _sequential_scans(queries)
    assert not scans, _report(scans)


@pytest.mark.parametrize(
    "query_string",
    [
        "",
        "?ordering=price",
        "?ordering=-price",
        "?ordering=created_at",
        "?ordering=-created_at",
        "?ordering=name",
        "?ordering=-name",
        "?category={category}",
        "?category={category}&ordering=price",
        "?min_price=50&max_price=100",
        "?min_price=50&max_price=100&ordering=-price",
        "?in_stock=true",
        "?in_stock=false",
        "?search=product 1",
        "?page=5",
    ],
)
def test_the_product_list_reads_products_by_index_for_each_filter_and_ordering(seeded, query_string):
    category = Category.objects.nocache().order_by("id").last()
    url = "/api/v1/products/" + query_string.format(category=category.slug)

    client = APIClient()  # signed in: an anonymous list could be answered by the response cache, with no SQL
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory().key}")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content

    assert any('"products_product"' in q["sql"] for q in queries.captured_queries), "no product query ran"
    scans = _sequential_scans(queries)
    assert not scans, _report(scans)
