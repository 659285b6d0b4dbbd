"""The staff ops page in a real browser, at desktop and phone widths, under the CSP and axe-core;
UPDATE_SCREENSHOTS=1 leaves its picture in docs/screenshots/ops.png (docs/observability.md)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import BOTH_WIDTHS, BROWSER, PHONE
from tests.factories import ProductFactory, UserFactory

pytestmark = BROWSER


def horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)
def test_staff_read_the_ops_page_from_the_admin(site):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for product in ProductFactory.create_batch(3):  # some traffic for the counters
        site.open(f"/products/{product.pk}/")
    page = site.page

    site.log_in(email=staff.email, path="/admin/login/")
    site.follow(page.get_by_role("link", name="Ops page"))

    assert page.locator("h1").inner_text() == "Ops"
    assert page.locator("svg.ops-bars").count() >= 5
    assert page.locator("svg.ops-bars rect").count() >= 1
    assert page.locator("#ops-verdict").is_visible()
    assert horizontal_overflow(page) <= 0, "the page scrolls sideways"
    if site.phone:
        assert page.locator("svg.ops-bars").first.bounding_box()["width"] <= PHONE["width"]
    site.screenshot("ops")
