from decimal import Decimal

import pytest

from apps.orders.services import OrderLine, order_create
from apps.products.models import Product, StockAdjustment
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

# Session user, filtered and total COUNT(*), one page of rows.
CATEGORY_CHANGELIST_QUERIES = 4
# The same, plus the categories for the filter; each product's category comes in its row's join.
PRODUCT_CHANGELIST_QUERIES = 5


def test_category_changelist_runs_the_same_queries_for_1_and_50_categories(admin_client):
    responses = assert_constant_queries(
        CategoryFactory.create_batch,
        lambda: admin_client.get("/admin/products/category/"),
        budget=CATEGORY_CHANGELIST_QUERIES,
    )

    assert all(response.status_code == 200 for response in responses.values())


def test_product_changelist_runs_the_same_queries_for_1_and_50_products(admin_client):
    responses = assert_constant_queries(
        ProductFactory.create_batch,
        lambda: admin_client.get("/admin/products/product/"),
        budget=PRODUCT_CHANGELIST_QUERIES,
    )

    assert all(response.status_code == 200 for response in responses.values())


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


def _change_form_data(product, **overrides) -> dict:
    """What the change form posts back, as read before any of the test's writes."""
    data = {
        "category": product.category_id,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "price": str(product.price),
        "stock": product.stock,
        "is_active": "on",
    }
    return {**data, **overrides}


def test_an_admin_edit_keeps_the_stock_that_orders_took_after_the_form_was_read(admin_client):
    product = ProductFactory(stock=10, price=Decimal("10.00"))
    form_data = _change_form_data(product, price="12.50")
    order_create(user=UserFactory(), items=[OrderLine(product_id=product.pk, quantity=3)])

    response = admin_client.post(f"/admin/products/product/{product.pk}/change/", form_data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("12.50"), 7)


def test_stock_is_read_only_on_the_product_change_form(admin_client):
    product = ProductFactory(stock=10)

    admin_client.post(f"/admin/products/product/{product.pk}/change/", _change_form_data(product, stock=999))

    assert Product.objects.get(pk=product.pk).stock == 10


def test_a_new_product_gets_its_initial_stock_from_the_add_form(admin_client):
    category = CategoryFactory()

    response = admin_client.post(
        "/admin/products/product/add/",
        {"category": category.pk, "name": "Lamp", "slug": "lamp", "price": "5.00", "stock": 4, "is_active": "on"},
    )

    assert response.status_code == 302
    assert Product.objects.get(slug="lamp").stock == 4


def test_the_product_change_page_links_to_adjust_stock(admin_client):
    product = ProductFactory()

    response = admin_client.get(f"/admin/products/product/{product.pk}/change/")

    assert f"/admin/products/product/{product.pk}/adjust-stock/" in response.content.decode()


def test_staff_adjust_stock_on_the_adjust_stock_page(admin_client, admin_user):
    product = ProductFactory(stock=10)
    StockAdjustment.objects.create(product=product, delta=2, reason="Earlier delivery", stock_after=10)
    url = f"/admin/products/product/{product.pk}/adjust-stock/"
    assert "Earlier delivery" in admin_client.get(url).content.decode()

    response = admin_client.post(url, {"delta": "-4", "reason": "Water damage"})

    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).stock == 6
    adjustment = StockAdjustment.objects.first()
    assert (adjustment.delta, adjustment.reason, adjustment.user, adjustment.stock_after) == (
        -4,
        "Water damage",
        admin_user,
        6,
    )


def test_an_adjustment_below_zero_on_the_admin_page_shows_why_and_writes_nothing(admin_client):
    product = ProductFactory(stock=2)

    response = admin_client.post(
        f"/admin/products/product/{product.pk}/adjust-stock/", {"delta": "-3", "reason": "Count"}
    )

    assert response.status_code == 200
    assert "Stock would be -1." in response.content.decode()
    assert Product.objects.get(pk=product.pk).stock == 2
    assert not StockAdjustment.objects.exists()


def test_the_adjust_stock_page_is_for_staff_allowed_to_adjust(client, django_user_model):
    product = ProductFactory()
    staff = django_user_model.objects.create_user(email="clerk@example.com", password="x", is_staff=True)
    client.force_login(staff)

    response = client.post(f"/admin/products/product/{product.pk}/adjust-stock/", {"delta": "5", "reason": "Mine"})

    assert response.status_code == 403
    assert not StockAdjustment.objects.exists()


def test_stock_adjustments_are_listed_read_only_in_the_admin(admin_client):
    adjustment = StockAdjustment.objects.create(product=ProductFactory(), delta=2, reason="Delivery", stock_after=12)

    assert "Delivery" in admin_client.get("/admin/products/stockadjustment/").content.decode()
    assert admin_client.get("/admin/products/stockadjustment/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/products/stockadjustment/{adjustment.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert StockAdjustment.objects.filter(pk=adjustment.pk).exists()


# --- Product CSV upload -----------------------------------------------------------------------

UPLOAD_URL = "/admin/products/productimport/upload/"


def _csv_file(text: str, name: str = "products.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_the_import_list_offers_an_upload_and_the_upload_page_documents_the_columns(admin_client):
    from apps.products.csv_import import COLUMN_DOCS

    listing = admin_client.get("/admin/products/productimport/")
    upload = admin_client.get(UPLOAD_URL)

    assert f'href="{UPLOAD_URL}"' in listing.text
    assert upload.status_code == 200
    for column in COLUMN_DOCS:
        assert f"<code>{column}</code>" in upload.text


def test_staff_upload_a_product_csv_from_the_admin_and_land_on_the_imports_page(
    admin_client, django_capture_on_commit_callbacks
):
    from apps.products.models import ProductImport

    CategoryFactory(slug="lighting")
    with django_capture_on_commit_callbacks() as jobs:
        response = admin_client.post(
            UPLOAD_URL,
            {"file": _csv_file("slug,name,category,price\ndesk-lamp,Desk lamp,lighting,24.90\n")},
            follow=True,
        )

    product_import = ProductImport.objects.get()
    assert response.redirect_chain == [(f"/admin/products/productimport/{product_import.pk}/change/", 302)]
    assert "is queued." in response.text
    assert f'data-job-status-url="/api/v1/products/imports/{product_import.pk}/"' in response.text
    assert len(jobs) == 1


def test_a_file_without_the_required_columns_is_a_form_error(admin_client):
    from apps.products.models import ProductImport

    response = admin_client.post(UPLOAD_URL, {"file": _csv_file("slug,name\nx,y\n")})

    assert response.status_code == 200
    assert "Missing columns: category, price." in response.text
    assert not ProductImport.objects.exists()


def test_an_imports_errors_show_as_a_table_by_line_and_column(admin_client):
    from apps.products import services
    from apps.products.models import ProductImport

    CategoryFactory(slug="lighting")
    services.product_import_request(
        user=UserFactory(is_staff=True),
        upload=_csv_file("slug,name,category,price\nok,Fine,lighting,1.00\nbad,Broken,lighting,abc\n"),
    )
    product_import = ProductImport.objects.get()
    services.product_import_run(import_id=product_import.pk)

    response = admin_client.get(f"/admin/products/productimport/{product_import.pk}/change/")

    assert "<tr><td>3</td><td>price</td><td>Not a number: &#x27;abc&#x27;.</td></tr>" in response.text
    assert '"errors"' not in response.text


def test_only_staff_reach_the_upload_page(client):
    client.force_login(UserFactory())

    response = client.get(UPLOAD_URL)

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
