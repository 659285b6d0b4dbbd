"""Retries, dead letters, idempotency and time limits of the jobs, on dramatiq's StubBroker.

The worker here is dramatiq's own, in threads of the test process, with the middleware of
settings (retries, time limits, the admin's job log). A worker thread has its own database
connection, hence transaction=True.
"""

from __future__ import annotations

import smtplib

import dramatiq
import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django_dramatiq.models import Task
from zeal import zeal_ignore

from apps.core.models import IdempotencyKey
from apps.users.actors import send_welcome_email
from tests.factories import UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db(transaction=True)

FAST_RETRIES = {"min_backoff": 10, "max_backoff": 20}


class SmtpDownBackend(EmailBackend):
    """The mail server refuses the first ``failures`` connections, then accepts (into mail.outbox)."""

    failures = 0
    attempts = 0

    def send_messages(self, messages):
        SmtpDownBackend.attempts += 1
        if SmtpDownBackend.attempts <= SmtpDownBackend.failures:
            raise smtplib.SMTPConnectError(421, b"down for maintenance")
        return super().send_messages(messages)


@pytest.fixture
def smtp_down(settings, monkeypatch):
    def down_for(attempts: int) -> None:
        monkeypatch.setattr(SmtpDownBackend, "failures", attempts)
        monkeypatch.setattr(SmtpDownBackend, "attempts", 0)

    settings.EMAIL_BACKEND = f"{__name__}.SmtpDownBackend"
    return down_for


def _run_all(broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
    broker.join("default", fail_fast=False)
    worker.join()


def test_an_smtp_outage_is_retried_with_backoff_and_the_email_goes_out_once_it_is_back(
    stub_broker, stub_worker, smtp_down
):
    smtp_down(2)
    user = UserFactory()

    message = send_welcome_email.send_with_options(kwargs={"user_id": user.pk}, **FAST_RETRIES)
    _run_all(stub_broker, stub_worker)

    assert SmtpDownBackend.attempts == 3
    assert [sent.to for sent in mail.outbox] == [[user.email]]
    # By its id: another test's outbox row, relayed meanwhile, may have a Task of its own.
    assert Task.tasks.get(id=message.message_id).status == Task.STATUS_DONE
    assert stub_broker.dead_letters == []


def test_after_the_last_retry_the_message_is_dead_lettered_and_staff_see_it_failed_in_the_admin(
    stub_broker, stub_worker, smtp_down, admin_client
):
    smtp_down(100)
    user = UserFactory()

    message = send_welcome_email.send_with_options(kwargs={"user_id": user.pk}, max_retries=2, **FAST_RETRIES)
    _run_all(stub_broker, stub_worker)

    assert SmtpDownBackend.attempts == 3
    assert [dead.message_id for dead in stub_broker.dead_letters] == [message.message_id]
    assert mail.outbox == []
    task = Task.tasks.get(id=message.message_id)
    assert task.status == Task.STATUS_FAILED
    assert "SMTPConnectError" in task.message.options["traceback"]
    page = admin_client.get("/admin/django_dramatiq/task/?status__exact=failed")
    assert page.status_code == 200
    assert "send_welcome_email" in page.text
    assert not IdempotencyKey.objects.exists()  # nothing was sent, so a manual re-run would send


def test_a_redelivered_message_sends_no_second_email(stub_broker, stub_worker):
    user = UserFactory()
    message = send_welcome_email.message(user_id=user.pk)

    stub_broker.enqueue(message)
    _run_all(stub_broker, stub_worker)
    stub_broker.enqueue(message)  # the same message again, as a broker redelivers it
    _run_all(stub_broker, stub_worker)

    assert len(mail.outbox) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [f"welcome:{user.pk}"]


def test_every_job_of_the_apps_has_a_time_limit_and_a_retry_budget():
    actors = [actor for actor in dramatiq.get_broker().actors.values() if actor.fn.__module__.startswith("apps.")]

    assert {actor.actor_name for actor in actors} >= {
        "send_welcome_email",
        "send_verification_email",
        "send_password_reset_email",
        "send_order_confirmation",
        "refresh_daily_sales",
        "generate_report",
        "run_product_import",
        "relay_outbox",
        "prune_job_log",
        "expire_reports",
        "expire_product_imports",
        "prune_idempotent_requests",
    }
    for actor in actors:
        assert 0 < actor.options["time_limit"] <= 30 * 60_000, actor.actor_name
        assert "max_retries" in actor.options, actor.actor_name


def test_the_scheduler_sends_the_rollup_hourly_and_the_outbox_relay_every_minute():
    from dramatiq_crontab import scheduler

    import project.tasks  # noqa: F401  (what `manage.py crontab` imports)

    triggers = {job.name: str(job.trigger) for job in scheduler.get_jobs()}

    assert triggers["relay_outbox"].startswith("cron[month='*', day='*', day_of_week='*', hour='*', minute='*'")
    assert "hour='*', minute='15'" in triggers["refresh_daily_sales"]
    assert "hour='3', minute='30'" in triggers["prune_job_log"]
    assert "hour='3', minute='45'" in triggers["expire_reports"]
    assert "hour='3', minute='50'" in triggers["expire_product_imports"]
    assert "hour='*', minute='45'" in triggers["prune_idempotent_requests"]


def test_the_job_log_in_the_admin_runs_the_same_queries_for_1_and_50_jobs(admin_client):
    def log_failed_jobs(count: int) -> None:
        # As a worker logs jobs: django_dramatiq looks each message's row up (one .get() each).
        with zeal_ignore([{"model": "django_dramatiq.Task", "field": "get()"}]):
            for _ in range(count):
                Task.tasks.create_or_update_from_message(
                    send_welcome_email.message(user_id=1),
                    status=Task.STATUS_FAILED,
                    actor_name="send_welcome_email",
                    queue_name="default",
                )

    admin_client.get("/admin/")  # the session is loaded once, outside the budget

    # The user, filtered and total COUNT(*), the page, the date hierarchy's range and days,
    # and the actor and queue names of the filters.
    responses = assert_constant_queries(
        log_failed_jobs, lambda: admin_client.get("/admin/django_dramatiq/task/"), budget=8
    )

    assert all(response.status_code == 200 for response in responses.values())


@pytest.mark.parametrize("status", [Task.STATUS_RUNNING, Task.STATUS_DONE, Task.STATUS_FAILED])
def test_a_retry_moved_to_its_queue_after_it_already_ran_leaves_the_job_log_as_the_worker_wrote_it(status):
    # The worker moves a retry whose backoff is over to its queue (an enqueue without delay); the
    # retry can run, and fail for good, before that enqueue's hook runs.
    from project.jobs.broker import JobLog

    message = send_welcome_email.message_with_options(kwargs={"user_id": 1})
    Task.tasks.create_or_update_from_message(
        message, status=status, actor_name=message.actor_name, queue_name="default"
    )

    JobLog().after_enqueue(dramatiq.get_broker(), message, None)

    assert Task.tasks.get(id=message.message_id).status == status


def test_a_retry_enqueued_with_its_backoff_turns_failed_into_delayed():
    from project.jobs.broker import JobLog

    message = send_welcome_email.message_with_options(kwargs={"user_id": 1})
    Task.tasks.create_or_update_from_message(
        message, status=Task.STATUS_FAILED, actor_name=message.actor_name, queue_name="default"
    )

    JobLog().after_enqueue(dramatiq.get_broker(), message, 100)

    assert Task.tasks.get(id=message.message_id).status == Task.STATUS_DELAYED
