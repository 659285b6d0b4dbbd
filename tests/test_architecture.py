"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and have teeth."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS_WITH_JOBS = ["core", "users", "products", "orders", "reports"]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_hold():
    result = _lint_imports(Path(settings.BASE_DIR))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_service_that_imports_its_actors_breaks_the_contracts(tmp_path):
    for part in ("apps", "project", "pyproject.toml"):
        source = Path(settings.BASE_DIR) / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / part)
    services = tmp_path / "apps" / "users" / "services.py"
    services.write_text(services.read_text() + "\n\ndef _enqueue():\n    from apps.users import actors  # noqa: F401\n")

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 2 kept, 2 broken." in result.stdout
    assert "apps.users.services is not allowed to import apps.users.actors" in result.stdout
    assert "No cycles are allowed in apps.users." in result.stdout


@pytest.mark.parametrize("first, second", [("actors", "services"), ("services", "actors")])
def test_actors_and_services_import_in_either_order_in_a_fresh_process(first, second):
    """A worker imports actors.py first, the web process services.py: from-imports work either way,
    and every actor is declared on the broker, for services to enqueue by name."""
    code = (
        "import dramatiq, django; django.setup()\n"
        + "".join(f"from apps.{app}.{first} import *\nfrom apps.{app}.{second} import *\n" for app in APPS_WITH_JOBS)
        + "print(sorted(dramatiq.get_broker().get_declared_actors()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.test_settings"},
    )
    assert result.returncode == 0, result.stderr
    assert "'send_welcome_email'" in result.stdout and "'generate_report'" in result.stdout, result.stdout
