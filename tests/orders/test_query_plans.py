"""EXPLAIN proofs at scale: the API's list and filter queries, and the HTML catalog and "my orders"
pages, reach their big tables through an index.

The module seeds one dataset with seed_scale (SCALE: 20k users, 10k products, 200k orders and
their ~600k items, a few seconds), analyzed, in a transaction rolled back at the end, and every
test makes API requests on it and runs EXPLAIN on exactly the SQL they sent, with the planner's
own costs: nothing is forced (no enable_seqscan = off). A Seq Scan on a table of GUARDED_ROWS rows
or more (orders, items, products, users) fails the test: at this size the planner already prefers
a full read wherever no index fits, so a plan that passes here is one the planner picks, not just
one an index could serve.
"""

from __future__ import annotations

import html
import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.products.models import Category
from apps.users.models import User
from tests.factories import TokenFactory

pytestmark = pytest.mark.postgres

SCALE = {"users": 20_000, "products": 10_000, "orders": 200_000}
# A Seq Scan is fine on a table this small (the 50 categories, the tokens): reading it all is cheapest.
GUARDED_ROWS = 1_000
TRIGRAM_INDEX = "products_name_trgm_idx"


@pytest.fixture(scope="module")
def scale(django_db_setup, django_db_blocker):
    """The dataset, seeded once for the module inside a transaction that is rolled back after it;
    each test's own transaction is a savepoint in it."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_scale", **SCALE, stdout=None)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def signed_in(scale, db) -> APIClient:
    """Signed in: an anonymous catalog read could be answered by the response cache, with no SQL."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory().key}")
    return client


def _plans(queries: CaptureQueriesContext) -> dict[str, str]:
    """The plan of every SELECT the requests sent, by its SQL."""
    plans = {}
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if sql.startswith("SELECT"):
                cursor.execute(f"EXPLAIN {sql}")
                plans[sql] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def _big_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
            "AND reltuples >= %s",
            [GUARDED_ROWS],
        )
        return {name for (name,) in cursor.fetchall()}


def _sequential_scans(plans: dict[str, str]) -> dict[str, str]:
    big = _big_tables()
    assert {"orders_order", "orders_orderitem", "products_product", "users_user"} <= big, big
    return {sql: plan for sql, plan in plans.items() if any(f"Seq Scan on {table}" in plan for table in big)}


def _report(plans: dict[str, str]) -> str:
    return "\n\n".join(f"{sql}\n{plan}" for sql, plan in plans.items())


def _get(client: APIClient, url: str) -> tuple[dict, dict[str, str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json(), _plans(queries)


def test_the_orders_list_of_the_busiest_user_reads_by_index_on_the_first_and_deep_keyset_pages(scale, db):
    busiest = User.objects.annotate(n=Count("orders")).order_by("-n").first()
    assert busiest.n >= 1_000
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=busiest).key}")

    page, plans = _get(client, "/api/v1/orders/?page_size=100")
    for _ in range(9):  # ten pages: 1,000 orders deep
        page, more = _get(client, page["next"])
        plans.update(more)
    assert page["results"] and page["next"]

    order_plans = {sql: plan for sql, plan in plans.items() if '"orders_order"' in sql}
    assert order_plans and not any("COUNT(" in sql for sql in order_plans)
    assert all("orders_user_created_idx" in plan for sql, plan in order_plans.items() if 'FROM "orders_order"' in sql)
    scans = _sequential_scans(plans)
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
        "?search=product 4321",
        "?search=product 4321&ordering=price",
        "?page_size=100",
    ],
)
def test_the_product_list_reads_products_by_index_for_each_filter_and_ordering(signed_in, query_string):
    category = Category.objects.nocache().order_by("id").last()

    _, plans = _get(signed_in, "/api/v1/products/" + query_string.format(category=category.slug))

    assert any('"products_product"' in sql for sql in plans), "no product query ran"
    scans = _sequential_scans(plans)
    assert not scans, _report(scans)


@pytest.mark.parametrize("ordering", ["", "&ordering=price", "&ordering=-name"])
def test_a_deep_product_page_reads_by_index_and_counts_nothing(signed_in, ordering):
    page, plans = _get(signed_in, f"/api/v1/products/?page_size=100{ordering}")
    for _ in range(5):
        page, more = _get(signed_in, page["next"])
        plans.update(more)

    product_sql = [sql for sql in plans if '"products_product"' in sql]
    assert product_sql and not any("COUNT(" in sql for sql in product_sql)
    scans = _sequential_scans(plans)
    assert not scans, _report(scans)


def test_a_search_for_a_rare_name_reads_the_trigram_index(signed_in):
    page, plans = _get(signed_in, "/api/v1/products/?search=product 4321")

    names = [row["name"] for row in page["results"]]
    assert names and all("4321" in name for name in names), names  # seeded: "Scale product 4321"
    assert any(TRIGRAM_INDEX in plan for sql, plan in plans.items() if '"products_product"' in sql), _report(plans)


def test_the_category_list_reads_no_big_table(signed_in):
    _, plans = _get(signed_in, "/api/v1/categories/")

    assert any('"products_category"' in sql for sql in plans)
    scans = _sequential_scans(plans)
    assert not scans, _report(scans)


def _get_page(client: Client, url: str) -> tuple[str | None, dict[str, str]]:
    """An HTML page's plans, and the URL its rel="next" link leads to (None on the last page)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    match = re.search(r'href="([^"]*)" rel="next"', response.text)
    following = None if match is None else url.split("?")[0] + html.unescape(match.group(1))
    return following, _plans(queries)


def test_the_my_orders_page_of_the_busiest_user_reads_by_index_on_the_first_and_deep_keyset_pages(scale, db):
    busiest = User.objects.annotate(n=Count("orders")).order_by("-n").first()
    client = Client()
    client.force_login(busiest)

    url, plans = _get_page(client, "/orders/")
    for _ in range(9):  # ten pages of 20
        url, more = _get_page(client, url)
        plans.update(more)
    assert url

    order_plans = {sql: plan for sql, plan in plans.items() if '"orders_order"' in sql}
    assert order_plans and not any("COUNT(" in sql for sql in plans)
    assert all("orders_user_created_idx" in plan for sql, plan in order_plans.items() if 'FROM "orders_order"' in sql)
    scans = _sequential_scans(plans)
    assert not scans, _report(scans)


@pytest.mark.parametrize(
    "query_string",
    [
        "",
        "?ordering=price",
        "?ordering=-name",
        "?category={category}",
        "?category={category}&ordering=-price",
        "?in_stock=true",
    ],
)
def test_the_catalog_page_reads_products_by_index_on_the_first_and_deep_keyset_pages(scale, db, query_string):
    category = Category.objects.nocache().order_by("id").last()
    client = Client()
    client.force_login(User.objects.order_by("id").first())  # an anonymous page could come from the response cache

    url, plans = _get_page(client, "/products/" + query_string.format(category=category.slug))
    for _ in range(5):
        url, more = _get_page(client, url)
        plans.update(more)
    assert url

    assert any('"products_product"' in sql for sql in plans), "no product query ran"
    assert not any("COUNT(" in sql for sql in plans)
    scans = _sequential_scans(plans)
    assert not scans, _report(scans)
