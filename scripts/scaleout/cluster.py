"""Several gunicorn app servers behind nginx on loopback: start, stop, status, deploy.

`scripts/cluster` and `scripts/deploy` run this module; docs/deploy.md says how and why.

nginx's configuration is config/nginx/headroom.conf itself, with only what differs on one
machine replaced (the upstream's servers, the listen address, the cache directory): the
configuration that the scale-out tests prove is the one the kit ships.

Everything a cluster writes lives in one state directory (CLUSTER_DIR, default var/cluster):
`cluster.json` (nginx's port, the instances in the upstream), one log and pid file per gunicorn,
and nginx's prefix (`nginx/`: configuration, pid, logs, temp files, cache). So it runs as root
and as a normal user alike, and two clusters with different CLUSTER_DIR and CLUSTER_PORT never
share a file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "config" / "nginx" / "headroom.conf"
TEMPLATE_CACHE_PATH = "/var/cache/nginx/headroom"
# The upstream's server lines in the template: their parameters (max_fails, fail_timeout) are
# kept, their addresses replaced by this cluster's instances.
TEMPLATE_SERVER_LINE = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+ (max_fails=.*);\n", re.MULTILINE)

READY_TIMEOUT_SECONDS = float(os.environ.get("CLUSTER_READY_TIMEOUT", 90))
# gunicorn's graceful_timeout (30 s) plus a margin: how long a TERM may take before KILL.
STOP_TIMEOUT_SECONDS = float(os.environ.get("CLUSTER_STOP_TIMEOUT", 35))
# nginx's old workers finish the requests they hold before they exit; bounded by
# worker_shutdown_timeout in the main configuration.
NGINX_RELOAD_TIMEOUT_SECONDS = 45.0


class ClusterError(Exception):
    """A step failed; the message says which and where its log is."""


@dataclass
class Instance:
    port: int
    pid: int
    code: str  # the checkout this gunicorn runs (a deploy replaces it with another)


@dataclass
class Cluster:
    directory: Path
    port: int
    # Every instance, whatever checkout it runs, shares one VAR_DIR: at stage 1 that holds the
    # SQLite file, the embedded Redis, media and static files. Kept here so that a deploy run
    # from another checkout still uses the cluster's.
    var_dir: str
    instances: list[Instance] = field(default_factory=list)

    @property
    def state_file(self) -> Path:
        return self.directory / "cluster.json"

    @property
    def nginx_prefix(self) -> Path:
        return self.directory / "nginx"

    def save(self) -> None:
        state = {
            "port": self.port,
            "var_dir": self.var_dir,
            "instances": [asdict(instance) for instance in self.instances],
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)  # atomic: `status` never reads half a file
        # Each gunicorn, for Prometheus's file_sd_configs (config/prometheus/loopback.yml).
        targets = [{"targets": [f"127.0.0.1:{instance.port}" for instance in self.instances]}]
        tmp = self.prometheus_targets_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(targets, indent=2) + "\n")
        tmp.replace(self.prometheus_targets_file)  # Prometheus re-reads it; never half a file

    @property
    def prometheus_targets_file(self) -> Path:
        return self.directory / "prometheus-targets.json"

    @classmethod
    def load(cls, directory: Path) -> Cluster | None:
        state_file = directory / "cluster.json"
        if not state_file.exists():
            return None
        state = json.loads(state_file.read_text())
        return cls(
            directory=directory,
            port=state["port"],
            var_dir=state["var_dir"],
            instances=[Instance(**i) for i in state["instances"]],
        )


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# --- processes -----------------------------------------------------------------------------


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not serving anything.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def wait_for_exit(pid: int, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.1)
    return not is_alive(pid)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_status(port: int, path: str, *, timeout: float = 3.0) -> int | None:
    """The status of one GET on loopback, or None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def venv_bin(code: Path, name: str) -> str:
    """The checkout's own virtualenv when it has one (new code may lock new dependencies)."""
    own = code / ".venv" / "bin" / name
    return str(own) if own.exists() else str(Path(sys.executable).with_name(name))


def default_var_dir() -> str:
    return os.environ.get("VAR_DIR") or str(REPO / "var")


def manage(code: Path, *args: str, var_dir: str) -> None:
    result = subprocess.run(
        [venv_bin(code, "python"), "manage.py", *args],
        cwd=code,
        env={**os.environ, "VAR_DIR": var_dir},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ClusterError(f"manage.py {' '.join(args)} failed in {code}:\n{result.stdout}{result.stderr}")


def gunicorn_log(cluster: Cluster, port: int) -> Path:
    return cluster.directory / f"gunicorn-{port}.log"


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_instance(cluster: Cluster, *, code: Path) -> Instance:
    """One gunicorn on a free loopback port, in a session of its own (its master and workers form
    one process group), with config/gunicorn.conf.py of the checkout it runs."""
    port = free_port()
    env = {
        **os.environ,
        "VAR_DIR": cluster.var_dir,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_PIDFILE": str(cluster.directory / f"gunicorn-{port}.pid"),
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
    }
    with open(gunicorn_log(cluster, port), "ab") as log:
        process = subprocess.Popen(
            [venv_bin(code, "gunicorn"), "-c", "config/gunicorn.conf.py", "project.wsgi"],
            cwd=code,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Instance(port=port, pid=process.pid, code=str(code))


def wait_until_ready(cluster: Cluster, instance: Instance) -> None:
    """The readiness gate: no traffic until the instance's own /readyz answers 200."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not is_alive(instance.pid):
            raise ClusterError(
                f"gunicorn on :{instance.port} exited before it was ready:\n{log_tail(gunicorn_log(cluster, instance.port))}"
            )
        if http_status(instance.port, "/readyz") == 200:
            return
        time.sleep(0.2)
    raise ClusterError(
        f"gunicorn on :{instance.port} did not answer /readyz 200 within {READY_TIMEOUT_SECONDS:.0f} s:\n"
        f"{log_tail(gunicorn_log(cluster, instance.port))}"
    )


def stop_instance(instance: Instance) -> None:
    """TERM: gunicorn closes its socket, its workers finish the requests they hold (within
    graceful_timeout) and exit. KILL only for what is left after that."""
    if not is_alive(instance.pid):
        return
    os.kill(instance.pid, signal.SIGTERM)
    if not wait_for_exit(instance.pid, timeout=STOP_TIMEOUT_SECONDS):
        os.killpg(instance.pid, signal.SIGKILL)
        wait_for_exit(instance.pid, timeout=5)


# --- nginx ---------------------------------------------------------------------------------


def nginx_binary() -> str:
    found = os.environ.get("NGINX_BINARY") or shutil.which(
        "nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"
    )
    if not found:
        raise ClusterError("nginx is not installed (scripts/cluster installs it with apt-get when run as root)")
    return found


def render_site(template: str, *, listen_port: int, upstream_ports: list[int], cache_dir: Path) -> str:
    """config/nginx/headroom.conf with this cluster's upstream servers, address and cache."""
    servers = TEMPLATE_SERVER_LINE.findall(template)
    listens = template.count("listen 80;")
    if not servers or listens != 1 or TEMPLATE_CACHE_PATH not in template:
        raise ClusterError(
            f"{TEMPLATE} changed shape (upstream servers, `listen 80;`, its cache path); update {__file__}"
        )
    indent, parameters = servers[0]
    lines = "".join(f"{indent}server 127.0.0.1:{port} {parameters};\n" for port in upstream_ports)
    first = TEMPLATE_SERVER_LINE.search(template)
    assert first is not None
    site = template[: first.start()] + lines + TEMPLATE_SERVER_LINE.sub("", template[first.start() :])
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    return site.replace(TEMPLATE_CACHE_PATH, str(cache_dir))


def render_main(prefix: Path) -> str:
    # Which user nginx's workers run as: as root, that user must write the temp and cache
    # directories it creates, so keep root's; otherwise nginx cannot change user anyway.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
# Old workers finish their requests after a reload; this bounds how long that may take.
worker_shutdown_timeout 40s;
events {{ worker_connections 1024; }}
http {{
    # Which app server answered, and what it said, for every try (failover shows as two).
    log_format upstreams '$remote_addr [$time_iso8601] "$request" $status '
                         'upstream=$upstream_addr upstream_status=$upstream_status '
                         'cache=$upstream_cache_status time=$request_time';
    access_log {prefix}/logs/access.log upstreams;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {prefix}/headroom.conf;
}}
"""


def write_nginx_config(cluster: Cluster) -> None:
    prefix = cluster.nginx_prefix
    for sub in ("logs", "temp", "cache"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    site = render_site(
        TEMPLATE.read_text(),
        listen_port=cluster.port,
        upstream_ports=[instance.port for instance in cluster.instances],
        cache_dir=prefix / "cache",
    )
    (prefix / "headroom.conf").write_text(site)
    (prefix / "nginx.conf").write_text(render_main(prefix))
    nginx("-t", "-q", prefix=prefix)


def nginx(*args: str, prefix: Path) -> None:
    # Output to a file, not a pipe: the daemon that `nginx` starts keeps its parent's stdout,
    # and a pipe would stay open (and this call would wait) for as long as nginx runs.
    with tempfile.TemporaryFile(mode="w+") as output:
        result = subprocess.run(
            [
                nginx_binary(),
                "-p",
                str(prefix),
                "-c",
                str(prefix / "nginx.conf"),
                "-e",
                str(prefix / "logs" / "error.log"),
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output.seek(0)
        if result.returncode != 0:
            raise ClusterError(
                f"nginx {' '.join(args)} failed:\n{output.read()}{log_tail(prefix / 'logs' / 'error.log', 10)}"
            )


def nginx_pid(cluster: Cluster) -> int | None:
    try:
        pid = int((cluster.nginx_prefix / "nginx.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if is_alive(pid) else None


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def reload_nginx(cluster: Cluster) -> None:
    """Point nginx at the instances now in `cluster` and wait until no worker still uses the old
    list: nginx starts new workers with the new configuration, and the old ones finish the
    requests they hold (to the old app servers, which are still up) before they exit."""
    master = nginx_pid(cluster)
    if master is None:
        raise ClusterError("nginx is not running")
    old_workers = set(children(master))
    write_nginx_config(cluster)
    nginx("-s", "reload", prefix=cluster.nginx_prefix)
    deadline = time.monotonic() + NGINX_RELOAD_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        current = set(children(master))
        # Reloaded once a worker that was not there before runs and every old one has gone.
        if current - old_workers and not (current & old_workers):
            return
        time.sleep(0.1)
    raise ClusterError(f"nginx's old workers still run {NGINX_RELOAD_TIMEOUT_SECONDS:.0f} s after the reload")


# --- commands ------------------------------------------------------------------------------


def cluster_directory() -> Path:
    return Path(os.environ.get("CLUSTER_DIR") or REPO / "var" / "cluster").resolve()


def prepare(code: Path, *, var_dir: str) -> None:
    """What every release does once before its app servers start: the schema first (migrations
    are backward compatible, docs/deploy.md, so the old code keeps serving), then static files."""
    say(f"migrating and collecting static files ({code})")
    manage(code, "migrate", "--no-input", "-v", "0", var_dir=var_dir)
    manage(code, "collectstatic", "--no-input", "-v", "0", var_dir=var_dir)


def start(*, instances: int, port: int, code: Path, skip_prepare: bool) -> Cluster:
    if instances < 1:
        raise ClusterError("--instances must be 1 or more")
    directory = cluster_directory()
    existing = Cluster.load(directory)
    if existing and (nginx_pid(existing) or any(is_alive(i.pid) for i in existing.instances)):
        raise ClusterError(f"a cluster already runs from {directory}: scripts/cluster stop first")
    directory.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(directory=directory, port=port, var_dir=default_var_dir())
    if not skip_prepare:
        prepare(code, var_dir=cluster.var_dir)
    say(f"starting {instances} gunicorn instances ({code})")
    cluster.instances = [start_instance(cluster, code=code) for _ in range(instances)]
    cluster.save()  # before waiting: `stop` must find them even if one never gets ready
    for instance in cluster.instances:
        wait_until_ready(cluster, instance)
        say(f"gunicorn on 127.0.0.1:{instance.port} (pid {instance.pid}) is ready")
    write_nginx_config(cluster)
    nginx(prefix=cluster.nginx_prefix)
    say(f"nginx on http://127.0.0.1:{port}/ (pid {nginx_pid(cluster)}), logs in {directory}")
    return cluster


def stop() -> None:
    cluster = Cluster.load(cluster_directory())
    if cluster is None:
        say("no cluster state here: nothing to stop")
        return
    if nginx_pid(cluster):
        # quit: nginx finishes the requests it holds, then exits.
        master = nginx_pid(cluster)
        nginx("-s", "quit", prefix=cluster.nginx_prefix)
        if master:
            wait_for_exit(master, timeout=NGINX_RELOAD_TIMEOUT_SECONDS)
    for instance in cluster.instances:
        stop_instance(instance)
    cluster.state_file.unlink()
    cluster.prometheus_targets_file.unlink(missing_ok=True)
    say("cluster stopped")


def status() -> bool:
    """Prints each process and its readiness; True when nginx and every instance are up and ready."""
    cluster = Cluster.load(cluster_directory())
    if cluster is None:
        print("no cluster running")
        return False
    healthy = True
    master = nginx_pid(cluster)
    print(f"nginx      127.0.0.1:{cluster.port}  pid {master or '-'}  {'up' if master else 'DOWN'}")
    healthy &= master is not None
    for instance in cluster.instances:
        alive = is_alive(instance.pid)
        ready = http_status(instance.port, "/readyz") if alive else None
        state = "ready" if ready == 200 else ("DOWN" if not alive else f"NOT READY ({ready})")
        print(f"gunicorn   127.0.0.1:{instance.port}  pid {instance.pid}  {state}  {instance.code}")
        healthy &= ready == 200
    return healthy


def deploy(*, code: Path, skip_prepare: bool) -> None:
    """Replace every instance, one at a time, by one running `code`; see docs/deploy.md."""
    cluster = Cluster.load(cluster_directory())
    if cluster is None or nginx_pid(cluster) is None:
        raise ClusterError("no cluster is running: scripts/cluster start first")
    if not skip_prepare:
        prepare(code, var_dir=cluster.var_dir)
    for index, old in enumerate(list(cluster.instances)):
        new = start_instance(cluster, code=code)
        try:
            wait_until_ready(cluster, new)
        except ClusterError:
            # The new code never gets traffic; the old instances keep serving.
            os.killpg(new.pid, signal.SIGKILL)
            raise
        cluster.instances[index] = new
        cluster.save()
        reload_nginx(cluster)
        stop_instance(old)
        say(f"127.0.0.1:{old.port} (pid {old.pid}) replaced by 127.0.0.1:{new.port} (pid {new.pid})")
    say(f"deployed {code} on {len(cluster.instances)} instances")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cluster", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start", help="gunicorn instances on loopback behind nginx")
    start_parser.add_argument("--instances", type=int, default=2)
    start_parser.add_argument(
        "--port", type=int, default=int(os.environ.get("CLUSTER_PORT", 8080)), help="nginx's port"
    )
    start_parser.add_argument("--code", type=Path, default=REPO, help="the checkout to run")
    start_parser.add_argument("--skip-prepare", action="store_true", help="no migrate and collectstatic first")
    commands.add_parser("stop", help="nginx, then every gunicorn, gracefully")
    commands.add_parser("status", help="exit status 0 when nginx and every instance are up and ready")
    deploy_parser = commands.add_parser("deploy", help="replace the instances, one by one, by new code")
    deploy_parser.add_argument("code", type=Path, nargs="?", default=REPO, help="the new release's checkout")
    deploy_parser.add_argument("--skip-prepare", action="store_true", help="no migrate and collectstatic first")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            start(instances=args.instances, port=args.port, code=args.code.resolve(), skip_prepare=args.skip_prepare)
        elif args.command == "stop":
            stop()
        elif args.command == "status":
            return 0 if status() else 1
        elif args.command == "deploy":
            deploy(code=args.code.resolve(), skip_prepare=args.skip_prepare)
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
