"""Ordering (over the stock first), cancelling and exporting one's orders, at desktop and phone widths."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from apps.orders.models import Order
from tests.browser.conftest import BOTH_WIDTHS, BROWSER
from tests.factories import OrderItemFactory, ProductFactory, UserFactory

pytestmark = BROWSER


@pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)
def test_order_more_than_the_stock_then_correct_it_then_cancel_the_order(site):
    user = UserFactory()
    product = ProductFactory(name="Desk lamp", price=Decimal("24.90"), stock=3)
    page = site.page

    site.log_in(email=user.email)
    site.open(f"/products/{product.pk}/")
    quantity = page.get_by_label("Quantity")
    quantity.fill("5")
    site.submit(page.get_by_role("button", name="Order"))
    error = page.locator("#id_quantity_error")
    assert error.inner_text() == "Only 3 of Desk lamp left in stock."
    assert quantity.get_attribute("aria-describedby") == "id_quantity_error"
    assert quantity.input_value() == "5"  # the typed quantity is kept
    site.screenshot("product-over-stock")

    quantity.fill("2")
    site.submit(page.get_by_role("button", name="Order"))
    order = Order.objects.get(user=user)
    assert f"Order {order.pk} placed: 2 for 49.80 USD." in site.status_message()
    site.screenshot("my-orders")
    site.submit(page.get_by_role("button", name=f"Cancel order {order.pk}"))
    assert f"Order {order.pk} cancelled" in site.status_message()
    assert page.locator(".status.cancelled").inner_text() == "Cancelled"
    product.refresh_from_db()
    assert product.stock == 3


@pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)
def test_export_my_orders_with_live_progress_then_download_the_csv(site, job_worker):
    user = UserFactory()
    OrderItemFactory(order__user=user, product__name="Monitor arm")
    page = site.page

    site.log_in(email=user.email)
    site.open("/orders/")
    site.submit(page.get_by_role("button", name="Export my orders (CSV)"))
    page.evaluate("window.notReloaded = true")  # gone if the page reloads
    download_link = page.get_by_role("link", name="Download the CSV")
    download_link.wait_for(state="visible", timeout=30_000)
    assert page.evaluate("window.notReloaded") is True  # the progress came without a reload
    assert page.evaluate("document.querySelector('.job-progress progress').value") == 100
    assert page.locator("[data-job-text]").inner_text() == "Done"
    site.screenshot("export")
    with page.expect_download() as download:
        download_link.click()

    assert "Monitor arm" in Path(download.value.path()).read_text(encoding="utf-8")
