"""apps.core.emails: an email sent once per key, over a real SMTP conversation."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.core.emails import email_send_once
from apps.core.models import IdempotencyKey
from tests.smtp import fake_smtp_server


@pytest.mark.django_db(transaction=True)
def test_an_emails_key_commits_before_the_smtp_session_quits(settings):
    """A worker killed after the server's "250" and before the commit sends twice; the commit
    comes straight after the "250", not after QUIT's round trip."""
    committed_at_quit: list[bool] = []

    def key_committed() -> None:
        try:  # the server's thread has a connection of its own: it sees committed rows only
            committed_at_quit.append(IdempotencyKey.objects.filter(key="verify-email:quit").exists())
        finally:
            connection.close()

    with fake_smtp_server() as smtp:
        smtp.on_quit = key_committed
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        sent = email_send_once(
            key="verify-email:quit",
            to="a@example.com",
            subject="Hi",
            template="verify_email",
            context={"email": "a@example.com", "valid_hours": 24, "verify_url": "http://x/"},
        )

    assert sent
    assert len(smtp.messages) == 1
    assert committed_at_quit == [True]
