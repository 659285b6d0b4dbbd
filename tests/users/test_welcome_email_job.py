"""Stage 1 runs jobs for real: the web process enqueues, a worker process sends."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import running_worker, wait_until


def _mail_for(address: str) -> list[Path]:
    mail_dir = Path(settings.EMAIL_FILE_PATH)
    if not mail_dir.exists():
        return []
    return [path for path in mail_dir.iterdir() if f"To: {address}" in path.read_text(errors="replace")]


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_signup_welcome_email_is_sent_by_a_real_worker_process(api_client):
    address = f"welcome-{uuid.uuid4().hex}@example.com"

    response = api_client.post(
        "/api/v1/auth/signup/", {"email": address, "password": "s3cret-Passw0rd!", "name": "Wendy"}
    )
    assert response.status_code == 201

    with running_worker():
        sent = wait_until(lambda: _mail_for(address), timeout=60)
    assert len(sent) == 1
    assert "Welcome to Headroom" in sent[0].read_text()
