"""Headroom settings: the one place that reads the environment.

With no variable set the kit runs at stage 1: SQLite, the embedded Redis, jobs run by a
local worker, mail written to files. Each later stage is reached by setting variables
(see README.md and .env.example), never by editing this file.

Sections follow https://docs.djangoproject.com/en/5.2/ref/settings/ in a fixed order.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django
import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from project.api_schema import EnumNamesOfTheApps
from project.caching import embedded_redis, redis_sentinel
from project.routing.database_urls import database_config, split_database_urls
from project.web import static_files

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Everything a stage 1 process writes (SQLite file, embedded Redis, mail, media) lives here.
VAR_DIR = env.path("VAR_DIR", default=str(BASE_DIR / "var"))
Path(VAR_DIR).mkdir(parents=True, exist_ok=True)

# =============================================================================
# Core and security
# https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# =============================================================================
ENVIRONMENT = env.str("ENVIRONMENT", default="development")
if ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured(f"ENVIRONMENT must be 'development' or 'production', not {ENVIRONMENT!r}")
IS_PRODUCTION = ENVIRONMENT == "production"

INSECURE_DEFAULT_SECRET_KEY = "django-insecure-headroom-stage-1-only-never-in-production"  # noqa: S105 - refused in production
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=not IS_PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused form gets the site's page, which says what to do, not Django's developer page.
CSRF_FAILURE_VIEW = "apps.core.views.csrf_failure"
# The currency the pages show after every price (apps/core/templatetags/money.py).
CURRENCY = env.str("CURRENCY", default="USD")

if IS_PRODUCTION:
    # Refuse to start rather than run production on a value that is only safe on a laptop.
    if SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("ENVIRONMENT=production needs SECRET_KEY set to 32+ random characters.")
    if DEBUG:
        raise ImproperlyConfigured("ENVIRONMENT=production refuses DEBUG=true.")
    # Behind a load balancer that terminates TLS and sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes call the app directly over http; a redirect would count as a passing probe.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# =============================================================================
# Applications and middleware
# https://docs.djangoproject.com/en/5.2/ref/applications/
# https://docs.djangoproject.com/en/5.2/topics/http/middleware/
# =============================================================================
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver leaves static files to whitenoise, as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    # Swagger UI's files served from here (/static/), not a CDN: the API docs work offline.
    "drf_spectacular_sidecar",
    "csp",
    "django_dramatiq",
    "dramatiq_crontab",
    # cacheops, on the models each app's caching.py declares (docs/caching.md)
    "project.caching.apps.QueryCacheConfig",
    "axes",
    "django_ratelimit",
]
# Your own apps, each under apps/: `./scripts/new-app <name>` makes one and adds it here; its routes,
# jobs and caching are found from this list (docs/adding-an-app.md). "project" is the wiring, not an
# app; first, so its ready() runs before theirs.
LOCAL_APPS = [
    "project",
    "apps.core",
    "apps.users",
    "apps.products",
    "apps.orders",
    "apps.reports",
    "apps.seeding",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every response but static files, cached API answers included.
    # django-csp's, with the settings' policy built once per process (project/security/content_security_policy.py).
    "project.security.content_security_policy.ContentSecurityPolicyMiddleware",
    # Cache-Control: private, no-store on whatever a signed-in user is sent (project/security/private_responses.py);
    # outside the response cache, so that the API's own caching headers are set first.
    "project.security.private_responses.PrivateWhenSignedIn",
    # Answers cached public API reads before sessions, auth and routing run (project/caching/response_cache.py).
    "project.caching.response_cache.PublicResponseCache",
    # A lost database connection (a primary failing over) answers 503 with Retry-After, not a 500.
    "project.routing.database_unavailable.DatabaseUnavailableMiddleware",
    # Pins unsafe requests to the primary; sends a client's reads to replicas that have its writes.
    "project.routing.read_your_writes.ReadYourWritesMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # An unknown /api/ URL is a JSON 404 under DEBUG too, not Django's HTML debug page.
    "apps.core.api.JsonNotFoundUnderDebugMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A page over its rate limit answers 429 (RATELIMIT_VIEW), not django-ratelimit's 403.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last: turns a login that axes locked out into the lockout page (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

# The ops page's per-minute counters of the last hour, in Redis (project/ops/minute_buckets.py):
# counted in memory, sent once a second per process. After whitenoise (static files are not counted), before
# the response cache (to count its hits).
OPS_MINUTE_BUCKETS = env.bool("OPS_MINUTE_BUCKETS", default=True)

# Server-Timing on every response: database time and queries (all aliases), query cache hits and
# misses, a response cache hit, total time (project/ops/server_timing.py). It tells any client what a
# request costs, so it is off in production unless asked for; when off it is not in MIDDLEWARE.
SERVER_TIMING = env.bool("SERVER_TIMING", default=DEBUG)
if SERVER_TIMING:
    # After whitenoise (static files need no timing), before the response cache (to see its hits).
    MIDDLEWARE.insert(
        MIDDLEWARE.index("project.caching.response_cache.PublicResponseCache"),
        "project.ops.server_timing.ServerTimingMiddleware",
    )

# Prometheus metrics of every web process and job worker (project/ops/metrics.py, docs/observability.md).
# METRICS_ENABLED=false takes the middleware and every receiver out (what scripts/bench-cache compares).
# /metrics and a worker's port answer only a bearer METRICS_TOKEN or a client in METRICS_ALLOWED_NETWORKS
# (the client IP as the throttles see it, NUM_PROXIES); with neither set, /metrics is a 404 and no
# worker opens its port.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_network!r} is not a network ({_error})") from None
if IS_PRODUCTION and METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("ENVIRONMENT=production needs METRICS_TOKEN of 32+ random characters, or unset.")
# Where each job worker serves its metrics (one port per machine or pod, every process of it summed).
METRICS_WORKER_HOST = env.str("METRICS_WORKER_HOST", default="127.0.0.1")
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=9191)
# The files through which the processes of one server share their counts (prometheus-client's multiprocess mode).
METRICS_DIR = env.path("METRICS_DIR", default=str(Path(VAR_DIR) / "metrics"))
if METRICS_ENABLED or OPS_MINUTE_BUCKETS:
    # Measures each request once for both (project/ops/request_recorder.py); outermost after whitenoise:
    # static files are not counted, response-cache hits are.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
        "project.ops.request_recorder.RequestRecorderMiddleware",
    )

# The N+1 guard (django-zeal): a related object or .get() loaded again and again from one line of
# code raises NPlusOneError, in requests (project/ops/n_plus_one.py) and in every test. On in development
# and tests; it patches the ORM, so production refuses it. An app allows a deliberate loop with
# zeal_ignore() around it (docs/performance.md).
N_PLUS_ONE_GUARD = env.bool("N_PLUS_ONE_GUARD", default=DEBUG)
if N_PLUS_ONE_GUARD and IS_PRODUCTION:
    raise ImproperlyConfigured("ENVIRONMENT=production refuses N_PLUS_ONE_GUARD=true.")
if N_PLUS_ONE_GUARD:
    # Last, so that its ready() wraps the QuerySet methods cacheops and project/ replace in theirs.
    INSTALLED_APPS.append("zeal")
    MIDDLEWARE.insert(0, "project.ops.n_plus_one.NPlusOneGuardMiddleware")
ZEAL_RAISE = True
ZEAL_NPLUSONE_THRESHOLD = 2

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# =============================================================================
# Database
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# =============================================================================
# Stage 1: a SQLite file. Stage 2+: DATABASE_URL=postgres://user:pass@host:5432/name
# Failover: several hosts, as libpq takes them, and the one that is the primary now is used:
# postgres://user:pass@db-1:5432,db-2:5432/name?target_session_attrs=read-write (docs/reliability.md)
DATABASES = {"default": database_config(env.str("DATABASE_URL", default=f"sqlite:///{Path(VAR_DIR) / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the job worker writes; IMMEDIATE takes the write
        # lock at BEGIN, so concurrent order transactions queue instead of failing to upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable primary fails a connection in seconds: without it, each /readyz probe (and
    # each request) waits on the kernel's TCP timeout, minutes, and the probe threads pile up.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Stage 3: read replicas. Comma-separated URLs, each becoming an alias replica_1, replica_2, ...
# A URL may list several hosts too (...?target_session_attrs=prefer-standby).
# Routing (project/routing/routers.py): writes, migrations and transactions on the primary; reads on a
# healthy replica that has replayed the client's last write (project/routing/read_your_writes.py).
DATABASE_REPLICAS = []
for number, url in enumerate(split_database_urls(env.str("DATABASE_REPLICA_URLS", default="")), start=1):
    alias = f"replica_{number}"
    DATABASES[alias] = {
        **database_config(url),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "ATOMIC_REQUESTS": False,
        # The test runner must not create a database on a read-only standby.
        "TEST": {"MIRROR": "default"},
    }
    if DATABASES[alias]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES[alias].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", env.int("REPLICA_CONNECT_TIMEOUT", default=1)
        )
    DATABASE_REPLICAS.append(alias)
DATABASE_ROUTERS = ["project.routing.routers.ReplicaRouter"]
# A replica leaves rotation when it lags more than this (time, bytes) or its connection fails.
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=60.0)
REPLICA_MAX_LAG_BYTES = env.int("REPLICA_MAX_LAG_BYTES", default=8 * 1024 * 1024)
# Seconds between health checks of one replica, per process; and out of rotation after a failure.
REPLICA_CHECK_INTERVAL = env.float("REPLICA_CHECK_INTERVAL", default=1.0)
REPLICA_RECHECK_FOR_LSN_INTERVAL = 0.05
REPLICA_CHECK_TIMEOUT = 0.5
REPLICA_RETRY_SECONDS = env.float("REPLICA_RETRY_SECONDS", default=5.0)
# How long a client's reads wait for replicas to replay its last write (else: the primary).
REPLICA_STICKY_SECONDS = env.int("REPLICA_STICKY_SECONDS", default=30)
# Adds X-DB-Reads (the aliases a request read from) to responses: for tests and debugging.
DATABASE_ROUTE_HEADER = env.bool("DATABASE_ROUTE_HEADER", default=False)
# The checks of /readyz whose failure takes an instance out of rotation (a 503); the others are
# reported as "degraded". Every instance shares Redis, the broker and the replicas, so when one is
# down, requiring it makes every instance unready at once, although the app serves without it.
# Names: database:default, replicas, redis, broker (docs/deploy.md#health-healthz-and-readyz).
READINESS_REQUIRED = env.list("READINESS_REQUIRED", default=["database:default", "replicas", "redis", "broker"])
_unknown_readiness_checks = [
    name
    for name in READINESS_REQUIRED
    if name not in ("database:default", "replicas", "redis", "broker")
    and not re.fullmatch(r"database:replica_\d+", name)
]
if _unknown_readiness_checks:
    # A misspelt name would silently gate nothing.
    raise ImproperlyConfigured(f"READINESS_REQUIRED: unknown checks {_unknown_readiness_checks}")

# =============================================================================
# Redis and caches
# https://docs.djangoproject.com/en/5.2/topics/cache/
# https://github.com/Suor/django-cacheops#setup
# =============================================================================
# Stage 1: unset, and the embedded redis-server under var/ is started by the first client that
# connects, never here; it stops soon after the last one exits (docs/stages.md).
# Stage 2+: REDIS_URL=redis://host:6379/0
# High availability: REDIS_SENTINELS=host1:26379,host2:26379 and REDIS_SENTINEL_MASTER=mymaster;
# every client then asks the sentinels for the master, and REDIS_URL names that master,
# redis://[:password@]mymaster/0 (project/caching/redis_sentinel.py, docs/reliability.md).
REDIS_SENTINELS = redis_sentinel.parse_sentinels(env.str("REDIS_SENTINELS", default=""))
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
REDIS_URL = env.str("REDIS_URL", default=f"redis://{REDIS_SENTINEL_MASTER}/0" if REDIS_SENTINELS else "")
if not REDIS_URL:
    EMBEDDED_REDIS_DIR = Path(VAR_DIR) / "redis"
    embedded_redis.start_on_connect(directory=EMBEDDED_REDIS_DIR)
    REDIS_URL = embedded_redis.url(directory=EMBEDDED_REDIS_DIR, db=env.int("EMBEDDED_REDIS_DB", default=0))

# A frozen or unreachable Redis must cost a request milliseconds, never a hang.
REDIS_SOCKET_CONNECT_TIMEOUT = env.float("REDIS_SOCKET_CONNECT_TIMEOUT", default=0.25)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)

REDIS_SENTINEL: redis_sentinel.SentinelSettings | None = None
if REDIS_SENTINELS:
    if urlsplit(REDIS_URL).hostname != REDIS_SENTINEL_MASTER:
        raise ImproperlyConfigured(
            f"With REDIS_SENTINELS, REDIS_URL names the master: redis://[:password@]{REDIS_SENTINEL_MASTER}/0"
        )
    REDIS_SENTINEL = {
        "sentinels": REDIS_SENTINELS,
        "master": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": {
            # The sentinels' own password (requirepass in sentinel.conf), if any; the master's is in REDIS_URL.
            "password": env.str("REDIS_SENTINEL_PASSWORD", default="") or None,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
        },
    }

# A deploy-specific part keeps a rolling deploy from reading pickles written by other code.
CACHE_VERSION = env.str("CACHE_VERSION", default="1")
CACHE_KEY_PREFIX = f"hr:dj{django.__version__}:{CACHE_VERSION}"

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "OPTIONS": {
            "REDIS_CLIENT_CLASS": "project.caching.redis_guard.GuardedRedis",
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_CONNECT_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
        },
    },
}
if REDIS_SENTINEL:
    CACHES["default"]["OPTIONS"].update(
        {
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": REDIS_SENTINEL["sentinels"],
            "SENTINEL_KWARGS": REDIS_SENTINEL["sentinel_kwargs"],
        }
    )
# A cache error is a miss, never a 500: throttles allow, sessions fall back to the database.
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# The query cache. Which models, and which operations, each app declares in its caching.py
# (QUERY_CACHE, read into CACHEOPS at startup). Invalidation is automatic on save/delete; bulk
# writes use invalidated_update() or invalidate_model() (see docs/caching.md).
CACHEOPS_REDIS = (
    f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}"
    f"socket_timeout={REDIS_SOCKET_TIMEOUT}&socket_connect_timeout={REDIS_SOCKET_CONNECT_TIMEOUT}"
)
if REDIS_SENTINEL:
    _redis_url = urlsplit(REDIS_URL)
    CACHEOPS_REDIS = ""
    CACHEOPS_SENTINEL = {
        "locations": REDIS_SENTINEL["sentinels"],
        "service_name": REDIS_SENTINEL["master"],
        "db": int(_redis_url.path.strip("/") or 0),
        "password": _redis_url.password,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
        "sentinel_kwargs": REDIS_SENTINEL["sentinel_kwargs"],
    }
# One connection per process, no pool checks per command (project/caching/redis_guard.py), but under Sentinel.
CACHEOPS_CLIENT_CLASS = (
    "project.caching.redis_guard.GuardedRedis"
    if REDIS_SENTINEL
    else "project.caching.redis_guard.OneConnectionGuardedRedis"
)
CACHEOPS_DEGRADE_ON_FAILURE = True
CACHEOPS_PREFIX = lambda query: f"{CACHE_KEY_PREFIX}:co:"  # noqa: E731
CACHEOPS_ENABLED = env.bool("CACHEOPS_ENABLED", default=True)
QUERY_CACHE_TTL = env.int("QUERY_CACHE_TTL", default=15 * 60)
CACHEOPS_DEFAULTS = {"timeout": QUERY_CACHE_TTL}
# Signed-in reads from the query cache: an API token with its user (every token request's sign-in
# check) and a user's orders pages (apps/core/query_cache.py). Every write they depend on drops
# them at once; the timeout only bounds how long an unused entry takes memory.
SIGNED_IN_CACHE_TTL = env.int("SIGNED_IN_CACHE_TTL", default=5 * 60)

# The response cache for anonymous public reads (each app's caching.py names its own), and the
# HTTP caching headers of the API.
RESPONSE_CACHE_ENABLED = env.bool("RESPONSE_CACHE_ENABLED", default=True)
RESPONSE_CACHE_TTL = env.int("RESPONSE_CACHE_TTL", default=5 * 60)
# Each process keeps current entries in memory, dropped as Redis reports changes (CLIENT TRACKING,
# Redis 6+; project/caching/local_copies.py): a hit then makes no Redis round trip. Not with
# Sentinel: after a failover, the new master would report nothing to this process.
RESPONSE_CACHE_LOCAL_COPIES = env.bool("RESPONSE_CACHE_LOCAL_COPIES", default=not REDIS_SENTINEL)
if RESPONSE_CACHE_LOCAL_COPIES and REDIS_SENTINEL:
    raise ImproperlyConfigured("RESPONSE_CACHE_LOCAL_COPIES=true cannot be used with REDIS_SENTINELS.")
# Short on purpose: browsers and CDNs keep a response this long whatever the server invalidates.
PUBLIC_CACHE_MAX_AGE = env.int("PUBLIC_CACHE_MAX_AGE", default=30)
if RESPONSE_CACHE_ENABLED and not CACHEOPS_ENABLED:
    # The response cache is invalidated by cacheops' signal, which a disabled cacheops never sends.
    raise ImproperlyConfigured("RESPONSE_CACHE_ENABLED=true needs CACHEOPS_ENABLED=true; turn both off together.")

# =============================================================================
# Background jobs (Dramatiq)
# https://dramatiq.io/guide.html  https://github.com/Bogdanp/django_dramatiq
# https://github.com/voiio/dramatiq-crontab  (docs/jobs.md)
# =============================================================================
# Defaults to the Redis above. BROKER_URL=amqp://guest:guest@host:5672/ selects RabbitMQ.
BROKER_URL = env.str("BROKER_URL", default="") or REDIS_URL
BROKER_IS_RABBITMQ = BROKER_URL.startswith(("amqp://", "amqps://"))
# The longest a request waits on an unreachable broker before the message goes to the outbox.
BROKER_TIMEOUT = env.float("BROKER_TIMEOUT", default=0.5)
# Redis: a worker silent this long (killed, machine lost) is taken for dead and its unacknowledged
# messages go back to the queue. Shorter brings them back sooner, but runs a second time the jobs
# of a live worker cut off from Redis that long (docs/jobs.md). RabbitMQ redelivers when the
# connection drops.
BROKER_HEARTBEAT_TIMEOUT = env.int("BROKER_HEARTBEAT_TIMEOUT", default=30)
if BROKER_HEARTBEAT_TIMEOUT < 5:
    # A live worker's heartbeat is its next Redis command, about once a second when idle.
    raise ImproperlyConfigured("BROKER_HEARTBEAT_TIMEOUT must be at least 5 seconds.")
_broker_query = "&" if "?" in BROKER_URL else "?"
if BROKER_IS_RABBITMQ:
    # confirm_delivery: a send returns only once RabbitMQ has taken the message, or raises.
    BROKER_OPTIONS = {
        "url": f"{BROKER_URL}{_broker_query}socket_timeout={BROKER_TIMEOUT}&connection_attempts=1",
        "confirm_delivery": True,
    }
elif REDIS_SENTINEL and BROKER_URL == REDIS_URL:
    # Through the sentinels; each write returns once a replica has it, so the master's loss loses
    # no message a client was told is enqueued (project/caching/redis_sentinel.py).
    BROKER_OPTIONS = {
        "client": redis_sentinel.broker_client(REDIS_URL, sentinel=REDIS_SENTINEL, timeout=BROKER_TIMEOUT)
    }
else:
    BROKER_OPTIONS = {
        "url": f"{BROKER_URL}{_broker_query}socket_connect_timeout={BROKER_TIMEOUT}&socket_timeout={BROKER_TIMEOUT}",
        "heartbeat_timeout": BROKER_HEARTBEAT_TIMEOUT * 1000,
        # Maintenance (requeueing dead workers' messages) runs on 1 command in 4, not Dramatiq's
        # 1 in 1,000 (many minutes with few workers): seconds after the timeout. With no dead
        # worker it costs two sorted-set lookups.
        "maintenance_chance": 250_000,
    }
DRAMATIQ_BROKER: dict[str, Any] = {
    "BROKER": (
        "dramatiq.brokers.rabbitmq.RabbitmqBroker" if BROKER_IS_RABBITMQ else "dramatiq.brokers.redis.RedisBroker"
    ),
    "OPTIONS": BROKER_OPTIONS,
    # After-hooks run bottom-up: the job log records a failure before Retries re-enqueues it, so
    # in the admin a job waiting for its retry shows "delayed" and a dead-lettered one "failed".
    "MIDDLEWARE": [
        # Jobs enqueued, run, failed, retried, dead-lettered (project/ops/metrics.py); a worker serves them.
        *(["project.ops.metrics.JobMetrics"] if METRICS_ENABLED else []),
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        # django_dramatiq's AdminMiddleware (the admin's job log), with an enqueue race fixed.
        "project.jobs.broker.JobLog",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        # With read replicas: a job reads from replicas that have replayed what enqueued it.
        "project.jobs.broker.ReadYourWritesForJobs",
        # Re-sends what the outbox kept while the broker was down, whenever a worker starts.
        "project.jobs.broker.RelayOutboxAtWorkerBoot",
        # Each worker process reports in to Redis, for `manage.py doctor` (docs/doctor.md).
        "project.jobs.broker.WorkerHeartbeat",
    ],
}
# Seconds between two heartbeats of a worker process, and after which a silent one no longer counts.
WORKER_HEARTBEAT_INTERVAL = env.float("WORKER_HEARTBEAT_INTERVAL", default=10.0)
WORKER_HEARTBEAT_TIMEOUT = env.float("WORKER_HEARTBEAT_TIMEOUT", default=60.0)
# Worker processes import every app's actors.py, and tasks.py: dramatiq_crontab.tasks holds the
# heartbeat actor the scheduler (`manage.py crontab`, which finds tasks.py itself) sends each minute.
DRAMATIQ_AUTODISCOVER_MODULES = ["actors", "tasks"]
# The scheduler (`manage.py crontab`) takes this Redis lock, so only one runs however many are started.
# With Sentinel, the same lock on the master (redis_sentinel.install_scheduler_lock, in project/apps.py).
DRAMATIQ_CRONTAB = {"REDIS_URL": REDIS_URL}
# Keep the admin's job log (django_dramatiq's Task rows) this long; a daily job deletes older ones.
JOB_LOG_MAX_AGE = env.int("JOB_LOG_MAX_AGE", default=7 * 24 * 60 * 60)

# Files the jobs write and read (default_storage: MEDIA_ROOT under VAR_DIR at stage 1).
PRODUCT_IMPORT_MAX_BYTES = env.int("PRODUCT_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)

# =============================================================================
# Authentication and passwords
# https://docs.djangoproject.com/en/5.2/topics/auth/customizing/
# =============================================================================
AUTH_USER_MODEL = "users.User"
LOGIN_URL = "pages:login"
LOGIN_REDIRECT_URL = "pages:catalog"
LOGOUT_REDIRECT_URL = "pages:landing"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The axes backend first: a locked-out account is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# API tokens (django-rest-knox, https://jazzband.github.io/django-rest-knox/settings/): one per
# sign-in (device), stored as a SHA-512 digest, sent as `Authorization: Token <key>`. A token used
# within API_TOKEN_TTL_DAYS stays valid (each use pushes its expiry forward), but never longer than
# API_TOKEN_MAX_AGE_DAYS after sign-in; an idle one expires. A user keeps at most
# API_TOKENS_PER_USER; a sign-in beyond it revokes that user's oldest token.
KNOX_TOKEN_MODEL = "users.ApiToken"  # noqa: S105 - a model name, not a secret
# Knox's own migrations only create its default token table, which users.ApiToken replaces; they
# would make it anyway (the swap is not in their state), an orphan that blocks TRUNCATE of users.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
API_TOKEN_MAX_AGE_DAYS = env.int("API_TOKEN_MAX_AGE_DAYS", default=365)
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=100)
if not 0 < API_TOKEN_TTL_DAYS <= API_TOKEN_MAX_AGE_DAYS or API_TOKENS_PER_USER < 1:
    raise ImproperlyConfigured(
        "API tokens need 0 < API_TOKEN_TTL_DAYS <= API_TOKEN_MAX_AGE_DAYS and API_TOKENS_PER_USER >= 1."
    )
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=API_TOKEN_MAX_AGE_DAYS),
    # At most one expiry write per token per hour, whatever the request rate.
    "MIN_REFRESH_INTERVAL": 60 * 60,
}
# Sessions live in the database at stage 1 and move to Redis with the cache; never process memory.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# =============================================================================
# Login lockouts and rate limits (docs/security.md)
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
# https://django-ratelimit.readthedocs.io/en/stable/settings.html
# =============================================================================
# Every way in (the login page, the admin login, POST /api/v1/auth/token/) goes through
# authenticate(request, ...), where axes counts failures per account, in the shared Redis cache,
# so a lockout holds on every app server. Per IP address, AUTH_THROTTLE_RATE limits the same
# entry points (DRF throttles on the API, django-ratelimit on pages).
# axes.handlers.cache.AxesCacheHandler, failing open when Redis is down (project/security/login_lockout.py).
AXES_HANDLER = "project.security.login_lockout.FailOpenAxesCacheHandler"
AXES_CACHE = "default"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# Per account, from any address: a password guesser spreading over many IPs is still stopped.
# Per IP is AUTH_THROTTLE_RATE's job, so one typo-prone office behind a NAT locks no one else
# out: axes' warning that "ip_address" is not a lockout parameter does not apply.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# authenticate()'s keyword, what login forms post; the callable folds the letter case, as login does.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "apps.users.limits.login_identity"
AXES_CLIENT_IP_CALLABLE = "project.security.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.users.limits.lockout_response"
# The cache handler keeps no database log for the admin to show.
AXES_ENABLE_ADMIN = False
AXES_DISABLE_ACCESS_LOG = True

# Per client IP on the auth entry points (pages and API alike), per target address on mail.
AUTH_THROTTLE_RATE = env.str("AUTH_THROTTLE_RATE", default="20/min")
# Password-reset and verification links sent to one address, whoever asks: stops mail bombing.
MAIL_TO_ADDRESS_RATE = env.str("MAIL_TO_ADDRESS_RATE", default="5/h")
RATELIMIT_USE_CACHE = "default"
# The client IP as DRF's throttles see it (NUM_PROXIES), for ratelimit and axes alike.
RATELIMIT_IP_META_KEY = "project.security.client_ip.client_ip"
RATELIMIT_VIEW = "apps.users.views.too_many_requests"
# Redis down: limits allow, as DRF's throttles do (DJANGO_REDIS_IGNORE_EXCEPTIONS above).
RATELIMIT_FAIL_OPEN = True

# =============================================================================
# REST framework and API schema
# https://www.django-rest-framework.org/api-guide/settings/
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
# =============================================================================
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.users.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    # JSON only: one representation per URL is what lets a public response be cached and shared.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Derives public operations, 401s, 429s and bad-cursor 404s from each view (apps/core/schema.py).
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth": AUTH_THROTTLE_RATE,
        # Sales reports and orders exports requested, per user (apps/reports/api.py).
        "report_requests": env.str("REPORT_REQUEST_THROTTLE_RATE", default="30/hour"),
    },
    # The number of proxies in front of the app that append to X-Forwarded-For: the client IP
    # of every limit (project/security/client_ip.py). 0: REMOTE_ADDR, and X-Forwarded-For is ignored.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "PAGE_SIZE": 20,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Headroom API",
    "DESCRIPTION": "Users, catalog and orders. Every error has the shape {error: {code, message, fields}}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN, so it works offline and under the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it is an image from validator.swagger.io, which would get the schema's URL.
    # Code in tomorrow-night: the default theme's numbers on its grey fail contrast (axe-core, 3.4:1).
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "validatorUrl": None,
        "syntaxHighlight": {"activated": True, "theme": "tomorrow-night"},
    },
    # Choice sets that share a field name ("status") are named by their apps (api_enum_names in apps.py).
    "ENUM_NAME_OVERRIDES": EnumNamesOfTheApps(),
}

# =============================================================================
# Email
# https://docs.djangoproject.com/en/5.2/topics/email/
# =============================================================================
# Every email is sent by a job (docs/jobs.md), never inside a request.
# Stage 1: files under var/mail, one per message. Production: EMAIL_URL=smtp+tls://user:pass@host:587
EMAIL_FILE_PATH = str(Path(VAR_DIR) / "mail")
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# An SMTP server that stops answering fails the job (which is retried), instead of hanging it.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Headroom <noreply@localhost>")
# Where links in emails point (password reset, order pages): the public address of the site.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# A password-reset link works for this many seconds, and only until the password changes.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
# An email-verification link works for this many seconds, and only until the address is verified.
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=3 * 24 * 60 * 60)
# true: an account orders only once its address is verified (a 403 email_unverified before).
# false (default) keeps API v1's sign-up, token, order flow working for existing clients.
EMAIL_VERIFICATION_REQUIRED_TO_ORDER = env.bool("EMAIL_VERIFICATION_REQUIRED_TO_ORDER", default=False)

# =============================================================================
# Static and media files
# https://docs.djangoproject.com/en/5.2/howto/static-files/  https://whitenoise.readthedocs.io/
# =============================================================================
# Stage 1: served by this app under /static/. CDN_URL=https://cdn.example.com: pages link the
# CDN, which fetches a file from this app (whitenoise serves /static/ either way) on a miss.
CDN_URL = env.str("CDN_URL", default="").rstrip("/")
if CDN_URL and not CDN_URL.startswith(("https://", "http://", "//")):
    raise ImproperlyConfigured(f"CDN_URL must be a URL such as https://cdn.example.com, not {CDN_URL!r}")
STATIC_URL = f"{CDN_URL}/static/" if CDN_URL else "static/"
STATIC_ROOT = Path(VAR_DIR) / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(VAR_DIR) / "media"
# Media (reports, exports, uploaded imports) go to default_storage. Stage 1: MEDIA_ROOT, which
# only this machine sees. With several app servers and workers, MEDIA_S3_BUCKET puts them in an
# S3-compatible bucket every process shares (AWS S3, MinIO, R2: docs/deploy.md#shared-storage).
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
MEDIA_S3_ENDPOINT_URL = env.str("MEDIA_S3_ENDPOINT_URL", default="")
if MEDIA_S3_BUCKET:
    _media_storage: dict[str, Any] = {
        # django-storages' S3Storage, reading files as a stream (project/web/storage.py).
        "BACKEND": "project.web.storage.StreamingS3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": MEDIA_S3_ENDPOINT_URL or None,
            "region_name": env.str("MEDIA_S3_REGION", default="") or None,
            # Unset: boto3 finds credentials itself (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a
            # profile, the instance or pod role), so production need not put keys in the env.
            "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
            # Other S3 services (MinIO, R2, moto) are addressed by path; AWS by virtual host.
            "addressing_style": "path" if MEDIA_S3_ENDPOINT_URL else None,
            # Signed URLs in SigV4, which every region and service takes (R2 refuses boto's SigV2).
            "signature_version": "s3v4",
            # A name in use gets a suffix, as on disk: a report written twice at once or a racing
            # duplicate upload never replaces or deletes the object another row points to.
            "file_overwrite": False,
            # Objects stay private (the bucket's default ACL). Reports are served by the download
            # view; a URL the code asks for is signed and expires, unless a custom domain is set
            # (django-storages signs those only with CloudFront keys): use one for public files only.
            "default_acl": None,
            "querystring_auth": env.bool("MEDIA_S3_QUERYSTRING_AUTH", default=True),
            "querystring_expire": env.int("MEDIA_S3_QUERYSTRING_EXPIRE", default=60 * 60),
            "custom_domain": env.str("MEDIA_S3_CUSTOM_DOMAIN", default="") or None,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Finished reports, exports and product imports are deleted, rows and files, after this many days
# (a daily job, project/tasks.py).
MEDIA_RETENTION_DAYS = env.int("MEDIA_RETENTION_DAYS", default=30)
if MEDIA_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"MEDIA_RETENTION_DAYS must be 1 or more, not {MEDIA_RETENTION_DAYS}")
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Hashed names (css/site.<hash>.css) are cached for a year, immutable (project/web/static_files.py).
# Other names keep whitenoise's default max-age, 60 s (0 with DEBUG): their content can change.
WHITENOISE_ADD_HEADERS_FUNCTION = static_files.cache_hashed_files_for_a_year
# Source maps are for a developer's browser tools, never sent compressed: compressing them (5 MB of the
# API docs' bundles) was most of collectstatic's time, which every deploy pays.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# =============================================================================
# Content-Security-Policy (django-csp)
# https://django-csp.readthedocs.io/en/latest/configuration.html
# =============================================================================
# Scripts, styles, images and fonts from this site (and the CDN when CDN_URL is set) only: no
# inline script or style anywhere, no plugin, no framing, forms post here only. The API docs add
# data: images for Swagger UI's icons on that view alone (project/urls.py).
_CSP_FETCH_DIRECTIVES = (
    "default-src",
    "script-src",
    "style-src",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "frame-src",
    "worker-src",
    "manifest-src",
)
_CSP_DIRECTIVES_EXTENDABLE = (*_CSP_FETCH_DIRECTIVES, "form-action", "report-uri")


def _csp_extra_sources(value: str) -> dict[str, list[str]]:
    """'img-src https://img.example.com; connect-src https://api.example.com', as in a CSP header."""
    extra: dict[str, list[str]] = {}
    for part in filter(None, (chunk.strip() for chunk in value.split(";"))):
        directive, *sources = part.split()
        if directive not in _CSP_DIRECTIVES_EXTENDABLE or not sources:
            raise ImproperlyConfigured(
                f"CSP_EXTRA_SOURCES: {part!r} is not '<directive> <source> ...' with a directive among "
                f"{', '.join(_CSP_DIRECTIVES_EXTENDABLE)}"
            )
        if "'unsafe-inline'" in sources or "'unsafe-eval'" in sources:
            raise ImproperlyConfigured(f"CSP_EXTRA_SOURCES: {part!r} would undo the policy; use a static file instead")
        extra.setdefault(directive, []).extend(sources)
    return extra


CSP_EXTRA_SOURCES = _csp_extra_sources(env.str("CSP_EXTRA_SOURCES", default=""))
# The CDN's origin: a CSP source is a host (and scheme), never a path prefix.
_cdn = urlsplit(CDN_URL)
_cdn_sources = [f"{_cdn.scheme}://{_cdn.netloc}" if _cdn.scheme else _cdn.netloc] if CDN_URL else []
_csp_directives: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'", *_cdn_sources],
    "style-src": ["'self'", *_cdn_sources],
    "img-src": ["'self'", *_cdn_sources],
    "font-src": ["'self'", *_cdn_sources],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
for _directive, _sources in CSP_EXTRA_SOURCES.items():
    _csp_directives[_directive] = [*_csp_directives.get(_directive, ["'self'"]), *_sources]
CONTENT_SECURITY_POLICY = {"DIRECTIVES": _csp_directives}

# =============================================================================
# Internationalisation
# https://docs.djangoproject.com/en/5.2/topics/i18n/
# =============================================================================
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# =============================================================================
# Logging
# https://docs.djangoproject.com/en/5.2/topics/logging/
# =============================================================================
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A password-reset link in "Not Found: /..." is logged redacted (runserver's request lines are not).
    "filters": {"redact_urls": {"()": "project.security.log_redaction.RedactUrls"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The scheduler renews its lock every few seconds and would log each run at INFO.
        "apscheduler": {"level": "WARNING"},
        # Axes logs every successful login at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
        "django.request": {"filters": ["redact_urls"]},
    },
}

# =============================================================================
# The scaling doctor: `manage.py doctor`, /ops/doctor.json (docs/doctor.md)
# =============================================================================
# Prometheus's base URL (http://prometheus:9090): the kit's own signals (cache hit ratios, p95 and
# 5xx per route, CPU, app servers) come from its HTTP API. Unset: those findings are "unknown".
PROMETHEUS_URL = env.str("PROMETHEUS_URL", default="").rstrip("/")
# Statistics are compared with a snapshot kept in Redis; it is replaced once older than this.
DOCTOR_WINDOW_SECONDS = env.int("DOCTOR_WINDOW_SECONDS", default=24 * 60 * 60)
# The thresholds. Where the seed (docs/doctor.md, "Sources") gives one, it is the default.
# Read replicas "when 70%+ of your queries are reads"; judged over at least this many statements (rows without pg_stat_statements).
DOCTOR_REPLICAS_READ_SHARE = env.float("DOCTOR_REPLICAS_READ_SHARE", default=0.70)
DOCTOR_READ_SHARE_MIN_SAMPLE = env.int("DOCTOR_READ_SHARE_MIN_SAMPLE", default=1000)
# Auto-scaling: "scale up when CPU > 70%, scale down when CPU < 30%".
DOCTOR_CPU_SCALE_OUT = env.float("DOCTOR_CPU_SCALE_OUT", default=0.70)
DOCTOR_CPU_SCALE_IN = env.float("DOCTOR_CPU_SCALE_IN", default=0.30)
# Sharding "when the database size > 1TB".
DOCTOR_SHARDING_DATABASE_BYTES = env.int("DOCTOR_SHARDING_DATABASE_BYTES", default=1024**4)
# PostgreSQL's buffer cache hit ratio below this: the working set no longer fits in memory.
DOCTOR_BUFFER_CACHE_HIT_RATIO = env.float("DOCTOR_BUFFER_CACHE_HIT_RATIO", default=0.99)
# Connections in use against max_connections.
DOCTOR_CONNECTIONS_SHARE = env.float("DOCTOR_CONNECTIONS_SHARE", default=0.80)
# A table this large read by sequential scan this many times in the window wants an index.
DOCTOR_SEQ_SCAN_MIN_ROWS = env.int("DOCTOR_SEQ_SCAN_MIN_ROWS", default=100_000)
DOCTOR_SEQ_SCAN_MIN_SCANS = env.int("DOCTOR_SEQ_SCAN_MIN_SCANS", default=10)
# Redis and the caches: hit ratios below these; Redis memory above this share of maxmemory.
DOCTOR_REDIS_HIT_RATIO = env.float("DOCTOR_REDIS_HIT_RATIO", default=0.80)
DOCTOR_CACHE_HIT_RATIO = env.float("DOCTOR_CACHE_HIT_RATIO", default=0.50)
DOCTOR_REDIS_MEMORY_SHARE = env.float("DOCTOR_REDIS_MEMORY_SHARE", default=0.90)
# A job waiting longer than these (seconds) is amber, then red.
DOCTOR_QUEUE_AGE_AMBER = env.int("DOCTOR_QUEUE_AGE_AMBER", default=60)
DOCTOR_QUEUE_AGE_RED = env.int("DOCTOR_QUEUE_AGE_RED", default=10 * 60)
# Per route: p95 latency (milliseconds) and share of 5xx answers above these.
DOCTOR_P95_MS = env.int("DOCTOR_P95_MS", default=500)
DOCTOR_5XX_SHARE = env.float("DOCTOR_5XX_SHARE", default=0.01)
