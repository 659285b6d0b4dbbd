"""The test suite's settings: the real ones, with only what a test run must change."""

import os
import sys
from pathlib import Path

# Each pytest-xdist worker is a run of its own: it inherits its controller's values and adds its
# id to them, once (the servers and workers a test starts inherit the worker's values as they are).
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_FIRST_IMPORT_IN_WORKER = bool(_XDIST_WORKER) and os.environ.get("HEADROOM_TEST_XDIST_WORKER") != _XDIST_WORKER
if _XDIST_WORKER:
    os.environ["HEADROOM_TEST_XDIST_WORKER"] = _XDIST_WORKER


def _per_run(name: str, default: str) -> str:
    """The variable's value, set to the default when missing; per xdist worker (see above)."""
    value = os.environ.setdefault(name, default)
    if _FIRST_IMPORT_IN_WORKER:
        value = os.environ[name] = f"{value}-{_XDIST_WORKER}"
    return value


# A logical database of its own, so a test run never touches the dev server's cache or job queue.
os.environ.setdefault("EMBEDDED_REDIS_DB", "1")
# Every cache key of this run under a prefix of its own (servers and workers that tests start
# inherit it): a test empties only its run's caches, and two runs side by side keep theirs.
_per_run("CACHE_VERSION", f"test-{os.getpid()}")

from project.caching import redis_sentinel  # noqa: E402
from project.settings import *  # noqa: E402,F403
from project.settings import INSTALLED_APPS, MIDDLEWARE  # noqa: E402  # named: this module rebinds them

# The N+1 guard on whatever the environment says (settings.py adds the same two entries when
# N_PLUS_ONE_GUARD is true): tests/conftest.py runs every test inside zeal_context(), and the
# servers that tests start run these settings too. Set here, not in os.environ, so that the
# processes tests start on project.settings (production checks) do not inherit it.
N_PLUS_ONE_GUARD = True
if "zeal" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]
    MIDDLEWARE = ["project.ops.n_plus_one.NPlusOneGuardMiddleware", *MIDDLEWARE]

# Hashing at full strength would dominate the run; the hasher choice itself is Django's concern.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not :memory:, so a job worker process started by a test sees the test data;
    # one per run, so two runs side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(VAR_DIR) / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405

# The hashed-name manifest exists only after collectstatic, which a test run does not do.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

if DRAMATIQ_BROKER["BROKER"].endswith("RedisBroker"):  # noqa: F405
    from urllib.parse import parse_qsl, urlencode, urlsplit

    # With Sentinel the broker has a client, on the Redis of REDIS_URL.
    _broker = urlsplit(DRAMATIQ_BROKER["OPTIONS"].get("url", REDIS_URL))  # noqa: F405
    _query = dict(parse_qsl(_broker.query))
    if _broker.scheme == "unix":
        _query["db"] = str(int(_query.get("db", 0)) + 1)
        _broker_url = f"unix://{_broker.path}?{urlencode(_query)}"
    else:
        _broker_url = _broker._replace(path=f"/{int(_broker.path.strip('/') or 0) + 1}").geturl()
    # The production heartbeat and maintenance, so the crash tests prove what production does.
    DRAMATIQ_BROKER["OPTIONS"] = {  # noqa: F405
        **DRAMATIQ_BROKER["OPTIONS"],  # noqa: F405
        # The next logical database after the cache's: a test's cache.clear() (FLUSHDB), in this
        # run or in another one beside it, never drops queued jobs.
        **(
            {"client": redis_sentinel.broker_client(_broker_url, sentinel=REDIS_SENTINEL, timeout=BROKER_TIMEOUT)}  # noqa: F405
            if REDIS_SENTINEL  # noqa: F405
            else {"url": _broker_url}
        ),
        # Queues of this run only (worker subprocesses inherit the variable): two runs side by side
        # on one Redis never take each other's jobs.
        "namespace": _per_run("HEADROOM_TEST_QUEUE_NAMESPACE", f"dramatiq-test-{os.getpid()}"),
    }

if "pytest" in sys.modules:
    # The test process reads the primary only: pytest-django allows queries on the databases a
    # test declares, and a replica alias is a mirror of "default" there. Servers and workers
    # that tests start (other processes, these same settings) keep replica routing.
    DATABASE_REPLICAS = []
