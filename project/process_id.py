"""The current process id, without a system call each time it is asked.

os.getpid() is a system call, slow in some sandboxes, and the hot paths ask on every request
(the metrics, the ops minute buckets, the Redis clients that keep one connection per process).
The id kept here is refreshed in the child after each fork.
"""

from __future__ import annotations

import os

_pid = os.getpid()


def current() -> int:
    return _pid


def _refresh() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_refresh)
