"""The ops page in a real browser (Playwright driving Debian's chromium), at desktop and phone widths,
under the site's CSP; it leaves its screenshot in docs/screenshots/ops.png (docs/observability.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import ProductFactory, UserFactory
from tests.test_browser import CHROMIUM, chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"needs Debian's chromium at {CHROMIUM}: run ./scripts/browser-setup"
    ),
]

SCREENSHOT = Path(settings.BASE_DIR) / "docs" / "screenshots" / "ops.png"
PHONE = {"width": 390, "height": 844}


def horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_staff_read_the_ops_page_on_a_desktop_and_a_phone_with_no_csp_violation(live_server):
    staff = UserFactory(is_staff=True, is_superuser=True)
    products = ProductFactory.create_batch(3)

    with chromium(live_server) as browser:
        for product in products:  # some traffic for the counters
            browser.open(f"/products/{product.pk}/")
        browser.open("/api/v1/products/")
        browser.open("/api/v1/products/")
        browser.log_in(email=staff.email, path="/admin/login/")
        browser.page.get_by_role("link", name="Ops page").click()
        browser.page.wait_for_load_state("networkidle")

        page = browser.page
        assert page.locator("h1").inner_text() == "Ops"
        assert page.locator("svg.ops-bars").count() >= 5
        assert page.locator("svg.ops-bars rect").count() >= 1
        # ops.css applied: the charts are as wide as their card, the states coloured by class.
        assert page.locator(".ops-charts").evaluate("element => getComputedStyle(element).display") == "grid"
        assert page.locator("#ops-verdict").is_visible()
        assert horizontal_overflow(page) <= 0

        page.set_viewport_size(PHONE)
        browser.open("/ops/")
        assert horizontal_overflow(page) <= 0, "the page scrolls sideways at 390 px"
        assert page.locator("svg.ops-bars").first.bounding_box()["width"] <= PHONE["width"]

        page.set_viewport_size({"width": 1280, "height": 900})
        browser.open("/ops/")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
