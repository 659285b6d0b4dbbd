import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.products.models import Product
from tests.factories import CategoryFactory, ProductFactory
from tests.queries import assert_constant_queries, assert_queries

pytestmark = pytest.mark.django_db
# Committed rows, so that the response cache is invalidated between the read at 1 row and the one at 50.
committed = pytest.mark.django_db(transaction=True)

CATEGORIES_URL = "/api/v1/categories/"
PRODUCTS_URL = "/api/v1/products/"


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def _created_days_ago(product: Product, days: int) -> None:
    # created_at is auto_now_add; two rows made in one test can share a timestamp, so set it apart.
    Product.objects.filter(pk=product.pk).update(created_at=timezone.now() - timedelta(days=days))


def test_categories_are_listed_to_anyone_by_name(api_client):
    tools = CategoryFactory(name="Tools")
    books = CategoryFactory(name="Books")

    response = api_client.get(CATEGORIES_URL)

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert response.json()["results"] == [
        {"id": books.pk, "name": "Books", "slug": books.slug},
        {"id": tools.pk, "name": "Tools", "slug": tools.slug},
    ]


def test_a_category_is_shown_to_anyone(api_client):
    category = CategoryFactory()

    response = api_client.get(f"{CATEGORIES_URL}{category.pk}/")

    assert response.status_code == 200
    assert response.json() == {"id": category.pk, "name": category.name, "slug": category.slug}


def test_products_are_listed_to_anyone(api_client):
    product = ProductFactory()

    response = api_client.get(PRODUCTS_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}  # keyset pages: no count
    assert body["results"][0]["id"] == product.pk
    assert body["results"][0]["category"] == {
        "id": product.category.pk,
        "name": product.category.name,
        "slug": product.category.slug,
    }


def test_product_list_leaves_out_inactive_products(api_client):
    active = ProductFactory()
    ProductFactory(is_active=False)

    response = api_client.get(PRODUCTS_URL)

    assert _ids(response) == [active.pk]


def test_product_list_is_newest_first_by_default(api_client):
    older = ProductFactory()
    newer = ProductFactory()
    _created_days_ago(older, 2)
    _created_days_ago(newer, 1)

    response = api_client.get(PRODUCTS_URL)

    assert _ids(response) == [newer.pk, older.pk]


def test_product_list_pages_hold_the_page_size_asked_for(api_client):
    ProductFactory.create_batch(3)

    response = api_client.get(PRODUCTS_URL, {"page_size": 2})

    assert len(response.json()["results"]) == 2
    assert response.json()["next"] is not None


@pytest.mark.parametrize("ordering", ["", "price", "-price", "name", "-name", "created_at", "-created_at"])
def test_product_list_next_links_walk_every_product_once_in_order_even_with_equal_values(api_client, ordering):
    # Equal prices, names and dates: the cursor must still neither skip nor repeat a product.
    products = ProductFactory.create_batch(7, price=Decimal("5.00"), name="Same")
    Product.objects.filter(pk__in=[p.pk for p in products[:3]]).update(price=Decimal("3.00"), name="Another")
    expected = _ids(api_client.get(PRODUCTS_URL, {"ordering": ordering, "page_size": 100}))

    seen, url, params = [], PRODUCTS_URL, {"ordering": ordering, "page_size": 2}
    while url:
        body = api_client.get(url, params).json()
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None

    assert seen == expected and sorted(seen) == sorted(p.pk for p in products)


def test_product_list_previous_link_goes_back_to_the_page_before(api_client):
    ProductFactory.create_batch(5)
    first = api_client.get(PRODUCTS_URL, {"page_size": 2}).json()
    second = api_client.get(first["next"]).json()

    back = api_client.get(second["previous"]).json()

    assert back["results"] == first["results"]


def test_product_list_previous_link_from_a_short_last_page_of_equal_prices_is_the_page_before(api_client):
    # The last page and the rows before it share one price, so the link back can only count rows.
    ProductFactory.create_batch(3, price=Decimal("3.00"))
    ProductFactory.create_batch(4, price=Decimal("5.00"))
    first = api_client.get(PRODUCTS_URL, {"ordering": "price", "page_size": 3}).json()
    second = api_client.get(first["next"]).json()
    last = api_client.get(second["next"]).json()

    back = api_client.get(last["previous"]).json()

    assert len(last["results"]) == 1
    assert back["results"] == second["results"]


def test_product_list_page_size_is_capped_at_100(api_client):
    ProductFactory.create_batch(101)

    response = api_client.get(PRODUCTS_URL, {"page_size": 1000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


def test_product_list_with_a_forged_cursor_is_404(api_client):
    ProductFactory()

    response = api_client.get(PRODUCTS_URL, {"cursor": "not-a-cursor"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_product_list_with_a_nul_character_in_a_forged_name_cursor_is_404(api_client):
    ProductFactory()

    response = api_client.get(PRODUCTS_URL, {"ordering": "name", "cursor": base64.b64encode(b"p=a%00b").decode()})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_product_list_filters_by_category_slug(api_client):
    book = ProductFactory(category=CategoryFactory(slug="books"))
    ProductFactory(category=CategoryFactory(slug="tools"))

    response = api_client.get(PRODUCTS_URL, {"category": "books"})

    assert _ids(response) == [book.pk]


def test_product_list_filters_by_min_price_inclusive(api_client):
    ProductFactory(price=Decimal("9.99"))
    at_min = ProductFactory(price=Decimal("10.00"))

    response = api_client.get(PRODUCTS_URL, {"min_price": "10"})

    assert _ids(response) == [at_min.pk]


def test_product_list_filters_by_max_price_inclusive(api_client):
    at_max = ProductFactory(price=Decimal("10.00"))
    ProductFactory(price=Decimal("10.01"))

    response = api_client.get(PRODUCTS_URL, {"max_price": "10"})

    assert _ids(response) == [at_max.pk]


def test_product_list_filters_by_in_stock(api_client):
    in_stock = ProductFactory(stock=1)
    ProductFactory(stock=0)

    response = api_client.get(PRODUCTS_URL, {"in_stock": "true"})

    assert _ids(response) == [in_stock.pk]


def test_product_list_searches_names_in_any_letter_case(api_client):
    lamp = ProductFactory(name="Desk Lamp")
    ProductFactory(name="Chair")

    response = api_client.get(PRODUCTS_URL, {"search": "lamp"})

    assert _ids(response) == [lamp.pk]


@pytest.mark.parametrize(
    ("ordering", "expected_names"),
    [
        ("price", ["cheap", "middle", "dear"]),
        ("-price", ["dear", "middle", "cheap"]),
        ("name", ["cheap", "dear", "middle"]),
        ("created_at", ["middle", "dear", "cheap"]),
        ("-created_at", ["cheap", "dear", "middle"]),
    ],
)
def test_product_list_orders_by_the_field_asked_for(api_client, ordering, expected_names):
    _created_days_ago(ProductFactory(name="middle", price=Decimal("5.00")), 3)
    _created_days_ago(ProductFactory(name="dear", price=Decimal("9.00")), 2)
    _created_days_ago(ProductFactory(name="cheap", price=Decimal("1.00")), 1)

    response = api_client.get(PRODUCTS_URL, {"ordering": ordering})

    assert [row["name"] for row in response.json()["results"]] == expected_names


@pytest.mark.parametrize(
    "params",
    [
        {"min_price": "abc"},
        {"max_price": "abc"},
        {"min_price": "NaN"},
        {"max_price": "Infinity"},
        {"min_price": "1e400"},
        {"ordering": "bogus"},
        {"ordering": "description"},
        {"search": "x" * 101},
    ],
    ids=lambda params: "&".join(f"{key}={value[:10]}" for key, value in params.items()),
)
def test_product_list_with_an_invalid_filter_value_is_400(api_client, params):
    response = api_client.get(PRODUCTS_URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["fields"]) == set(params)


def test_a_product_is_shown_to_anyone(api_client):
    product = ProductFactory()

    response = api_client.get(f"{PRODUCTS_URL}{product.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == product.pk
    assert response.json()["description"] == product.description


def test_an_inactive_product_is_404_for_anyone_but_staff(user_client):
    product = ProductFactory(is_active=False)

    response = user_client.get(f"{PRODUCTS_URL}{product.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_inactive_product_is_shown_to_staff(staff_client):
    product = ProductFactory(is_active=False)

    response = staff_client.get(f"{PRODUCTS_URL}{product.pk}/")

    assert response.status_code == 200
    assert response.json()["is_active"] is False


@pytest.mark.parametrize("product_id", ["999999", str(10**30)])
def test_an_unknown_product_id_is_404(api_client, product_id):
    response = api_client.get(f"{PRODUCTS_URL}{product_id}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@committed
def test_category_list_costs_the_same_queries_for_1_and_50_rows(api_client):
    # COUNT, page
    responses = assert_constant_queries(CategoryFactory.create_batch, lambda: api_client.get(CATEGORIES_URL), budget=2)

    assert {rows: len(response.json()["results"]) for rows, response in responses.items()} == {1: 1, 50: 20}


@committed
def test_product_list_costs_the_same_queries_for_1_and_50_rows(api_client):
    # The page with its categories joined; no COUNT.
    responses = assert_constant_queries(ProductFactory.create_batch, lambda: api_client.get(PRODUCTS_URL), budget=1)

    assert {rows: len(response.json()["results"]) for rows, response in responses.items()} == {1: 1, 50: 20}


@committed
def test_filtered_product_list_costs_the_same_queries_for_1_and_50_rows(api_client):
    category = CategoryFactory(slug="books")
    params = {
        "category": "books",
        "min_price": "1",
        "max_price": "10",
        "in_stock": "true",
        "search": "product",
        "ordering": "-price",
        "page_size": 100,
    }

    # The page with its categories joined; no COUNT.
    responses = assert_constant_queries(
        lambda count: ProductFactory.create_batch(count, category=category, price=Decimal("5.00")),
        lambda: api_client.get(PRODUCTS_URL, params),
        budget=1,
    )

    assert {rows: len(response.json()["results"]) for rows, response in responses.items()} == {1: 1, 50: 50}


def test_a_deeper_product_page_costs_the_same_one_query(api_client):
    ProductFactory.create_batch(50)
    second = api_client.get(api_client.get(PRODUCTS_URL, {"page_size": 10}).json()["next"]).json()

    with assert_queries(1):  # keyset: WHERE created_at < the cursor's, no OFFSET over the rows before
        response = api_client.get(second["next"])

    assert len(response.json()["results"]) == 10
