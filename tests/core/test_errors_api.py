"""Every error any API view gives has the shape {"error": {"code", "message", "fields"}}."""

import base64
import io
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from apps.core.parsers import JSONParser
from tests.factories import OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _assert_error_shape(response, *, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize("path", ["/api/nope/", "/api/v1/nope/", "/api/v1/orders/1/nope/", "/api/v1/products/abc/"])
def test_an_unknown_url_under_api_is_a_json_404(api_client, path):
    _assert_error_shape(api_client.get(path), status=404, code="not_found")


@override_settings(DEBUG=True)
@pytest.mark.parametrize("path", ["/api/nope/", "/api/v1/nope/", "/api/v1/orders/1/nope/"])
def test_an_unknown_url_under_api_is_a_json_404_under_debug_too(api_client, path):
    _assert_error_shape(api_client.get(path), status=404, code="not_found")


@override_settings(DEBUG=True)
def test_an_unknown_page_url_keeps_the_debug_404_page(api_client):
    response = api_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_api_url_without_its_slash_still_redirects_to_it(api_client):
    response = api_client.get("/api/v1/products")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/products/"


def test_put_on_the_order_list_is_a_405_in_the_error_shape(user_client):
    _assert_error_shape(user_client.put("/api/v1/orders/", {}), status=405, code="method_not_allowed")


def test_put_on_a_product_is_a_405_in_the_error_shape(staff_client):
    _assert_error_shape(staff_client.put("/api/v1/products/1/", {}), status=405, code="method_not_allowed")


def test_delete_on_an_order_is_a_405_in_the_error_shape(user_client, user):
    order = OrderFactory(user=user)

    _assert_error_shape(user_client.delete(f"/api/v1/orders/{order.pk}/"), status=405, code="method_not_allowed")


def test_get_on_signup_is_a_405_in_the_error_shape(api_client):
    _assert_error_shape(api_client.get("/api/v1/auth/signup/"), status=405, code="method_not_allowed")


def test_a_validation_error_lists_the_fields_at_fault(api_client):
    response = api_client.post("/api/v1/auth/signup/", {"email": "not-an-email"})

    _assert_error_shape(response, status=400, code="invalid")
    assert set(response.json()["error"]["fields"]) == {"email", "password"}


def test_a_body_that_is_not_an_object_is_a_400_in_the_error_shape(api_client):
    response = api_client.post("/api/v1/auth/token/", ["a", "list"], format="json")

    _assert_error_shape(response, status=400, code="invalid")


def _cursor(**tokens: str) -> str:
    # As DRF's CursorPagination encodes one: base64 of a query string (o offset, r reverse, p position).
    return base64.b64encode(urlencode(tokens).encode()).decode()


def test_a_django_validation_error_inside_a_view_is_a_400_in_the_error_shape(api_client):
    # A forged cursor whose position is no price: Django's DecimalField raises while building the WHERE.
    ProductFactory()

    response = api_client.get("/api/v1/products/", {"ordering": "price", "cursor": _cursor(p="not-a-price")})

    _assert_error_shape(response, status=400, code="invalid")


def test_an_unacceptable_accept_header_is_a_406(api_client):
    response = api_client.get("/api/v1/products/", HTTP_ACCEPT="application/xml")

    assert response.status_code == 406


def test_an_unexpected_exception_is_a_json_500(monkeypatch):
    def explode():
        raise RuntimeError("boom")

    monkeypatch.setattr("apps.products.selectors.categories_for_catalog", explode)
    client = APIClient(raise_request_exception=False)

    _assert_error_shape(client.get("/api/v1/categories/"), status=500, code="server_error")


def test_json_nested_deeper_than_python_decodes_is_a_parse_error():
    body = io.BytesIO(b"[" * 10_000 + b"]" * 10_000)

    with pytest.raises(ParseError):
        JSONParser().parse(body)
