"""Password reset: the API and the pages ask for a link, a job emails it, the link sets a new
password once and expires."""

from __future__ import annotations

import re
from datetime import timedelta

import dramatiq
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail

from apps.users import services
from apps.users.models import ApiToken
from tests.factories import TokenFactory, UserFactory

pytestmark = pytest.mark.django_db

REQUEST_URL = "/api/v1/auth/password-reset/"
CONFIRM_URL = "/api/v1/auth/password-reset/confirm/"
NEW_PASSWORD = "a-brand-new-Passw0rd"
LINK = re.compile(r"/password-reset/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")


def _emailed_link(user) -> dict[str, str]:
    services.password_reset_email_send(email=user.email, request_id="test")  # what the job runs
    (message,) = mail.outbox
    html, _ = message.alternatives[0]
    assert LINK.search(html)
    return LINK.search(message.body).groupdict()


def test_a_reset_request_for_an_account_answers_202_and_sends_the_email_from_a_job(
    api_client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="ada@example.com")

    with django_capture_on_commit_callbacks() as jobs:
        response = api_client.post(REQUEST_URL, {"email": "ADA@example.com"})

    assert response.status_code == 202
    assert len(jobs) == 1
    assert mail.outbox == []  # not sent by the request
    link = _emailed_link(user)
    assert mail.outbox[0].to == ["ada@example.com"]
    assert link["uid"] and link["token"]


def test_a_reset_request_for_an_unknown_email_answers_the_same_and_does_the_same_work(
    api_client, django_capture_on_commit_callbacks, stub_broker
):
    UserFactory(email="ada@example.com")

    with django_capture_on_commit_callbacks(execute=True) as known_jobs:
        known = api_client.post(REQUEST_URL, {"email": "ada@example.com"})
    with django_capture_on_commit_callbacks(execute=True) as unknown_jobs:
        unknown = api_client.post(REQUEST_URL, {"email": "nobody@example.com"})

    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert len(known_jobs) == len(unknown_jobs) == 1
    queued = [dramatiq.Message.decode(data) for data in stub_broker.queues["default"].queue]
    assert [(message.actor_name, message.kwargs["email"]) for message in queued] == [
        ("send_password_reset_email", "ada@example.com"),
        ("send_password_reset_email", "nobody@example.com"),
    ]


def test_the_reset_job_for_an_unknown_email_sends_nothing():
    UserFactory(email="ada@example.com")

    services.password_reset_email_send(email="nobody@example.com", request_id="test")

    assert mail.outbox == []


def test_the_emailed_link_sets_a_new_password_once_and_revokes_api_tokens(api_client):
    user = UserFactory()
    TokenFactory(user=user)
    link = _emailed_link(user)

    response = api_client.post(CONFIRM_URL, {**link, "new_password": NEW_PASSWORD})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not ApiToken.objects.filter(user=user).exists()
    again = api_client.post(CONFIRM_URL, {**link, "new_password": "another-Passw0rd-2"})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"


def test_an_expired_link_is_rejected(api_client, monkeypatch, settings):
    user = UserFactory()
    link = _emailed_link(user)
    later = default_token_generator._now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)

    response = api_client.post(CONFIRM_URL, {**link, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("uid", ["", "garbage!", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODk", "LTE"])
def test_a_malformed_or_unknown_uid_is_a_400_in_the_error_shape(api_client, uid):
    response = api_client.post(CONFIRM_URL, {"uid": uid, "token": "abc-def", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_a_weak_new_password_is_rejected_and_the_old_one_kept(api_client):
    user = UserFactory()
    link = _emailed_link(user)

    response = api_client.post(CONFIRM_URL, {**link, "new_password": "123"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "weak_password"
    assert "new_password" in response.json()["error"]["fields"]
    user.refresh_from_db()
    assert not user.check_password("123")


def test_the_pages_ask_for_a_link_then_set_the_password(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="ada@example.com")

    with django_capture_on_commit_callbacks() as jobs:
        asked = client.post("/password-reset/", {"email": "ada@example.com"})
    assert asked.status_code == 302 and asked["Location"] == "/password-reset/sent/"
    assert len(jobs) == 1
    link = _emailed_link(user)

    form = client.get(f"/password-reset/{link['uid']}/{link['token']}/", follow=True)
    assert "Choose a new password" in form.text
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get("/password-reset/sent/").status_code == 200
    assert client.get("/password-reset/done/").status_code == 200
