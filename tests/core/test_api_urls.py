"""The URLs clients and templates depend on, frozen: moving a route between apps or rewriting a
view must leave every v1 path, method, operationId and URL name as it was. A new endpoint is added
to these lists; changing or removing one is a new API version, never an edit here."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# (path, method, operationId): every operation of /api/v1/ in the OpenAPI schema.
V1_OPERATIONS = [
    ("/api/v1/auth/logout/", "post", "v1_auth_logout_create"),
    ("/api/v1/auth/logout-all/", "post", "v1_auth_logout_all_create"),
    ("/api/v1/auth/password-reset/", "post", "v1_auth_password_reset_create"),
    ("/api/v1/auth/password-reset/confirm/", "post", "v1_auth_password_reset_confirm_create"),
    ("/api/v1/auth/signup/", "post", "v1_auth_signup_create"),
    ("/api/v1/auth/token/", "post", "v1_auth_token_create"),
    ("/api/v1/auth/tokens/", "get", "v1_auth_tokens_list"),
    ("/api/v1/auth/tokens/{id}/", "delete", "v1_auth_tokens_destroy"),
    ("/api/v1/auth/verify-email/", "post", "v1_auth_verify_email_create"),
    ("/api/v1/auth/verify-email/resend/", "post", "v1_auth_verify_email_resend_create"),
    ("/api/v1/categories/", "get", "v1_categories_list"),
    ("/api/v1/categories/", "post", "v1_categories_create"),
    ("/api/v1/categories/{id}/", "get", "v1_categories_retrieve"),
    ("/api/v1/categories/{id}/", "patch", "v1_categories_partial_update"),
    ("/api/v1/categories/{id}/", "delete", "v1_categories_destroy"),
    ("/api/v1/orders/", "get", "v1_orders_list"),
    ("/api/v1/orders/", "post", "v1_orders_create"),
    ("/api/v1/orders/{id}/", "get", "v1_orders_retrieve"),
    ("/api/v1/orders/{id}/cancel/", "post", "v1_orders_cancel_create"),
    ("/api/v1/orders/exports/", "post", "v1_orders_exports_create"),
    ("/api/v1/orders/exports/{id}/", "get", "v1_orders_exports_retrieve"),
    ("/api/v1/orders/exports/{id}/download/", "get", "v1_orders_exports_download_retrieve"),
    ("/api/v1/products/", "get", "v1_products_list"),
    ("/api/v1/products/", "post", "v1_products_create"),
    ("/api/v1/products/{id}/", "get", "v1_products_retrieve"),
    ("/api/v1/products/{id}/", "patch", "v1_products_partial_update"),
    ("/api/v1/products/{id}/", "delete", "v1_products_destroy"),
    ("/api/v1/products/{id}/stock-adjustments/", "post", "v1_products_stock_adjustments_create"),
    ("/api/v1/products/imports/", "post", "v1_products_imports_create"),
    ("/api/v1/products/imports/{id}/", "get", "v1_products_imports_retrieve"),
    ("/api/v1/reports/", "post", "v1_reports_create"),
    ("/api/v1/reports/{id}/", "get", "v1_reports_retrieve"),
    ("/api/v1/reports/{id}/download/", "get", "v1_reports_download_retrieve"),
    ("/api/v1/users/me/", "get", "v1_users_me_retrieve"),
    ("/api/v1/users/me/", "patch", "v1_users_me_partial_update"),
]

# URL name -> path, with pk=7 where the route takes one (reverse() in code, tests and templates).
V1_URL_NAMES = {
    "signup": "/api/v1/auth/signup/",
    "token": "/api/v1/auth/token/",
    "logout": "/api/v1/auth/logout/",
    "logout-all": "/api/v1/auth/logout-all/",
    "tokens": "/api/v1/auth/tokens/",
    "token-revoke": "/api/v1/auth/tokens/7/",
    "password-reset": "/api/v1/auth/password-reset/",
    "password-reset-confirm": "/api/v1/auth/password-reset/confirm/",
    "verify-email": "/api/v1/auth/verify-email/",
    "verify-email-resend": "/api/v1/auth/verify-email/resend/",
    "me": "/api/v1/users/me/",
    "category-list": "/api/v1/categories/",
    "category-detail": "/api/v1/categories/7/",
    "product-list": "/api/v1/products/",
    "product-detail": "/api/v1/products/7/",
    "product-stock-adjustments": "/api/v1/products/7/stock-adjustments/",
    "product-imports": "/api/v1/products/imports/",
    "product-import": "/api/v1/products/imports/7/",
    "order-list": "/api/v1/orders/",
    "order-detail": "/api/v1/orders/7/",
    "order-cancel": "/api/v1/orders/7/cancel/",
    "reports": "/api/v1/reports/",
    "report": "/api/v1/reports/7/",
    "report-download": "/api/v1/reports/7/download/",
    "orders-exports": "/api/v1/orders/exports/",
    "orders-export": "/api/v1/orders/exports/7/",
    "orders-export-download": "/api/v1/orders/exports/7/download/",
}

PAGE_URL_NAMES = {
    "landing": ("/", {}),
    "signup": ("/signup/", {}),
    "login": ("/login/", {}),
    "logout": ("/logout/", {}),
    "password-reset": ("/password-reset/", {}),
    "password-reset-done": ("/password-reset/sent/", {}),
    "password-reset-confirm": ("/password-reset/MQ/abc-123/", {"uidb64": "MQ", "token": "abc-123"}),
    "password-reset-complete": ("/password-reset/done/", {}),
    "verify-email-resend": ("/verify-email/resend/", {}),
    "verify-email": ("/verify-email/abc.123/", {"token": "abc.123"}),
    "catalog": ("/products/", {}),
    "product": ("/products/7/", {"pk": 7}),
    "order-place": ("/products/7/order/", {"pk": 7}),
    "orders": ("/orders/", {}),
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_lists_exactly_the_frozen_v1_operations(schema):
    described = [
        (path, method, operation["operationId"])
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
    ]

    assert sorted(described) == sorted(V1_OPERATIONS)


@pytest.mark.parametrize(("name", "path"), V1_URL_NAMES.items())
def test_every_v1_url_name_reverses_to_its_frozen_path(name, path):
    kwargs = {"pk": 7} if "/7/" in path else {}

    assert reverse(f"v1:{name}", kwargs=kwargs) == path


@pytest.mark.parametrize(("name", "path", "kwargs"), [(name, *value) for name, value in PAGE_URL_NAMES.items()])
def test_every_page_url_name_reverses_to_its_frozen_path(name, path, kwargs):
    assert reverse(f"pages:{name}", kwargs=kwargs) == path


def test_an_id_too_large_for_a_bigint_is_no_route(client):
    assert client.get("/products/9999999999999999999/").status_code == 404
    assert APIClient().get("/api/v1/products/9999999999999999999/").status_code == 404
