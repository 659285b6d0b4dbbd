"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py project.wsgi`.

https://docs.gunicorn.org/en/stable/settings.html
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
# Above the load balancer's idle timeout (60 s on ALB and nginx), or it sees closed sockets as
# 502s. Only the gthread and async workers keep connections open; the sync worker closes each one.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 75))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
# Recycle workers now and then so a slow leak never takes a server down; jitter avoids a herd.
# Measured: at 2,000 a busy worker restarted every few seconds and each restart cost a Django boot.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 2000))
accesslog = "-"
