"""The pages, the admin and the API docs in a real browser: Playwright drives Debian's chromium
(./scripts/browser-setup installs it) and never downloads one.

Every test opens the live server in a fresh browser context that may reach nothing else: a
request for any other origin is aborted and fails the test, so the pages are proven to work with
no network. Each page must run with no CSP violation and no script error, and pass axe-core
(the copy axe-playwright-python ships, injected by Playwright, never from a CDN) with no serious
or critical violation.

UPDATE_SCREENSHOTS=1 ./scripts/test -m browser writes the README's screenshots to docs/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import DEFAULT_PASSWORD

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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
BOTH_WIDTHS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# axe's impact levels that fail a page.
FAILING_IMPACTS = ("serious", "critical")

# A violation is reported on the console by chromium, and as an event the page can listen to.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI} from ${event.sourceFile}:${event.lineNumber} ${event.sample}`);
});
"""


# Each module's pytestmark.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),  # one chromium at a time, in one pytest-xdist worker
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"needs Debian's chromium at {CHROMIUM}: run ./scripts/browser-setup"
    ),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """One chromium per test module; each test gets its own context (cookies, viewport)."""
    from playwright.sync_api import sync_playwright

    # Playwright's event loop runs in this thread while the browser is up: Django would refuse the
    # test's own queries, run between browser steps (never at the same time).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def viewport(request) -> dict[str, int]:
    """Desktop; a test runs at 390×844 too with @pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)."""
    return getattr(request, "param", None) or DESKTOP


@pytest.fixture
def site(chromium, live_server, viewport, transactional_db) -> Iterator[Site]:
    context = chromium.new_context(viewport=viewport, base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15_000)
    try:
        site = Site(context, live_server.url, phone=viewport == PHONE)
        yield site
        assert not site.problems, "\n".join(site.problems)
    finally:
        context.close()


class Site:
    """A browser page on the live server, and every CSP violation, script error, failed or
    outside request and accessibility violation it met."""

    def __init__(self, context, base_url: str, *, phone: bool) -> None:
        self.base_url = base_url
        self.phone = phone
        self.problems: list[str] = []
        self._audited: set[tuple[str, str]] = set()
        self._auditing = False
        context.route("**/*", self._only_the_live_server)
        context.add_init_script(REPORT_VIOLATIONS)
        self.page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("requestfailed", self._on_request_failed)

    def _only_the_live_server(self, route) -> None:
        if route.request.url.startswith(self.base_url):
            route.continue_()
        else:
            self.problems.append(f"request outside the site: {route.request.url}")
            route.abort()

    def _on_request_failed(self, request) -> None:
        # A download ends its navigation with ERR_ABORTED; an outside request is reported by the route.
        if request.url.startswith(self.base_url) and request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url} {request.failure}")

    def _on_console(self, message) -> None:
        if self._auditing:
            return  # axe-core's own probes (a <style> it adds to test contrast), not the page's
        if "Content Security Policy" in message.text or "securitypolicyviolation" in message.text:
            self.problems.append(f"{message.text} ({self.page.url} {message.location})")

    # --- Moving around ---------------------------------------------------------------------

    def open(self, path: str, *, ready: str | None = None) -> None:
        """Goes to path and audits it; ``ready``, a selector, for a page that renders itself after
        load (the API docs): the audit waits for it."""
        response = self.page.goto(path, wait_until="load")
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        if ready:
            self.page.wait_for_selector(ready)
        self.audit()

    def submit(self, button, *, audit: bool = True) -> None:
        """Clicks a submit button (a locator) and waits for the page it leads to; ``audit=False``
        for a page that reloads itself (a job's), audited once it settles."""
        with self.page.expect_navigation(wait_until="load"):
            button.click()
        if audit:
            self.audit()

    def follow(self, link) -> None:
        with self.page.expect_navigation(wait_until="load"):
            link.click()
        self.audit()

    def nav(self):
        """The header's menu, opened first on a phone, where it is folded behind its button."""
        if self.phone and self.page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "false":
            self.page.get_by_role("button", name="Menu").click()
        return self.page.locator("#nav-menu")

    def log_in(self, *, email: str, password: str = DEFAULT_PASSWORD, path: str = "/login/") -> None:
        self.open(path)
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", password)
        self.submit(self.page.locator("[type=submit]").last)

    def status_message(self) -> str:
        return self.page.locator("[role=status].messages").inner_text()

    # --- Checks ------------------------------------------------------------------------------

    def audit(self, *, state: str = "") -> None:
        """axe-core on the page as it is now, once per path (and ``state``, a name for what was
        opened on a page that changes in place); serious and critical violations fail."""
        from axe_playwright_python.sync_playwright import Axe

        path = self.page.url.removeprefix(self.base_url).split("?")[0].split("#")[0]
        if (path, state) in self._audited:
            return
        self._audited.add((path, state))
        self._auditing = True
        try:
            results = Axe().run(self.page)
            self.page.evaluate(
                "() => new Promise((resolve) => setTimeout(resolve, 0))"
            )  # its console messages, delivered
        finally:
            self._auditing = False
        for violation in results.response["violations"]:
            if violation["impact"] in FAILING_IMPACTS:
                targets = [node["target"] for node in violation["nodes"]][:3]
                where = f"{path} ({state})" if state else path
                self.problems.append(f"axe {violation['impact']} on {where}: {violation['id']} {targets}")

    def screenshot(self, name: str) -> None:
        """The README's picture of this page, written only with UPDATE_SCREENSHOTS=1."""
        image = self.page.screenshot(type="png")
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / f"{name}{'-phone' if self.phone else ''}.png").write_bytes(image)
