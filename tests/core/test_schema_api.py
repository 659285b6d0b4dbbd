import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("/api/v1/auth/signup/", "post"),
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/logout/", "post"),
    ("/api/v1/auth/logout-all/", "post"),
    ("/api/v1/auth/tokens/", "get"),
    ("/api/v1/auth/tokens/{id}/", "delete"),
    ("/api/v1/users/me/", "get"),
    ("/api/v1/users/me/", "patch"),
    ("/api/v1/categories/", "get"),
    ("/api/v1/categories/", "post"),
    ("/api/v1/categories/{id}/", "get"),
    ("/api/v1/categories/{id}/", "patch"),
    ("/api/v1/categories/{id}/", "delete"),
    ("/api/v1/products/", "get"),
    ("/api/v1/products/", "post"),
    ("/api/v1/products/{id}/", "get"),
    ("/api/v1/products/{id}/", "patch"),
    ("/api/v1/products/{id}/", "delete"),
    ("/api/v1/products/{id}/stock-adjustments/", "post"),
    ("/api/v1/orders/", "get"),
    ("/api/v1/orders/", "post"),
    ("/api/v1/orders/{id}/", "get"),
    ("/api/v1/orders/{id}/cancel/", "post"),
]


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():  # generated once: it takes a second
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")


def test_schema_describes_every_endpoint(schema):
    described = {(path, method) for path, operations in schema["paths"].items() for method in operations}

    assert set(ENDPOINTS) <= described


def test_schema_names_each_status_choice_set_as_its_app_declares(schema):
    """apps/orders/apps.py and apps/core/apps.py name them (api_enum_names); settings names no app."""
    components = schema["components"]["schemas"]
    assert components["OrderStatusEnum"]["enum"] == ["pending", "paid", "cancelled"]
    assert components["JobStatusEnum"]["enum"] == ["pending", "running", "done", "failed"]
    assert not any(name.startswith("Status") and name.endswith("Enum") for name in components)


def test_schema_describes_the_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]

    assert error["properties"]["error"]["$ref"] == "#/components/schemas/ErrorDetail"
    assert set(schema["components"]["schemas"]["ErrorDetail"]["properties"]) == {"code", "message", "fields"}


def test_schema_documents_the_409_of_an_order_for_more_than_stock(schema):
    responses = schema["paths"]["/api/v1/orders/"]["post"]["responses"]

    assert responses["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_schema_documents_the_catalog_filters(schema):
    parameters = {parameter["name"] for parameter in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}

    assert {"category", "min_price", "max_price", "in_stock", "search", "ordering", "cursor", "page_size"} <= parameters


def test_schema_is_served_as_yaml_by_default(api_client):
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi: 3." in response.content


def test_swagger_ui_is_served(api_client):
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


@pytest.mark.parametrize("path", ["/api/v1/orders/exports/", "/api/v1/reports/"])
def test_schema_documents_the_unfinished_report_returned_and_the_429_with_retry_after(schema, path):
    responses = schema["paths"][path]["post"]["responses"]

    assert {"200", "202", "429"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]


def test_schema_documents_if_match_and_its_412_and_428_on_the_product_patch(schema):
    patch = schema["paths"]["/api/v1/products/{id}/"]["patch"]

    [if_match] = [parameter for parameter in patch["parameters"] if parameter["name"] == "If-Match"]
    assert if_match["in"] == "header"
    assert {"412", "428"} <= set(patch["responses"])
    assert "ETag" in schema["paths"]["/api/v1/products/{id}/"]["get"]["responses"]["200"]["headers"]


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


PUBLIC = [
    ("/api/v1/auth/signup/", "post"),
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/password-reset/", "post"),
    ("/api/v1/auth/password-reset/confirm/", "post"),
    ("/api/v1/auth/verify-email/", "post"),
    ("/api/v1/auth/verify-email/resend/", "post"),
]
PUBLIC_WITH_OPTIONAL_AUTH = [  # anyone may read; staff signed in see products taken off sale
    ("/api/v1/categories/", "get"),
    ("/api/v1/categories/{id}/", "get"),
    ("/api/v1/products/", "get"),
    ("/api/v1/products/{id}/", "get"),
]


@pytest.mark.parametrize(("path", "method"), PUBLIC)
def test_schema_declares_no_security_requirement_on_the_public_auth_endpoints(schema, path, method):
    assert schema["paths"][path][method]["security"] == [{}]


@pytest.mark.parametrize(("path", "method"), PUBLIC_WITH_OPTIONAL_AUTH)
def test_schema_declares_authentication_optional_on_public_reads(schema, path, method):
    assert {} in schema["paths"][path][method]["security"]


def test_schema_requires_authentication_everywhere_else(schema):
    public = {*PUBLIC, *PUBLIC_WITH_OPTIONAL_AUTH}
    for path, method, operation in _operations(schema):
        if (path, method) not in public:
            assert {} not in operation["security"], (method, path)


def test_schema_declares_json_only_for_a_new_order(schema):
    assert list(schema["paths"]["/api/v1/orders/"]["post"]["requestBody"]["content"]) == ["application/json"]


def test_a_new_order_sent_as_a_form_is_a_415(user_client):
    response = user_client.post("/api/v1/orders/", {"items": "1"}, format="multipart")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("path", ["/api/v1/products/", "/api/v1/orders/"])
def test_schema_documents_the_404_of_a_bad_cursor(schema, path):
    assert "404" in schema["paths"][path]["get"]["responses"]


@pytest.mark.parametrize(("path", "method"), PUBLIC)
def test_schema_documents_the_429_of_a_throttled_endpoint(schema, path, method):
    assert "429" in schema["paths"][path][method]["responses"]


def test_schema_documents_a_401_wherever_credentials_are_read(schema):
    for path, method, operation in _operations(schema):
        if operation["security"] != [{}]:
            assert "401" in operation["responses"], (method, path)


def test_schema_declares_json_for_every_response_body_but_the_csv_downloads(schema):
    for path, method, operation in _operations(schema):
        for code, response in operation["responses"].items():
            expected = ["text/csv"] if path.endswith("/download/") and code == "200" else ["application/json"]
            assert list(response.get("content", {"application/json": {}})) == expected, (method, path, code)


def test_every_operation_has_a_summary(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not operation.get("summary")
    ]

    assert missing == []


def test_operations_are_grouped_by_resource(schema):
    tags = {
        path: operation["tags"] for path, operations in schema["paths"].items() for operation in operations.values()
    }

    assert tags["/api/v1/products/{id}/"] == ["products"]
    assert tags["/api/v1/orders/exports/"] == ["orders"]
    assert tags["/api/v1/auth/token/"] == ["auth"]
    # One tag per operation, the resource its path starts with: a new app's endpoints get their own.
    assert all(group == [path.split("/")[3]] for path, group in tags.items())
