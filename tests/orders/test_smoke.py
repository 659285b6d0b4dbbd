import pytest

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_signup_token_order_flow(api_client):
    product = ProductFactory(stock=3)
    r = api_client.post("/api/v1/auth/signup/", {"email": "A@Example.com", "password": "s3cret-Passw0rd!", "name": "A"})
    assert r.status_code == 201, r.json()
    r = api_client.post("/api/v1/auth/token/", {"email": "a@example.com", "password": "s3cret-Passw0rd!"})
    assert r.status_code == 200, r.json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
    r = api_client.post("/api/v1/orders/", {"items": [{"product": product.pk, "quantity": 2}]})
    assert r.status_code == 201, r.json()
    print(r.json())
    r = api_client.get("/api/v1/orders/")
    print(r.json())
    r = api_client.get("/api/v1/products/?ordering=price&in_stock=true")
    print(r.json())
    r = api_client.get("/api/v1/nope/")
    print(r.status_code, r.content)
    r = api_client.generic("POST", "/api/v1/orders/", "{bad json", content_type="application/json")
    print(r.status_code, r.content)
