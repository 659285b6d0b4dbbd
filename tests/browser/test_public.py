"""What anyone sees: the landing page, the catalog's search and filters, a product, the API docs
offline, the error pages, at desktop and phone widths; the layout's keyboard and phone basics."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.conftest import BOTH_WIDTHS, BROWSER, PHONE
from tests.factories import CategoryFactory, ProductFactory

pytestmark = BROWSER


@pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)
def test_search_sort_and_filter_the_catalog_then_clear_the_filters(site):
    lighting = CategoryFactory(name="Lighting", slug="lighting")
    ProductFactory(name="Desk lamp", price=Decimal("24.90"), stock=4, category=lighting)
    ProductFactory(name="Floor lamp", price=Decimal("89.00"), stock=0, category=lighting)
    ProductFactory(name="Keyboard", price=Decimal("49.00"), stock=9)
    page = site.page

    site.open("/")
    site.screenshot("landing")
    site.open("/products/")
    assert "24.90 USD" in page.locator("main").inner_text()
    page.get_by_label("Search").fill("lamp")
    page.get_by_label("Sort by").select_option("-price")
    site.submit(page.get_by_role("button", name="Apply"))
    names = page.locator("tbody td[data-label=Product]").all_inner_texts()
    assert names == ["Floor lamp", "Desk lamp"]
    page.get_by_label("In stock only").check()
    page.get_by_label("Max price").fill("50")
    site.submit(page.get_by_role("button", name="Apply"))
    assert page.locator("tbody td[data-label=Product]").all_inner_texts() == ["Desk lamp"]
    assert "in_stock=true" in page.url and "search=lamp" in page.url  # the API's parameters
    site.screenshot("catalog")

    page.get_by_label("Search").fill("no such thing")
    site.submit(page.get_by_role("button", name="Apply"))
    assert page.get_by_text("No products match these filters.").is_visible()
    site.follow(page.locator(".empty").get_by_role("link", name="Clear filters"))
    assert page.locator("tbody tr").count() == 3
    # The table fits the width: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)
def test_a_product_page_shows_the_price_with_its_currency(site):
    product = ProductFactory(name="Desk lamp", price=Decimal("24.90"), stock=3)

    site.open(f"/products/{product.pk}/")

    assert site.page.locator(".price").inner_text() == "24.90 USD"
    assert site.page.get_by_role("link", name="Log in").last.is_visible()


@pytest.mark.parametrize("viewport", [PHONE], indirect=True)
def test_on_a_phone_the_menu_folds_behind_a_button_with_44_px_targets(site):
    page = site.page
    site.open("/products/")

    menu = page.locator("#nav-menu")
    toggle = page.get_by_role("button", name="Menu")
    assert not menu.is_visible() and toggle.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and menu.is_visible()
    for target in [toggle, *menu.locator("a, button").all()]:
        assert target.bounding_box()["height"] >= 44, target.inner_text()
    assert menu.get_by_role("link", name="Catalog").get_attribute("aria-current") == "page"
    page.keyboard.press("Escape")
    assert not menu.is_visible()
    site.screenshot("menu")


def test_the_skip_link_comes_first_and_the_keyboard_is_never_trapped(site):
    ProductFactory.create_batch(3)
    page = site.page
    site.open("/products/")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    seen = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement.outerHTML.slice(0, 80)"))
    # Focus went on through the page (the controls, three products, the footer of the list).
    assert len(seen) >= 10


def test_an_unknown_page_is_the_styled_404(site):
    response = site.page.goto("/no-such-page/")
    site.audit()

    assert response.status == 404
    assert site.page.locator("h1").inner_text() == "Not found"
    assert site.page.locator(".site-header").is_visible()


def test_the_api_docs_work_with_no_network_and_group_operations_by_resource(site):
    # Every request but the live server's is aborted (conftest.py), and any would fail the test.
    site.open("/api/docs/", ready=".opblock")

    assert site.page.locator(".opblock").count() > 30
    tags = site.page.locator(".opblock-tag").all_inner_texts()
    assert {"auth", "products", "orders", "reports"} <= {tag.split()[0] for tag in tags}
    assert site.page.get_by_text("Place an order").first.is_visible()
    site.screenshot("api-docs")


@pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)
def test_the_api_docs_pass_axe_with_operations_open_tried_out_and_the_authorize_dialog(site):
    ProductFactory.create_batch(3)
    page = site.page
    site.open("/api/docs/", ready=".opblock")
    # An operation of each method: query (a choice list among them), path, header and body parameters.
    for operation in (
        "products-v1_products_list",
        "products-v1_products_partial_update",
        "products-v1_products_destroy",
        "orders-v1_orders_create",
    ):
        page.locator(f"#operations-{operation} .opblock-summary-control").click()
    page.locator(".model-box-control").first.click()
    site.audit(state="operations and a schema open")

    # A list of products, and an order refused without a token: responses and curl commands.
    for operation in ("products-v1_products_list", "orders-v1_orders_create"):
        tried = page.locator(f"#operations-{operation}")
        tried.get_by_role("button", name="Try it out").click()
        tried.get_by_role("button", name="Execute").click()
        tried.locator(".live-responses-table").wait_for()
    site.audit(state="tried out")

    page.get_by_role("button", name="Authorize", exact=True).click()
    page.locator(".dialog-ux").wait_for()
    site.audit(state="the authorize dialog")


def test_an_api_docs_operation_opened_is_linked_from_the_address_bar(site):
    site.open("/api/docs/", ready=".opblock")
    site.page.locator("#operations-products-v1_products_list .opblock-summary-control").click()

    assert site.page.url.endswith("/api/docs/#/products/v1_products_list")
    site.page.reload(wait_until="load")
    site.page.locator("#operations-products-v1_products_list.is-open").wait_for()


def test_the_api_docs_try_it_out_lists_the_products(site):
    ProductFactory(name="Desk lamp")
    site.open("/api/docs/", ready=".opblock")
    products = site.page.locator("#operations-products-v1_products_list")
    products.locator(".opblock-summary-control").click()
    products.get_by_role("button", name="Try it out").click()
    products.get_by_role("button", name="Execute").click()

    response = products.locator(".live-responses-table .response")
    assert response.locator(".response-col_status").inner_text() == "200"
    assert '"Desk lamp"' in response.locator(".response-col_description pre").first.inner_text()
