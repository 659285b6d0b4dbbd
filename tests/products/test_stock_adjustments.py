"""Staff change stock by adjustment (+/- with a reason, kept as a record), never by overwriting it."""

import pytest

from apps.core.errors import DomainError
from apps.orders.services import OrderLine, order_create
from apps.products import services
from apps.products.models import MAX_STOCK, Product, StockAdjustment
from tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_adjustment_adds_to_the_current_stock_and_is_recorded():
    product = ProductFactory(stock=10)
    staff = StaffFactory()

    adjustment = services.stock_adjust(product_id=product.pk, delta=5, reason=" Delivery 42 ", user=staff)

    assert Product.objects.get(pk=product.pk).stock == 15
    assert StockAdjustment.objects.get() == adjustment
    assert (adjustment.delta, adjustment.reason, adjustment.user, adjustment.stock_after) == (
        5,
        "Delivery 42",
        staff,
        15,
    )


def test_an_adjustment_composes_with_an_order_placed_after_the_product_was_read():
    product = ProductFactory(stock=10)
    order_create(user=UserFactory(), items=[OrderLine(product_id=product.pk, quantity=4)])

    services.stock_adjust(product_id=product.pk, delta=-2, reason="Broken in the warehouse", user=None)

    assert Product.objects.get(pk=product.pk).stock == 4


@pytest.mark.parametrize("delta", [-11, -(10**12)])
def test_an_adjustment_below_zero_is_409_and_writes_nothing(delta):
    product = ProductFactory(stock=10)

    with pytest.raises(DomainError) as raised:
        services.stock_adjust(product_id=product.pk, delta=delta, reason="Count", user=None)

    assert (raised.value.status, raised.value.code) == (409, "stock_out_of_range")
    assert Product.objects.get(pk=product.pk).stock == 10
    assert not StockAdjustment.objects.exists()


def test_an_adjustment_above_the_largest_stock_is_409():
    product = ProductFactory(stock=10)

    with pytest.raises(DomainError) as raised:
        services.stock_adjust(product_id=product.pk, delta=MAX_STOCK, reason="Typo", user=None)

    assert raised.value.status == 409
    assert Product.objects.get(pk=product.pk).stock == 10


@pytest.mark.parametrize(
    ("delta", "reason", "field"), [(0, "Nothing", "delta"), (1, "  ", "reason"), (1, "x" * 256, "reason")]
)
def test_an_adjustment_without_units_or_a_reason_is_refused(delta, reason, field):
    product = ProductFactory(stock=10)

    with pytest.raises(DomainError) as raised:
        services.stock_adjust(product_id=product.pk, delta=delta, reason=reason, user=None)

    assert (raised.value.status, list(raised.value.fields)) == (400, [field])
    assert not StockAdjustment.objects.exists()
