"""The API never writes stock from a stale read: a new stock needs the ETag read (If-Match), and
staff add or remove units through stock-adjustments/."""

from decimal import Decimal

import pytest

from apps.orders.services import OrderLine, order_create
from apps.products.models import Product, StockAdjustment
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PRODUCTS_URL = "/api/v1/products/"


def _url(product: Product) -> str:
    return f"{PRODUCTS_URL}{product.pk}/"


def _adjustments_url(product: Product) -> str:
    return f"{PRODUCTS_URL}{product.pk}/stock-adjustments/"


def test_a_product_read_carries_an_etag_that_revalidates(api_client):
    product = ProductFactory()
    etag = api_client.get(_url(product))["ETag"]

    assert etag.startswith('"')
    assert api_client.get(_url(product), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_stock_patch_without_if_match_is_428_and_keeps_the_stock(staff_client):
    product = ProductFactory(stock=10, price=Decimal("10.00"))

    response = staff_client.patch(_url(product), {"stock": 50, "price": "12.50"})

    assert response.status_code == 428
    assert response.json()["error"]["code"] == "precondition_required"
    assert "If-Match" in response.json()["error"]["message"]
    product.refresh_from_db()
    assert (product.stock, product.price) == (10, Decimal("10.00"))


def test_a_stock_patch_with_if_match_star_is_428(staff_client):
    product = ProductFactory(stock=10)

    response = staff_client.patch(_url(product), {"stock": 50}, HTTP_IF_MATCH="*")

    assert response.status_code == 428


def test_a_stock_patch_with_the_etag_read_sets_the_stock_and_answers_the_new_etag(staff_client):
    product = ProductFactory(stock=10)
    etag = staff_client.get(_url(product))["ETag"]

    response = staff_client.patch(_url(product), {"stock": 50}, HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["stock"] == 50
    assert Product.objects.get(pk=product.pk).stock == 50
    assert response["ETag"] == staff_client.get(_url(product))["ETag"] != etag


def test_a_stock_patch_with_an_etag_read_before_an_order_is_412_and_keeps_the_order(staff_client):
    product = ProductFactory(stock=10)
    etag = staff_client.get(_url(product))["ETag"]
    order_create(user=UserFactory(), items=[OrderLine(product_id=product.pk, quantity=1)])

    response = staff_client.patch(_url(product), {"stock": 50}, HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition_failed"
    assert Product.objects.get(pk=product.pk).stock == 9


def test_a_price_patch_with_a_stale_etag_is_412(staff_client):
    product = ProductFactory(price=Decimal("10.00"))
    etag = staff_client.get(_url(product))["ETag"]
    staff_client.patch(_url(product), {"name": "Renamed"})

    response = staff_client.patch(_url(product), {"price": "12.50"}, HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    assert Product.objects.get(pk=product.pk).price == Decimal("10.00")


def test_a_weak_etag_never_matches(staff_client):
    product = ProductFactory(stock=10)
    etag = staff_client.get(_url(product))["ETag"]

    response = staff_client.patch(_url(product), {"stock": 50}, HTTP_IF_MATCH=f"W/{etag}")

    assert response.status_code == 412


def test_a_price_patch_needs_no_if_match_and_never_writes_stock(staff_client):
    product = ProductFactory(stock=10)

    response = staff_client.patch(_url(product), {"price": "12.50", "stock": 10})

    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).price == Decimal("12.50")


def test_staff_adjust_stock_and_get_the_new_stock(staff, staff_client):
    product = ProductFactory(stock=10)

    response = staff_client.post(_adjustments_url(product), {"delta": -3, "reason": "Broken"})

    assert response.status_code == 201
    assert response.json()["stock_after"] == 7
    assert Product.objects.get(pk=product.pk).stock == 7
    adjustment = StockAdjustment.objects.get()
    assert (adjustment.delta, adjustment.reason, adjustment.user) == (-3, "Broken", staff)
    assert response.json()["id"] == adjustment.pk


@pytest.mark.django_db(transaction=True)  # cacheops invalidates on commit, as in production
def test_an_adjustment_is_seen_by_the_next_anonymous_read(api_client, staff_client):
    product = ProductFactory(stock=10)
    api_client.get(_url(product))
    assert api_client.get(_url(product))["X-Response-Cache"] == "hit"

    staff_client.post(_adjustments_url(product), {"delta": 5, "reason": "Delivery"})

    assert api_client.get(_url(product)).json()["stock"] == 15


def test_an_adjustment_below_zero_is_409_and_writes_nothing(staff_client):
    product = ProductFactory(stock=2)

    response = staff_client.post(_adjustments_url(product), {"delta": -3, "reason": "Count"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stock_out_of_range"
    assert Product.objects.get(pk=product.pk).stock == 2
    assert not StockAdjustment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"delta": 1}, "reason"),
        ({"delta": 1, "reason": "  "}, "reason"),
        ({"delta": 1, "reason": "x" * 256}, "reason"),
        ({"reason": "Count"}, "delta"),
        ({"delta": "abc", "reason": "Count"}, "delta"),
        ({"delta": 10**30, "reason": "Count"}, "delta"),
        ({"delta": 0, "reason": "Count"}, "delta"),
    ],
    ids=["no-reason", "blank-reason", "long-reason", "no-delta", "text-delta", "huge-delta", "zero-delta"],
)
def test_an_adjustment_with_bad_input_is_400(staff_client, body, field):
    product = ProductFactory(stock=2)

    response = staff_client.post(_adjustments_url(product), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not StockAdjustment.objects.exists()


def test_an_adjustment_by_a_non_staff_user_is_403(user_client):
    product = ProductFactory(stock=2)

    assert user_client.post(_adjustments_url(product), {"delta": 1, "reason": "Mine"}).status_code == 403
    assert Product.objects.get(pk=product.pk).stock == 2


def test_an_adjustment_by_an_anonymous_caller_is_401(api_client):
    product = ProductFactory(stock=2)

    assert api_client.post(_adjustments_url(product), {"delta": 1, "reason": "Mine"}).status_code == 401


def test_an_adjustment_of_an_unknown_product_is_404(staff_client):
    response = staff_client.post(f"{PRODUCTS_URL}999999/stock-adjustments/", {"delta": 1, "reason": "Count"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
