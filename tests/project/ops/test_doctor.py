"""`manage.py doctor` and /ops/doctor.json: the stage, queues with no worker, a missing source is "unknown"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from io import StringIO

import dramatiq
import pytest
from django.conf import settings
from django.core.management import call_command

from project.ops.doctor.findings import Severity
from project.ops.doctor.sources.stage import variables_in_effect
from project.ops.doctor.verdict import diagnose
from tests.project.ops.doctor_helpers import finding
from tests.workers import running_worker, wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_queues():
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


def test_at_stage_1_with_nothing_set_it_says_so_and_names_stage_2s_first_step():
    if any(variables_in_effect().values()):
        pytest.skip("checks stage 1: run with no DATABASE_URL, REDIS_URL, ... set (./scripts/test)")

    verdict = diagnose()

    stage = finding(verdict, "stage")
    assert verdict.stage.number == "1"
    assert stage.message.startswith("stage 1 (laptop): none of DATABASE_URL, REDIS_URL")
    assert "stage 2's first step: set DATABASE_URL=postgres://… and REDIS_URL=redis://…" in stage.next_step
    assert stage.doc == "docs/stages.md#stage-2-one-server-with-real-services"


def test_a_stopped_worker_with_queued_jobs_names_the_queue_and_is_red(empty_queues):
    from apps.core.actors import relay_outbox

    for _ in range(3):
        relay_outbox.send()

    verdict = diagnose()

    queue = finding(verdict, "queue.default")
    assert queue.severity is Severity.RED
    assert queue.message.startswith("queue default: 3 jobs waiting, oldest ")
    assert "no job worker reports in" in queue.message
    assert "manage.py rundramatiq" in queue.next_step


def test_the_command_exits_non_zero_when_a_finding_is_red_and_prints_it(empty_queues):
    from apps.core.actors import relay_outbox

    relay_outbox.send()
    out = StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("doctor", stdout=out)

    assert exit_.value.code == 1
    assert "red      queue default: 1 jobs waiting" in out.getvalue()
    assert "\033[" not in out.getvalue()  # no colour when stdout is not a terminal


def test_the_command_prints_the_same_verdict_as_json_and_exits_0_without_red(empty_queues):
    out = StringIO()

    call_command("doctor", "--json", stdout=out)

    verdict = json.loads(out.getvalue())
    assert verdict["worst"] in ("green", "amber", "unknown")
    assert {"id": "queue.default", "severity": "green"}.items() <= next(
        f for f in verdict["findings"] if f["id"] == "queue.default"
    ).items()
    assert set(verdict["stage"]["variables_set"]) == {
        "DATABASE_URL",
        "REDIS_URL",
        "BROKER_URL",
        "CDN_URL",
        "DATABASE_REPLICA_URLS",
        "MEDIA_S3_BUCKET",
    }


def test_jobs_kept_in_the_outbox_are_counted_with_the_age_of_the_oldest():
    from apps.core.models import OutboxMessage

    OutboxMessage.objects.create(message_id=uuid.uuid4(), actor_name="relay_outbox", queue_name="default", data="{}")

    outbox = finding(diagnose(), "jobs.outbox")

    assert outbox.severity is Severity.AMBER
    assert outbox.message.startswith("outbox: 1 jobs kept while the broker was unreachable, oldest ")


def test_dead_letters_are_counted_per_actor_from_the_job_log():
    from django_dramatiq.models import Task

    for _ in range(2):
        Task.tasks.create(id=uuid.uuid4(), actor_name="send_welcome_email", status=Task.STATUS_FAILED, message_data=b"")

    dead = finding(diagnose(), "jobs.dead_letters")

    assert dead.severity is Severity.AMBER
    assert dead.message == "dead letters: 2 jobs failed after their last retry (send_welcome_email 2)"


def test_redis_unreachable_is_unknown_and_every_other_source_still_runs(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/8"  # a closed port

    verdict = diagnose()

    redis = finding(verdict, "redis")
    assert redis.severity is Severity.UNKNOWN
    assert redis.message.startswith("Redis: unknown, ConnectionError")
    assert finding(verdict, "workers").severity is Severity.UNKNOWN  # heartbeats are in that Redis
    assert finding(verdict, "jobs.outbox").message == "outbox: empty"
    assert finding(verdict, "queue.default")  # the broker is another client


def test_no_prometheus_and_no_minute_counters_make_the_kit_signals_unknown_with_the_step_to_take(settings):
    settings.PROMETHEUS_URL = ""
    settings.OPS_MINUTE_BUCKETS = False

    prometheus = finding(diagnose(), "prometheus")

    assert prometheus.severity is Severity.UNKNOWN
    assert prometheus.message.endswith("unknown, PROMETHEUS_URL is not set and OPS_MINUTE_BUCKETS is off")
    assert prometheus.next_step.startswith("set PROMETHEUS_URL")


def test_prometheus_unreachable_is_unknown(settings):
    settings.PROMETHEUS_URL = "http://127.0.0.1:1"

    prometheus = finding(diagnose(), "prometheus")

    assert prometheus.severity is Severity.UNKNOWN
    assert "URLError" in prometheus.message


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)  # the worker writes to the database (the job log) meanwhile
def test_a_running_worker_reports_in_and_stops_counting_once_stopped(empty_queues, settings):
    settings.WORKER_HEARTBEAT_TIMEOUT = 2

    with running_worker(env={"WORKER_HEARTBEAT_INTERVAL": "0.5"}):
        wait_until(lambda: "1 processes on 1 machines" in finding(diagnose(), "workers").message, timeout=60)
    # Stopped by a signal to its whole process group, as systemd does, it may exit before its
    # shutdown hook removes it: its heartbeat then ages out.
    wait_until(lambda: finding(diagnose(), "workers").message == "job workers: none reports in", timeout=10)


def test_the_endpoint_answers_staff_with_the_verdict(staff_client):
    response = staff_client.get("/ops/doctor.json")

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert response.json()["stage"]["number"] == diagnose().stage.number
    assert any(f["id"] == "stage" for f in response.json()["findings"])


def test_the_endpoint_refuses_a_signed_in_user_who_is_not_staff(user_client, api_client):
    assert user_client.get("/ops/doctor.json").status_code == 403
    assert api_client.get("/ops/doctor.json").json()["error"]["code"] == "not_authenticated"


def test_the_command_runs_as_a_process_and_prints_the_table():
    result = subprocess.run(
        [sys.executable, "manage.py", "doctor"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.test_settings"},
    )

    assert result.returncode in (0, 1), result.stderr
    assert result.stdout.startswith("Headroom doctor, ")
    assert "\nworst: " in result.stdout
