"""`manage.py check --deploy` with production variables: Django's deployment checklist, clean."""

import os
import subprocess
import sys
import time

from django.conf import settings

# A port nothing listens on: check --deploy must neither connect to Redis nor wait for it.
DEAD_REDIS_URL = "redis://127.0.0.1:6399/0"


def _check_deploy(tmp_path) -> tuple[subprocess.CompletedProcess, float]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "ENVIRONMENT": "production",
        "SECRET_KEY": "k3y-" + "q7Zp2Lx9" * 6,
        "ALLOWED_HOSTS": "headroom.example.com",
        "DEBUG": "false",
        "REDIS_URL": DEAD_REDIS_URL,
        "VAR_DIR": str(tmp_path),
    }
    # An empty SQLite file under tmp_path: the checklist is about settings, and the demo-password
    # check (tests/users/test_demo_passwords.py) would warn about a database it cannot reach.
    for name in ("BROKER_URL", "DATABASE_URL", "DATABASE_REPLICA_URLS"):
        env.pop(name, None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, time.monotonic() - started


def test_check_deploy_in_production_has_no_security_warning_and_needs_no_redis(tmp_path):
    result, seconds = _check_deploy(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "security." not in output, output
    assert "redis" not in output.lower(), output
    # A connection attempt to the dead port would show as socket timeouts, not a quick pass.
    assert seconds < 30, output


def test_check_deploy_in_production_reports_no_issues(tmp_path):
    result, _ = _check_deploy(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
