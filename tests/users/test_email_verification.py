"""Sign-up mails a link to verify the address, with nothing the sign-up wrote in it; the welcome
email, which greets by name, follows only verification. No email to an unverified address carries
the name."""

from __future__ import annotations

import re
import time

import dramatiq
import pytest
from django.core import mail

from apps.orders import services as order_services
from apps.users import services
from apps.users.models import User
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/api/v1/auth/signup/"
VERIFY_URL = "/api/v1/auth/verify-email/"
RESEND_URL = "/api/v1/auth/verify-email/resend/"
STRONG_PASSWORD = "s3cret-Passw0rd!"
ATTACKER_TEXT = "Claim your prize at evil.example"
LINK = re.compile(r"/verify-email/(?P<token>[^/\s]+)/")


def _all_text(message) -> str:
    return message.subject + message.body + "".join(content for content, _ in message.alternatives)


def _run_queued_jobs(stub_broker) -> None:
    """What a worker does with the queued messages, in this process and this test's transaction."""
    for data in stub_broker.queues["default"].queue:
        message = dramatiq.Message.decode(data)
        stub_broker.get_actor(message.actor_name).fn(**message.kwargs)


def _verification_token(user: User) -> str:
    services.verification_email_send(email=user.email, request_id=f"test-{time.monotonic_ns()}")  # what the job runs
    return LINK.search(mail.outbox[-1].body)["token"]


def test_signup_mails_only_a_verification_link_with_nothing_the_signup_wrote(
    api_client, django_capture_on_commit_callbacks, stub_broker
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            SIGNUP_URL, {"email": "ada@example.com", "password": STRONG_PASSWORD, "name": ATTACKER_TEXT}
        )
    _run_queued_jobs(stub_broker)

    assert response.status_code == 201
    user = User.objects.get()

    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Verify your Headroom email"
    assert LINK.search(message.body) and LINK.search(message.alternatives[0][0])
    assert ATTACKER_TEXT not in _all_text(message)
    assert user.email_verified_at is None


def test_the_page_signup_mails_a_verification_link_too(client, django_capture_on_commit_callbacks, stub_broker):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/signup/", {"email": "ada@example.com", "name": ATTACKER_TEXT, "password": STRONG_PASSWORD})
    _run_queued_jobs(stub_broker)

    (message,) = mail.outbox
    assert message.subject == "Verify your Headroom email"
    assert ATTACKER_TEXT not in _all_text(message)


def test_the_link_verifies_the_email_once_and_then_the_welcome_is_sent(api_client, django_capture_on_commit_callbacks):
    user = UserFactory(email="ada@example.com", name="Ada", email_verified_at=None)
    token = _verification_token(user)

    with django_capture_on_commit_callbacks() as jobs:
        response = api_client.post(VERIFY_URL, {"token": token})
    again = api_client.post(VERIFY_URL, {"token": token})

    assert response.status_code == 200
    assert response.json()["email_verified"] is True
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert len(jobs) == 1  # the welcome
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"


def test_the_welcome_email_is_not_sent_to_an_unverified_address():
    user = UserFactory(email_verified_at=None)

    services.welcome_email_send(user_id=user.pk)

    assert mail.outbox == []


def test_an_expired_link_is_rejected(api_client, settings):
    user = UserFactory(email_verified_at=None)
    token = _verification_token(user)
    settings.EMAIL_VERIFICATION_TIMEOUT = -1

    response = api_client.post(VERIFY_URL, {"token": token})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.email_verified_at is None


@pytest.mark.parametrize("token", ["", "garbage", "WzEsImFAYi5jIl0:1tX:forged", "x" * 600])
def test_a_malformed_or_forged_token_is_a_400_in_the_error_shape(api_client, token):
    response = api_client.post(VERIFY_URL, {"token": token})

    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_the_page_link_verifies_once(client):
    user = UserFactory(email_verified_at=None)
    token = _verification_token(user)

    first = client.get(f"/verify-email/{token}/")
    second = client.get(f"/verify-email/{token}/")

    assert first.status_code == 200 and "Email verified" in first.text
    assert second.status_code == 400 and "invalid, expired or used already" in second.text


def test_resend_sends_a_new_link_to_an_unverified_account_only(
    api_client, django_capture_on_commit_callbacks, stub_broker
):
    UserFactory(email="new@example.com", email_verified_at=None)
    UserFactory(email="old@example.com")

    with django_capture_on_commit_callbacks(execute=True) as jobs:
        answers = [
            api_client.post(RESEND_URL, {"email": email})
            for email in ("new@example.com", "old@example.com", "nobody@example.com")
        ]
    _run_queued_jobs(stub_broker)

    assert {(answer.status_code, answer.json()["detail"]) for answer in answers} == {
        (202, "If an unverified account uses this email, a new link is on its way.")
    }
    assert len(jobs) == 3  # the same work whether or not the account exists
    assert [message.to for message in mail.outbox] == [["new@example.com"]]


def test_a_password_reset_email_to_an_unverified_address_has_no_name():
    user = UserFactory(email_verified_at=None, name=ATTACKER_TEXT)

    services.password_reset_email_send(email=user.email, request_id="test")

    assert ATTACKER_TEXT not in _all_text(mail.outbox[0])


def test_an_order_confirmation_to_an_unverified_address_has_no_name():
    user = UserFactory(email_verified_at=None, name=ATTACKER_TEXT)
    line = order_services.OrderLine(product_id=ProductFactory().pk, quantity=1)
    order = order_services.order_create(user=user, items=[line])

    order_services.order_confirmation_email_send(order_id=order.pk)

    assert ATTACKER_TEXT not in _all_text(mail.outbox[0])


def test_a_verified_user_is_greeted_by_name():
    user = UserFactory(name="Ada")

    services.password_reset_email_send(email=user.email, request_id="test")

    assert "Hello Ada" in mail.outbox[0].body
