from decimal import Decimal

import pytest

from apps.products.models import Category, Product
from tests.factories import CategoryFactory, OrderItemFactory, ProductFactory

pytestmark = pytest.mark.django_db

CATEGORIES_URL = "/api/v1/categories/"
PRODUCTS_URL = "/api/v1/products/"


def _product_input(category: Category) -> dict:
    return {"category": category.pk, "name": "Lamp", "slug": "lamp", "price": "12.50", "stock": 3}


def test_staff_creates_a_product(staff_client):
    category = CategoryFactory()

    response = staff_client.post(PRODUCTS_URL, _product_input(category))

    assert response.status_code == 201
    product = Product.objects.get()
    assert response.json()["id"] == product.pk
    assert response.json()["category"]["id"] == category.pk
    assert (product.name, product.price, product.stock) == ("Lamp", Decimal("12.50"), 3)


def test_product_create_by_an_anonymous_caller_is_401(api_client):
    response = api_client.post(PRODUCTS_URL, _product_input(CategoryFactory()))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Product.objects.exists()


def test_product_create_by_a_non_staff_user_is_403(user_client):
    response = user_client.post(PRODUCTS_URL, _product_input(CategoryFactory()))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "-0.01"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1e400"}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": 10**30}, "stock"),
        ({"category": 999999}, "category"),
        ({"category": 10**30}, "category"),
        ({"category": "abc"}, "category"),
        ({"slug": "not a slug"}, "slug"),
        ({"name": ""}, "name"),
    ],
    ids=lambda value: str(value)[:20] if not isinstance(value, str) else value,
)
def test_product_create_with_bad_input_is_400(staff_client, overrides, field):
    response = staff_client.post(PRODUCTS_URL, {**_product_input(CategoryFactory()), **overrides})

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Product.objects.exists()


def test_product_create_with_a_taken_slug_is_400(staff_client):
    existing = ProductFactory(slug="lamp")

    response = staff_client.post(PRODUCTS_URL, _product_input(existing.category))

    assert response.status_code == 400
    assert "slug" in response.json()["error"]["fields"]
    assert Product.objects.count() == 1


def test_staff_patches_a_product(staff_client):
    product = ProductFactory(price=Decimal("10.00"))

    response = staff_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"price": "8.00"})

    assert response.status_code == 200
    assert response.json()["price"] == "8.00"
    product.refresh_from_db()
    assert product.price == Decimal("8.00")


def test_staff_patches_an_inactive_product(staff_client):
    product = ProductFactory(is_active=False)

    response = staff_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"is_active": True})

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.is_active


def test_product_patch_keeping_its_own_slug_is_accepted(staff_client):
    product = ProductFactory(slug="lamp")

    response = staff_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"slug": "lamp", "name": "Lamp"})

    assert response.status_code == 200


def test_product_patch_to_a_taken_slug_is_400(staff_client):
    ProductFactory(slug="taken")
    product = ProductFactory(slug="mine")

    response = staff_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"slug": "taken"})

    assert response.status_code == 400
    assert "slug" in response.json()["error"]["fields"]


def test_product_patch_to_a_negative_stock_is_400(staff_client):
    product = ProductFactory(stock=5)

    response = staff_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"stock": -1})

    assert response.status_code == 400
    product.refresh_from_db()
    assert product.stock == 5


def test_product_patch_by_a_non_staff_user_is_403(user_client):
    product = ProductFactory(price=Decimal("10.00"))

    response = user_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"price": "1.00"})

    assert response.status_code == 403
    product.refresh_from_db()
    assert product.price == Decimal("10.00")


def test_product_patch_by_an_anonymous_caller_is_401(api_client):
    product = ProductFactory()

    response = api_client.patch(f"{PRODUCTS_URL}{product.pk}/", {"price": "1.00"})

    assert response.status_code == 401


def test_product_patch_of_an_unknown_product_is_404(staff_client):
    response = staff_client.patch(f"{PRODUCTS_URL}999999/", {"price": "1.00"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_staff_deletes_a_product_never_ordered(staff_client):
    product = ProductFactory()

    response = staff_client.delete(f"{PRODUCTS_URL}{product.pk}/")

    assert response.status_code == 204
    assert not Product.objects.exists()


def test_deleting_an_ordered_product_is_409_and_keeps_it(staff_client):
    product = OrderItemFactory().product

    response = staff_client.delete(f"{PRODUCTS_URL}{product.pk}/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "product_in_use"
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_delete_by_a_non_staff_user_is_403(user_client):
    product = ProductFactory()

    response = user_client.delete(f"{PRODUCTS_URL}{product.pk}/")

    assert response.status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_delete_by_an_anonymous_caller_is_401(api_client):
    product = ProductFactory()

    response = api_client.delete(f"{PRODUCTS_URL}{product.pk}/")

    assert response.status_code == 401
    assert Product.objects.filter(pk=product.pk).exists()


def test_staff_creates_a_category(staff_client):
    response = staff_client.post(CATEGORIES_URL, {"name": "Books", "slug": "books"})

    assert response.status_code == 201
    category = Category.objects.get()
    assert response.json() == {"id": category.pk, "name": "Books", "slug": "books"}


def test_category_create_by_an_anonymous_caller_is_401(api_client):
    response = api_client.post(CATEGORIES_URL, {"name": "Books", "slug": "books"})

    assert response.status_code == 401
    assert not Category.objects.exists()


def test_category_create_by_a_non_staff_user_is_403(user_client):
    response = user_client.post(CATEGORIES_URL, {"name": "Books", "slug": "books"})

    assert response.status_code == 403
    assert not Category.objects.exists()


def test_category_create_with_a_taken_slug_is_400(staff_client):
    CategoryFactory(slug="books")

    response = staff_client.post(CATEGORIES_URL, {"name": "More books", "slug": "books"})

    assert response.status_code == 400
    assert "slug" in response.json()["error"]["fields"]
    assert Category.objects.count() == 1


def test_category_create_without_a_name_is_400(staff_client):
    response = staff_client.post(CATEGORIES_URL, {"slug": "books"})

    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_staff_patches_a_category(staff_client):
    category = CategoryFactory(name="Books")

    response = staff_client.patch(f"{CATEGORIES_URL}{category.pk}/", {"name": "Novels"})

    assert response.status_code == 200
    assert response.json()["name"] == "Novels"
    category.refresh_from_db()
    assert category.name == "Novels"


def test_category_patch_to_a_taken_slug_is_400(staff_client):
    CategoryFactory(slug="taken")
    category = CategoryFactory(slug="mine")

    response = staff_client.patch(f"{CATEGORIES_URL}{category.pk}/", {"slug": "taken"})

    assert response.status_code == 400
    assert "slug" in response.json()["error"]["fields"]


def test_category_patch_by_a_non_staff_user_is_403(user_client):
    category = CategoryFactory(name="Books")

    response = user_client.patch(f"{CATEGORIES_URL}{category.pk}/", {"name": "Novels"})

    assert response.status_code == 403


def test_staff_deletes_an_empty_category(staff_client):
    category = CategoryFactory()

    response = staff_client.delete(f"{CATEGORIES_URL}{category.pk}/")

    assert response.status_code == 204
    assert not Category.objects.exists()


def test_deleting_a_category_that_has_products_is_409_and_keeps_it(staff_client):
    category = ProductFactory().category

    response = staff_client.delete(f"{CATEGORIES_URL}{category.pk}/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "category_in_use"
    assert Category.objects.filter(pk=category.pk).exists()


def test_category_delete_by_an_anonymous_caller_is_401(api_client):
    category = CategoryFactory()

    response = api_client.delete(f"{CATEGORIES_URL}{category.pk}/")

    assert response.status_code == 401
    assert Category.objects.filter(pk=category.pk).exists()
