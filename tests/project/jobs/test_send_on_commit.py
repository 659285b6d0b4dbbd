"""Services enqueue by actor name (apps/core/jobs.py): a wrong name or argument fails at the call,
in the request and in the tests, not later in a worker."""

from __future__ import annotations

import dramatiq
import pytest
from django.db import transaction
from dramatiq.errors import ActorNotFound

from apps.core.jobs import send_on_commit


@pytest.mark.django_db(transaction=True)
def test_a_job_sent_by_name_goes_to_its_actors_queue_once_the_transaction_commits(stub_broker):
    with transaction.atomic():
        send_on_commit("send_welcome_email", user_id=7)
        assert stub_broker.queues["default"].qsize() == 0

    [message] = [dramatiq.Message.decode(data) for data in stub_broker.queues["default"].queue]
    assert (message.actor_name, message.kwargs) == ("send_welcome_email", {"user_id": 7})


def test_an_unknown_actor_name_fails_at_the_call():
    with pytest.raises(ActorNotFound):
        send_on_commit("send_welcome_emial", user_id=7)


@pytest.mark.parametrize("kwargs", [{"user": 7}, {}, {"user_id": 7, "extra": 1}])
def test_arguments_the_actor_does_not_take_fail_at_the_call(kwargs):
    with pytest.raises(TypeError):
        send_on_commit("send_welcome_email", **kwargs)
