"""Signing up, in and out, the account page, and a password reset from the emailed link, at desktop
and phone widths."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.conftest import BOTH_WIDTHS, BROWSER
from tests.factories import UserFactory
from tests.mailfiles import mail_files_to
from tests.workers import wait_until

NEW_PASSWORD = "a-new-Passw0rd-9"

pytestmark = BROWSER


@pytest.mark.parametrize("viewport", BOTH_WIDTHS, indirect=True)
def test_sign_up_with_the_rules_shown_verify_the_email_then_log_out_and_in_with_a_message_each_time(site, job_worker):
    page = site.page
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"

    site.open("/signup/")
    assert page.get_by_text("at least 8 characters").is_visible()  # the rules, before anything is typed
    site.screenshot("signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("weak")
    site.submit(page.get_by_role("button", name="Create account"))
    assert page.locator("#id_password_error, .errorlist").first.is_visible()
    page.get_by_label("Password").fill(NEW_PASSWORD)
    site.submit(page.get_by_role("button", name="Create account"))
    assert f"We sent a link to {email}" in site.status_message()
    site.open(_emailed_path(email, subject="Verify your Headroom email", link=r"/verify-email/[^/\s]+/"))
    assert site.page.locator("h1").inner_text() == "Email verified"

    site.submit(site.nav().get_by_role("button", name="Log out"))
    assert "You are logged out." in site.status_message()
    site.log_in(email=email, password=NEW_PASSWORD)
    assert f"You are logged in as {email}." in site.status_message()
    assert site.nav().get_by_role("link", name=email).is_visible()
    assert site.nav().get_by_role("link", name="Admin").count() == 0  # staff only


def test_the_account_page_changes_the_name_and_signs_out_an_api_device(site):
    from tests.factories import TokenFactory

    user = UserFactory(name="Ada")
    TokenFactory(user=user, label="curl/8.0")
    page = site.page

    site.log_in(email=user.email)
    site.open("/account/")
    site.screenshot("account")
    page.get_by_role("textbox", name="Name").fill("Ada Lovelace")
    site.submit(page.get_by_role("button", name="Save name"))
    assert "Your name is saved." in site.status_message()
    assert page.get_by_role("textbox", name="Name").input_value() == "Ada Lovelace"
    assert page.get_by_text("curl/8.0").is_visible()
    site.submit(page.get_by_role("button", name=re.compile("Sign out device")))
    assert "That device is signed out." in site.status_message()
    assert page.get_by_text("No device is signed in to the API.").is_visible()
    site.follow(page.get_by_role("link", name="Change password"))


def test_a_password_reset_from_the_emailed_link_sets_the_password(site, job_worker):
    user = UserFactory(email=f"forgetful-{uuid.uuid4().hex[:8]}@example.com")
    page = site.page

    site.open("/password-reset/")
    page.get_by_label("Email").fill(user.email)
    site.submit(page.locator("main [type=submit]"))
    site.open(_emailed_path(user.email, subject="Reset your", link=r"/password-reset/[^/\s]+/[^/\s]+/"))
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    site.submit(page.get_by_role("button", name="Change my password"))

    site.log_in(email=user.email, password=NEW_PASSWORD)
    assert f"You are logged in as {user.email}." in site.status_message()


def _emailed_path(address: str, *, subject: str, link: str) -> str:
    """The path of the link in the email a job worker wrote to the mail folder (stage 1's backend)."""
    (sent,) = wait_until(lambda: [p for p in mail_files_to(address) if subject in p.read_text()], timeout=30)
    return re.search(rf"https?://[^/\s]+({link})", sent.read_text()).group(1)
