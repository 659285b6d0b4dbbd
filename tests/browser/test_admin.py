"""Staff in the admin: a sales report requested and downloaded, a product CSV imported with its
errors shown by line, the order and job lists; under the CSP, with axe-core on each page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from apps.orders.models import Order
from tests.browser.conftest import BROWSER
from tests.factories import CategoryFactory, OrderItemFactory, UserFactory

pytestmark = BROWSER


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def test_the_admin_is_branded_and_cancels_a_pending_order(site, staff):
    item = OrderItemFactory(product__name="Desk lamp")
    page = site.page

    site.log_in(email=staff.email, path="/admin/login/")
    assert "Headroom administration" in page.locator("#site-name").inner_text()
    site.open("/admin/orders/order/")
    site.screenshot("admin-orders")
    page.locator(f"input[name=_selected_action][value='{item.order_id}']").check()
    page.locator("select[name=action]").select_option("cancel_orders")
    site.submit(page.locator("button[name=index]"))
    assert "1 order(s) cancelled." in page.locator(".messagelist").inner_text()
    assert Order.objects.get(pk=item.order_id).status == Order.Status.CANCELLED
    site.open(f"/admin/orders/order/{item.order_id}/change/")
    assert "1 × Desk lamp" in page.locator("main").inner_text()
    # The admin's own scripts ran: the sidebar toggle is wired up by nav_sidebar.js.
    assert page.locator("#toggle-nav-sidebar").is_visible()
    site.open("/admin/django_dramatiq/task/")


def test_staff_request_a_sales_report_watch_it_finish_and_download_it(site, staff, job_worker):
    OrderItemFactory(product__name="Monitor arm")
    today = timezone.localdate().isoformat()
    page = site.page

    site.log_in(email=staff.email, path="/admin/login/")
    site.open("/admin/reports/report/")
    site.follow(page.get_by_role("link", name="Request a sales report"))
    page.get_by_label("Start").fill(today)
    page.get_by_label("End").fill(today)
    site.submit(page.get_by_role("button", name="Request the report"))
    link = page.get_by_role("link", name="Download the CSV")
    link.wait_for(state="visible", timeout=30_000)
    site.screenshot("admin-report")
    with page.expect_download() as download:
        link.click()

    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith('"day","product_id"') and "Monitor arm" in text


def test_staff_upload_a_product_csv_and_see_its_errors_by_line(site, staff, job_worker, tmp_path):
    CategoryFactory(slug="lighting")
    upload = tmp_path / "products.csv"
    upload.write_text("slug,name,category,price\ndesk-lamp,Desk lamp,lighting,24.90\nbroken,Broken,lighting,abc\n")
    page = site.page

    site.log_in(email=staff.email, path="/admin/login/")
    site.open("/admin/products/productimport/")
    site.follow(page.get_by_role("link", name="Upload a product CSV"))
    assert page.locator("#csv-columns").get_by_text("category", exact=True).is_visible()
    page.get_by_label("Product CSV").set_input_files(str(upload))
    site.submit(page.get_by_role("button", name="Upload and import"), audit=False)
    # The page reloads itself once the job is done, to show the errors.
    errors = page.locator(".field-errors_table table")
    errors.wait_for(state="visible", timeout=30_000)
    page.wait_for_load_state("load")
    site.audit()
    site.screenshot("admin-import")

    assert errors.locator("tbody tr").all_inner_texts() == ["3\tprice\tNot a number: 'abc'."]
