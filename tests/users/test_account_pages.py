"""The account page: name, email (verified again), password, and the API tokens of signed-in devices."""

from __future__ import annotations

import re

import dramatiq
import pytest
from django.core import mail

from apps.users.models import ApiToken, User
from tests.factories import DEFAULT_PASSWORD, TokenFactory, UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "s3cret-Passw0rd!"
LINK = re.compile(r"/verify-email/(?P<token>[^/\s]+)/")
# The user (the session is in the cache), their live tokens.
ACCOUNT_QUERIES = 2


def _run_queued_jobs(stub_broker) -> None:
    for data in stub_broker.queues["default"].queue:
        message = dramatiq.Message.decode(data)
        stub_broker.get_actor(message.actor_name).fn(**message.kwargs)


@pytest.mark.parametrize(
    "url", ["/account/", "/account/name/", "/account/email/", "/account/password/", "/account/devices/1/revoke/"]
)
def test_account_pages_redirect_an_anonymous_visitor_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/login/?next=")


def test_the_account_page_shows_the_name_email_and_devices(client):
    user = UserFactory(name="Ada", email="ada@example.com")
    token = TokenFactory(user=user, label="curl/8.0")
    client.force_login(user)

    response = client.get("/account/")

    assert response.status_code == 200
    assert 'value="Ada"' in response.text and "ada@example.com" in response.text
    assert "curl/8.0" in response.text and token.token_key[:8] in response.text
    assert token.digest not in response.text


def test_the_account_page_runs_the_same_queries_for_1_and_50_devices(client, user):
    client.force_login(user)

    responses = assert_constant_queries(
        lambda count: TokenFactory.create_batch(count, user=user),
        lambda: client.get("/account/"),
        budget=ACCOUNT_QUERIES,
    )

    assert all(response.status_code == 200 for response in responses.values())


def test_changing_the_name_saves_it_and_says_so(client, user):
    client.force_login(user)

    response = client.post("/account/name/", {"name": "Grace"}, follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert "Your name is saved." in response.text
    user.refresh_from_db()
    assert user.name == "Grace"


def test_changing_the_email_unverifies_it_and_mails_a_link_to_the_new_address(
    client, django_capture_on_commit_callbacks, stub_broker
):
    user = UserFactory(email="old@example.com")
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/email/", {"email": "New@Example.com"}, follow=True)
    _run_queued_jobs(stub_broker)

    assert "We sent a link to new@example.com" in response.text
    user.refresh_from_db()
    assert user.email == "new@example.com" and not user.email_verified
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    token = LINK.search(message.body)["token"]
    assert client.get(f"/verify-email/{token}/").status_code == 200
    user.refresh_from_db()
    assert user.email_verified


def test_changing_the_email_to_a_taken_one_is_a_form_error(client, user):
    UserFactory(email="taken@example.com")
    client.force_login(user)

    response = client.post("/account/email/", {"email": "TAKEN@example.com"})

    assert response.status_code == 400
    assert "Already taken." in response.text
    assert User.objects.get(pk=user.pk).email == user.email


def test_changing_the_password_keeps_this_session_and_revokes_the_api_tokens(client, user):
    TokenFactory(user=user)
    client.force_login(user)

    response = client.post(
        "/account/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/account/", 302)]
    assert "Your password is changed" in response.text
    assert not ApiToken.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_changing_the_password_needs_the_old_one(client, user):
    client.force_login(user)

    response = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD},
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors


def test_revoking_a_device_deletes_its_token(client, user):
    token = TokenFactory(user=user)
    client.force_login(user)

    response = client.post(f"/account/devices/{token.pk}/revoke/", follow=True)

    assert "That device is signed out." in response.text
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_a_user_cannot_revoke_another_users_device(client, user):
    token = TokenFactory()
    client.force_login(user)

    response = client.post(f"/account/devices/{token.pk}/revoke/")

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_nav_links_the_signed_in_email_to_the_account_page(client, user):
    client.force_login(user)

    response = client.get("/account/")

    assert f'href="/account/" aria-current="page">{user.email}</a>' in response.text
