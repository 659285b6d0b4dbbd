import base64
import html
import re
from decimal import Decimal

import pytest

from apps.products import selectors
from apps.products.filters import ProductFilter
from apps.products.models import Product
from tests.factories import CategoryFactory, ProductFactory
from tests.queries import assert_constant_queries, assert_queries

pytestmark = pytest.mark.django_db

# Categories, one page of products with their category (keyset: no COUNT(*)).
CATALOG_QUERIES = 2
PAGE_SIZE = 20


def _link(response, rel: str) -> str | None:
    """The href of the page's rel="next" or rel="prev" link, as a browser would follow it."""
    match = re.search(rf'href="([^"]*)" rel="{rel}"', response.text)
    return None if match is None else "/products/" + html.unescape(match.group(1))


def _names(response) -> list[str]:
    return [product.name for product in response.context["page"]]


def _walk(client, url: str, rel: str) -> list[list[str]]:
    """Every page from ``url`` on, following the rel link until there is none."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(_names(response))
        url = _link(response, rel)
    return pages


def test_catalog_lists_active_products_only(client):
    ProductFactory(name="On sale")
    ProductFactory(name="Withdrawn", is_active=False)

    response = client.get("/products/")

    assert response.status_code == 200
    assert _names(response) == ["On sale"]


def test_catalog_filters_by_category_slug(client):
    ProductFactory(name="Lamp", category=CategoryFactory(slug="lighting"))
    ProductFactory(name="Mouse", category=CategoryFactory(slug="input"))

    response = client.get("/products/?category=lighting")

    assert _names(response) == ["Lamp"]


def test_catalog_shows_twenty_products_a_page_and_no_total(client):
    ProductFactory.create_batch(PAGE_SIZE + 1)

    first = client.get("/products/")
    second = client.get(_link(first, "next"))

    assert len(first.context["page"]) == PAGE_SIZE
    assert len(second.context["page"]) == 1
    assert _link(first, "prev") is None and _link(second, "next") is None
    assert " of " not in first.text  # no "Page 1 of N": that needs a COUNT(*)


def test_catalog_ignores_a_page_size_in_the_query_string(client):
    ProductFactory.create_batch(PAGE_SIZE + 1)

    response = client.get("/products/?page_size=100")

    assert len(response.context["page"]) == PAGE_SIZE


@pytest.mark.parametrize("ordering", ["", "price", "-price", "name", "-name", "created_at", "-created_at"])
def test_catalog_next_links_walk_every_product_once_in_order_and_prev_links_walk_back(client, ordering):
    # Equal prices (the factory's), names and dates across page boundaries: no skip, no repeat.
    products = ProductFactory.create_batch(2 * PAGE_SIZE + 5)
    Product.objects.filter(pk__in=[p.pk for p in products[::3]]).update(name="Same", price=Decimal("3.00"))
    expected = [p.name for p in ProductFilter({"ordering": ordering}, queryset=selectors.products_for_catalog()).qs]

    forward = _walk(client, f"/products/?ordering={ordering}", "next")
    last = client.get(f"/products/?ordering={ordering}")
    for _ in forward[1:]:
        last = client.get(_link(last, "next"))
    backward = _walk(client, _link(last, "prev"), "prev")

    assert [len(page) for page in forward] == [PAGE_SIZE, PAGE_SIZE, 5]
    assert [pk for page in forward for pk in page] == expected
    assert backward == forward[-2::-1]


def test_catalog_links_keep_the_filters(client):
    lighting = CategoryFactory(slug="lighting")
    ProductFactory.create_batch(PAGE_SIZE + 1, category=lighting, stock=2)
    ProductFactory.create_batch(PAGE_SIZE, stock=2)

    pages = _walk(client, "/products/?category=lighting&in_stock=true&ordering=-price", "next")

    assert [len(page) for page in pages] == [PAGE_SIZE, 1]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        base64.b64encode(b"p=not-a-date").decode(),  # decodes, but no created_at: not for the SQL
        base64.b64encode(b"o=-5").decode(),
        base64.b64encode(b"r=x").decode(),
    ],
)
def test_catalog_with_a_forged_cursor_shows_the_first_page(client, cursor):
    ProductFactory.create_batch(PAGE_SIZE + 1)

    response = client.get("/products/", {"cursor": cursor})

    assert response.status_code == 200
    assert _names(response) == _names(client.get("/products/"))
    assert _link(response, "prev") is None


def test_catalog_with_a_nul_character_in_a_forged_name_cursor_shows_the_first_page(client):
    # PostgreSQL refuses a NUL in a text parameter: the cursor must not reach the SQL.
    ProductFactory.create_batch(PAGE_SIZE + 1)

    response = client.get("/products/", {"ordering": "name", "cursor": base64.b64encode(b"p=a%00b").decode()})

    assert response.status_code == 200
    assert _names(response) == _names(client.get("/products/?ordering=name"))


def test_catalog_with_a_cursor_from_another_ordering_shows_the_first_page(client):
    ProductFactory.create_batch(PAGE_SIZE + 1)
    by_date = client.get("/products/")  # the cursor holds a created_at

    response = client.get(_link(by_date, "next") + "&ordering=price")

    assert response.status_code == 200
    assert _names(response) == _names(client.get("/products/?ordering=price"))


def test_catalog_ignores_malformed_filters(client):
    ProductFactory()

    response = client.get("/products/?category=&min_price=abc&ordering=bogus&in_stock=maybe")

    assert response.status_code == 200
    assert len(response.context["page"]) == 1


def test_catalog_runs_the_same_queries_for_1_and_50_products(client, settings):
    # What a miss costs: the same URL twice would otherwise be a hit (tested below).
    settings.RESPONSE_CACHE_ENABLED = False
    responses = assert_constant_queries(
        ProductFactory.create_batch, lambda: client.get("/products/"), budget=CATALOG_QUERIES
    )

    assert all(response.status_code == 200 for response in responses.values())


def test_a_deeper_catalog_page_runs_the_same_queries_and_counts_nothing(client):
    ProductFactory.create_batch(3 * PAGE_SIZE)
    second = _link(client.get("/products/"), "next")
    third = _link(client.get(second), "next")

    with assert_queries(CATALOG_QUERIES) as queries:
        response = client.get(third)

    assert len(response.context["page"]) == PAGE_SIZE
    assert not any("COUNT(" in query["sql"] for query in queries.captured_queries)


def test_product_page_shows_the_order_form_to_a_logged_in_user(client, user):
    product = ProductFactory(name="Desk lamp", stock=3)
    client.force_login(user)

    response = client.get(f"/products/{product.pk}/")

    assert response.status_code == 200
    assert "Desk lamp" in response.text
    assert f'action="/products/{product.pk}/order/"' in response.text


def test_product_page_asks_an_anonymous_visitor_to_log_in_to_order(client):
    product = ProductFactory()

    response = client.get(f"/products/{product.pk}/")

    assert response.status_code == 200
    assert f'href="/login/?next=/products/{product.pk}/"' in response.text
    assert "/order/" not in response.text


def test_product_page_of_a_sold_out_product_has_no_order_form(client, user):
    product = ProductFactory(stock=0)
    client.force_login(user)

    response = client.get(f"/products/{product.pk}/")

    assert "Sold out." in response.text
    assert "/order/" not in response.text


def test_product_page_of_an_inactive_product_is_a_404(client):
    product = ProductFactory(is_active=False)

    response = client.get(f"/products/{product.pk}/")

    assert response.status_code == 404
    assert "Not found" in response.text


@pytest.mark.parametrize("product_id", ["999999", "99999999999999999999999"])
def test_product_page_of_an_unknown_id_is_a_404(client, product_id):
    assert client.get(f"/products/{product_id}/").status_code == 404


# --- The catalog's controls: the API's parameters, from a form -------------------------------


def test_the_catalog_search_box_finds_products_by_name(client):
    ProductFactory(name="Desk lamp")
    ProductFactory(name="Mouse")

    response = client.get("/products/", {"search": "lamp"})

    assert _names(response) == ["Desk lamp"]
    assert 'name="search" value="lamp"' in response.text


@pytest.mark.parametrize(("ordering", "names"), [("price", ["Cheap", "Dear"]), ("-price", ["Dear", "Cheap"])])
def test_the_catalog_sort_menu_orders_by_price(client, ordering, names):
    ProductFactory(name="Dear", price=Decimal("20.00"))
    ProductFactory(name="Cheap", price=Decimal("5.00"))

    response = client.get("/products/", {"ordering": ordering})

    assert _names(response) == names
    assert f'<option value="{ordering}" selected>' in response.text


def test_the_catalog_filters_by_price_range_and_stock(client):
    ProductFactory(name="In range", price=Decimal("10.00"), stock=3)
    ProductFactory(name="Sold out", price=Decimal("10.00"), stock=0)
    ProductFactory(name="Too dear", price=Decimal("50.00"), stock=3)

    response = client.get("/products/", {"min_price": "5", "max_price": "20", "in_stock": "true"})

    assert _names(response) == ["In range"]
    assert 'id="catalog-in-stock" name="in_stock" value="true" checked' in response.text


def test_the_catalog_form_uses_the_apis_parameter_names(client):
    response = client.get("/products/")

    for name in ("search", "ordering", "min_price", "max_price", "in_stock"):
        assert name in ProductFilter.base_filters
        assert f'name="{name}"' in response.text


def test_no_results_offers_to_clear_the_filters(client):
    ProductFactory(name="Desk lamp")

    response = client.get("/products/", {"search": "nothing like it"})

    assert "No products match these filters." in response.text
    assert 'href="/products/">Clear filters</a>' in response.text


def test_an_unfiltered_catalog_offers_no_clear_filters_link(client):
    ProductFactory()

    assert "Clear filters" not in client.get("/products/").text


def test_prices_show_the_currency_setting(client, settings):
    settings.CURRENCY = "EUR"
    product = ProductFactory(price=Decimal("12.50"))

    assert "12.50 EUR" in client.get("/products/").text
    assert "12.50 EUR" in client.get(f"/products/{product.pk}/").text


# --- The catalog page is served from the response cache to anonymous visitors ----------------


def test_a_second_anonymous_catalog_read_is_a_response_cache_hit_that_runs_no_sql(client):
    ProductFactory(name="Desk lamp")
    miss = client.get("/products/", {"search": "lamp"})

    with assert_queries(0):
        hit = client.get("/products/", {"search": "lamp"})

    assert "X-Response-Cache" not in miss
    assert hit["X-Response-Cache"] == "hit"
    assert hit.content == miss.content
    assert "Content-Security-Policy" in hit


def test_the_cached_catalog_keeps_the_filter_parameters_and_drops_foreign_ones(client):
    ProductFactory(name="Desk lamp")
    ProductFactory(name="Mouse")
    client.get("/products/", {"search": "lamp", "in_stock": "True"})

    hit = client.get("/products/", {"in_stock": "true", "search": "lamp", "utm_source": "mail"})

    assert hit["X-Response-Cache"] == "hit"
    assert "Desk lamp" in hit.text and "Mouse" not in hit.text
    assert "utm_source" not in hit.text


def test_the_catalog_is_never_shared_from_or_into_the_cache_for_a_signed_in_user(client, user):
    ProductFactory()
    client.force_login(user)

    client.get("/products/")
    second = client.get("/products/")

    assert "X-Response-Cache" not in second
    assert user.email in second.text


@pytest.mark.django_db(transaction=True)
def test_a_product_write_is_seen_by_the_next_anonymous_catalog_read(client):
    # Committed, as in production: cacheops invalidates after the commit.
    product = ProductFactory(name="Desk lamp")
    client.get("/products/")

    Product.objects.filter(pk=product.pk).invalidated_update(name="Floor lamp")
    response = client.get("/products/")

    assert "X-Response-Cache" not in response
    assert "Floor lamp" in response.text
