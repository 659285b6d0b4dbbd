"""On the real broker: a job whose last retry fails lands in the broker's dead-letter queue, and
staff see it as "failed", with its traceback, in the admin's job log."""

from __future__ import annotations

import dramatiq
import pytest
from django_dramatiq.models import Task
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from apps.users.actors import send_welcome_email
from tests.factories import UserFactory
from tests.smtp import fake_smtp_server
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]


def _dead_letters(broker: dramatiq.Broker) -> int:
    if isinstance(broker, RabbitmqBroker):
        return broker.get_queue_message_counts("default")[2]
    return broker.client.zcard(f"{broker.namespace}:default.XQ")


def test_an_email_whose_last_retry_fails_is_dead_lettered_and_shown_failed_in_the_admin(admin_client):
    broker = dramatiq.get_broker()
    broker.flush_all()
    user = UserFactory()
    with fake_smtp_server() as smtp:
        closed_port = smtp.port  # nothing listens there once the server is gone
    message = send_welcome_email.send_with_options(
        kwargs={"user_id": user.pk}, max_retries=1, min_backoff=100, max_backoff=200
    )

    with running_worker(env={"EMAIL_URL": f"smtp://127.0.0.1:{closed_port}"}):
        wait_until(lambda: Task.tasks.filter(id=message.message_id, status=Task.STATUS_FAILED).exists(), timeout=30)
        wait_until(lambda: _dead_letters(broker) == 1, timeout=10)

    task = Task.tasks.get(id=message.message_id)
    assert task.message.options["retries"] == 1  # the first attempt, then one retry
    assert "ConnectionRefusedError" in task.message.options["traceback"]
    page = admin_client.get("/admin/django_dramatiq/task/?status__exact=failed")
    assert "send_welcome_email" in page.text


@pytest.mark.rabbitmq
def test_with_an_amqp_broker_url_the_jobs_run_on_rabbitmq(settings):
    if not settings.BROKER_IS_RABBITMQ:
        pytest.skip("needs RabbitMQ: set BROKER_URL=amqp://... (as .ci/run does for -m jobs)")

    assert isinstance(dramatiq.get_broker(), RabbitmqBroker)
