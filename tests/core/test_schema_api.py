import pytest

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


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")


def test_schema_describes_every_endpoint(schema):
    described = {(path, method) for path, operations in schema["paths"].items() for method in operations}

    assert set(ENDPOINTS) <= described


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
