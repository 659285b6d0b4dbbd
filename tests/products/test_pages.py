import pytest

from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

# Categories, COUNT(*) for the paginator, one page of products with their category.
CATALOG_QUERIES = 3


def test_catalog_lists_active_products_only(client):
    ProductFactory(name="On sale")
    ProductFactory(name="Withdrawn", is_active=False)

    response = client.get("/products/")

    assert response.status_code == 200
    assert [product.name for product in response.context["page_obj"]] == ["On sale"]


def test_catalog_filters_by_category_slug(client):
    ProductFactory(name="Lamp", category=CategoryFactory(slug="lighting"))
    ProductFactory(name="Mouse", category=CategoryFactory(slug="input"))

    response = client.get("/products/?category=lighting")

    assert [product.name for product in response.context["page_obj"]] == ["Lamp"]


def test_catalog_shows_twenty_products_a_page(client):
    ProductFactory.create_batch(21)

    first = client.get("/products/")
    second = client.get("/products/?page=2")

    assert len(first.context["page_obj"]) == 20
    assert len(second.context["page_obj"]) == 1
    assert 'href="?page=2"' in first.text


@pytest.mark.parametrize("page", ["999", "abc", "-1"])
def test_catalog_with_a_bad_page_number_still_renders_a_page(client, page):
    ProductFactory()

    response = client.get(f"/products/?page={page}")

    assert response.status_code == 200
    assert len(response.context["page_obj"]) == 1


def test_catalog_ignores_malformed_filters(client):
    ProductFactory()

    response = client.get("/products/?category=&min_price=abc&ordering=bogus&in_stock=maybe")

    assert response.status_code == 200
    assert len(response.context["page_obj"]) == 1


@pytest.mark.parametrize("rows", [1, 50])
def test_catalog_runs_the_same_queries_for_1_and_50_products(client, django_assert_num_queries, rows):
    ProductFactory.create_batch(rows)

    with django_assert_num_queries(CATALOG_QUERIES):
        response = client.get("/products/")

    assert response.status_code == 200


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
