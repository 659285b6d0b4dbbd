"""Enqueueing jobs only once the data they read is committed."""

from __future__ import annotations

from typing import Any

import dramatiq
from django.db import transaction


def send_on_commit(actor: dramatiq.Actor, /, **kwargs: Any) -> None:
    """Send ``actor(**kwargs)`` after the surrounding transaction commits (at once if none).

    A message sent inside the transaction can reach a worker before the commit, which then
    reads rows that do not exist yet; a rolled-back transaction must send nothing at all.
    """
    transaction.on_commit(lambda: actor.send(**kwargs), robust=False)
