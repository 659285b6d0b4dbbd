"""Nothing is lost when the broker is unreachable: the message waits in the outbox, the request
succeeds, and the message is sent when a worker starts (or the scheduler's relay runs)."""

from __future__ import annotations

import uuid
from pathlib import Path

import dramatiq
import pytest
import redis
from django.conf import settings

from apps.core import services
from apps.core.models import OutboxMessage
from tests.workers import running_worker, wait_until

SIGNUP_URL = "/api/v1/auth/signup/"


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(message, *, delay=None):
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(dramatiq.get_broker(), "enqueue", refuse)
    return monkeypatch


def _signup(api_client, address: str):
    return api_client.post(SIGNUP_URL, {"email": address, "password": "s3cret-Passw0rd!", "name": "Olive"})


@pytest.mark.django_db(transaction=True)
def test_a_signup_while_the_broker_is_down_succeeds_and_keeps_the_verification_email_in_the_outbox(
    api_client, broker_down
):
    response = _signup(api_client, "olive@example.com")

    assert response.status_code == 201
    kept = OutboxMessage.objects.get()
    assert kept.actor_name == "send_verification_email"
    assert dramatiq.Message.decode(kept.data.encode()).kwargs["email"] == "olive@example.com"
    assert "Connection refused" in kept.last_error


@pytest.mark.django_db(transaction=True)
def test_the_relay_sends_kept_messages_with_their_ids_and_empties_the_outbox(stub_broker, api_client, monkeypatch):
    with monkeypatch.context() as broken:
        broken.setattr(stub_broker, "enqueue", lambda message, delay=None: (_ for _ in ()).throw(OSError("down")))
        _signup(api_client, "olive@example.com")
    kept_id = OutboxMessage.objects.get().message_id

    assert services.outbox_relay() == 1

    assert not OutboxMessage.objects.exists()
    assert [dramatiq.Message.decode(data).message_id for data in stub_broker.queues["default"].queue] == [str(kept_id)]


@pytest.mark.django_db(transaction=True)
def test_a_relay_while_the_broker_is_still_down_keeps_the_messages(api_client, broker_down):
    _signup(api_client, "olive@example.com")

    assert services.outbox_relay() == 0

    assert OutboxMessage.objects.get().attempts == 1


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_a_message_kept_while_the_broker_was_down_is_sent_once_when_a_worker_starts(api_client, monkeypatch):
    address = f"outbox-{uuid.uuid4().hex}@example.com"
    with monkeypatch.context() as broken:
        broken.setattr(
            dramatiq.get_broker(), "enqueue", lambda message, delay=None: (_ for _ in ()).throw(OSError("down"))
        )
        assert _signup(api_client, address).status_code == 201
    assert OutboxMessage.objects.count() == 1

    with running_worker():
        sent = wait_until(lambda: _mail_for(address), timeout=60)
        wait_until(lambda: not OutboxMessage.objects.exists(), timeout=10)

    assert len(sent) == 1


def _mail_for(address: str) -> list[Path]:
    mail_dir = Path(settings.EMAIL_FILE_PATH)
    if not mail_dir.exists():
        return []
    return [path for path in mail_dir.iterdir() if f"To: {address}" in path.read_text(errors="replace")]
