"""The pages, the admin and the API docs in a real browser, under the site's Content-Security-Policy.

Playwright drives Debian's chromium (./scripts/browser-setup installs it); it never downloads a
browser. Each page must render, run its scripts and report no CSP violation and no script error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.factories import DEFAULT_PASSWORD, OrderItemFactory, ProductFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),  # one chromium at a time, in one pytest-xdist worker
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"needs Debian's chromium at {CHROMIUM}: run ./scripts/browser-setup"
    ),
]

# A violation is reported on the console by chromium, and as an event the page can listen to.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


class BrowserRun:
    """A chromium page and every CSP violation, script error and failed request it saw."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.problems: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url}"))
        page.add_init_script(REPORT_VIOLATIONS)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "securitypolicyviolation" in message.text:
            self.problems.append(message.text)

    def open(self, path: str) -> None:
        response = self.page.goto(f"{self.base_url}{path}", wait_until="networkidle")
        assert response is not None and response.ok, f"{path}: {response and response.status}"

    def log_in(self, *, email: str, path: str = "/login/") -> None:
        self.open(path)
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", DEFAULT_PASSWORD)
        self.page.click("[type=submit]")
        self.page.wait_for_load_state("networkidle")


@contextmanager
def chromium(live_server) -> Iterator[BrowserRun]:
    """Started after the test's rows are written: Playwright's event loop makes Django refuse
    database queries in this thread while it runs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            run = BrowserRun(browser.new_page(viewport={"width": 1280, "height": 900}), live_server.url)
            yield run
            assert run.problems == []
        finally:
            browser.close()


def test_public_pages_render_with_no_csp_violation(live_server):
    product = ProductFactory(name="Desk lamp")

    with chromium(live_server) as browser:
        browser.open("/")
        assert browser.page.locator("h1").inner_text() == "Headroom"
        browser.open("/products/")
        assert browser.page.get_by_role("link", name="Desk lamp").is_visible()
        browser.open(f"/products/{product.pk}/")
        browser.open("/login/")
        assert browser.page.locator("input[name=username]").is_visible()
        # The stylesheet applied (site.css lays the header out in a flex row).
        assert browser.page.locator(".nav").evaluate("element => getComputedStyle(element).display") == "flex"


def test_a_signed_in_user_orders_and_sees_their_orders_with_no_csp_violation(live_server):
    user = UserFactory()
    product = ProductFactory(name="Desk lamp", stock=3)
    OrderItemFactory(order__user=user)

    with chromium(live_server) as browser:
        browser.log_in(email=user.email)
        browser.open(f"/products/{product.pk}/")
        browser.page.click("form.order-form [type=submit]")
        browser.page.wait_for_load_state("networkidle")
        browser.open("/orders/")
        assert browser.page.locator("article.order").count() == 2
        assert user.email in browser.page.locator(".site-header").inner_text()


def test_the_admin_logs_staff_in_and_shows_a_change_list_with_no_csp_violation(live_server):
    staff = UserFactory(is_staff=True, is_superuser=True)
    OrderItemFactory()

    with chromium(live_server) as browser:
        browser.log_in(email=staff.email, path="/admin/login/")
        browser.open("/admin/orders/order/")
        assert browser.page.locator("#result_list tbody tr").count() == 1
        # The admin's own scripts ran: the sidebar toggle is wired up by nav_sidebar.js.
        browser.open("/admin/users/user/")
        assert browser.page.locator("#toggle-nav-sidebar").is_visible()


def test_the_api_docs_render_every_operation_with_no_csp_violation(live_server, tmp_path):
    with chromium(live_server) as browser:
        browser.open("/api/docs/")
        browser.page.wait_for_selector(".opblock", timeout=15_000)
        assert browser.page.locator(".opblock").count() > 10
        browser.page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
