"""Concurrent attempts, each in its own thread and database connection, released at once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from django.db import connection


def race(attempts: list[Callable[[], str]]) -> Counter[str]:
    """Run every attempt in its own thread and database connection, all released at once; count the outcomes."""
    start = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(attempt: Callable[[], str]) -> None:
        try:
            start.wait()
            outcomes.append(attempt())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == len(attempts), "an attempt's thread died or hung"
    return Counter(outcomes)
