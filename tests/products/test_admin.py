import pytest

from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

# Session user, filtered and total COUNT(*), one page of rows.
CATEGORY_CHANGELIST_QUERIES = 4
# The same, plus the categories for the filter; each product's category comes in its row's join.
PRODUCT_CHANGELIST_QUERIES = 5


@pytest.mark.parametrize("rows", [1, 50])
def test_category_changelist_runs_the_same_queries_for_1_and_50_categories(
    admin_client, django_assert_num_queries, rows
):
    CategoryFactory.create_batch(rows)

    with django_assert_num_queries(CATEGORY_CHANGELIST_QUERIES):
        response = admin_client.get("/admin/products/category/")

    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 50])
def test_product_changelist_runs_the_same_queries_for_1_and_50_products(admin_client, django_assert_num_queries, rows):
    ProductFactory.create_batch(rows)

    with django_assert_num_queries(PRODUCT_CHANGELIST_QUERIES):
        response = admin_client.get("/admin/products/product/")

    assert response.status_code == 200


def test_product_change_page_renders(admin_client):
    product = ProductFactory()

    assert admin_client.get(f"/admin/products/product/{product.pk}/change/").status_code == 200


def test_category_autocomplete_finds_categories_by_name(admin_client):
    CategoryFactory(name="Lighting")
    CategoryFactory(name="Audio")

    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "products", "model_name": "product", "field_name": "category", "term": "ligh"},
    )

    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Lighting"]
