"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py project.wsgi`.

https://docs.gunicorn.org/en/stable/settings.html
"""

import multiprocessing
import os
import re
import shutil
import tempfile
from pathlib import Path

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
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# One JSON object per line (project/web/gunicorn_logging.py): every value is escaped by json.dumps,
# which a format string (access_log_format) cannot guarantee for URLs and user agents.
logger_class = "project.web.gunicorn_logging.JsonAccessLogger"
pidfile = os.environ.get("GUNICORN_PIDFILE") or None


def control_socket_path(*, bind_address: str) -> str:
    """gunicorn 25+ opens a control socket (for `gunicornc`) at one fixed path per user,
    ~/.gunicorn/gunicorn.ctl: a second gunicorn on the host (scripts/cluster runs several, and a
    deploy runs the new one beside the old) would take over the first one's socket. So the path
    is named after the address this instance binds, which no two running instances share."""
    var_dir = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    path = var_dir / "run" / f"gunicorn-{re.sub(r'[^A-Za-z0-9]+', '-', bind_address).strip('-')}.ctl"
    # A unix socket path is limited to 107 bytes: a deep checkout puts the socket in /tmp instead.
    if len(str(path)) > 100:
        path = Path(tempfile.gettempdir()) / path.name
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


# GUNICORN_CONTROL_SOCKET=/path sets the path; =off turns the socket off (nothing in the kit
# needs it: scripts/deploy signals the master, whose pid is in GUNICORN_PIDFILE).
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _control_socket == "off":
    control_socket_disable = True
elif _control_socket:
    control_socket = _control_socket


def on_starting(server) -> None:  # server: gunicorn's Arbiter
    # Each response leaves in one write, header and body, so an app server killed mid-response
    # never hands nginx a header it cannot retry (project/web/gunicorn_response.py). In the master,
    # before any worker forks; imported here because the checkout is on sys.path by now.
    from project.web.gunicorn_response import install

    install()
    # Here rather than at import: `-b` on the command line overrides `bind` after this file is
    # read, and the socket must follow the address actually bound. A path given on the command
    # line (--control-socket) or in the environment is left alone.
    if server.cfg.control_socket == server.cfg.settings["control_socket"].default:
        server.cfg.set("control_socket", control_socket_path(bind_address=server.cfg.bind[0]))
    # Every worker counts into these files and /metrics sums them (prometheus-client's multiprocess
    # mode); emptied at start, so counts of a previous run are never served. Set before any worker forks.
    directory = metrics_directory(bind_address=server.cfg.bind[0])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def metrics_directory(*, bind_address: str) -> Path:
    """PROMETHEUS_MULTIPROC_DIR when set, else one directory per bound address under METRICS_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    var_dir = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    base = Path(os.environ.get("METRICS_DIR") or var_dir / "metrics")
    return base / f"web-{re.sub(r'[^A-Za-z0-9]+', '-', bind_address).strip('-')}"


def child_exit(server, worker) -> None:  # in the master, after a worker exited
    # Its live gauges (the breaker's state) stop counting; its counters stay in the sums.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
