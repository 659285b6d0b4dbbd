"""Stage 1 runs jobs for real: the web process enqueues, a worker process sends."""

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import running_worker, wait_until

VERIFY_LINK = re.compile(r"/verify-email/(?P<token>[^/\s]+)/")


def _mail_for(address: str, subject: str) -> list[str]:
    mail_dir = Path(settings.EMAIL_FILE_PATH)
    if not mail_dir.exists():
        return []
    texts = (path.read_text(errors="replace") for path in mail_dir.iterdir())
    return [text for text in texts if f"To: {address}" in text and f"Subject: {subject}" in text]


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_signup_mails_a_verification_link_and_the_welcome_follows_verification_by_a_real_worker(api_client):
    address = f"welcome-{uuid.uuid4().hex}@example.com"

    response = api_client.post(
        "/api/v1/auth/signup/", {"email": address, "password": "s3cret-Passw0rd!", "name": "Wendy"}
    )
    assert response.status_code == 201

    with running_worker():
        (verification,) = wait_until(lambda: _mail_for(address, "Verify your Headroom email"), timeout=60)
        assert "Wendy" not in verification
        token = VERIFY_LINK.search(verification)["token"]
        assert api_client.post("/api/v1/auth/verify-email/", {"token": token}).status_code == 200
        (welcome,) = wait_until(lambda: _mail_for(address, "Welcome to Headroom"), timeout=60)
    assert "Wendy" in welcome
