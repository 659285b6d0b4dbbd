"""The app template cannot rot: `manage.py new_app` (scripts/new-app) makes an app, in a copy of the
repository, that is wired in, has the migration of its model, passes ruff and its own tests unedited,
and leaves the kit's tests that list every endpoint and cached URL passing."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from project.management.commands.new_app import _singular_class_name

BASE_DIR = Path(settings.BASE_DIR)
# Two words: the URL (garden-tools/), model label (garden_tools.gardentool) and class names each differ.
APP = "garden_tools"
COPIED = ["apps", "project", "tests", "templates", "static", "manage.py", "pyproject.toml"]
# The kit's own tests that a new app's wiring touches: the frozen API, the schema's public reads,
# the discovered caching declarations.
WIRING_TESTS = [
    "tests/core/test_api_urls.py",
    "tests/core/test_schema_api.py",
    "tests/project/caching/test_caching_declarations.py",
]


def _environment() -> dict[str, str]:
    """This run's environment without what makes it this run (its cache prefix, queues, coverage,
    xdist worker), and with a database of the copy's own on PostgreSQL."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "HEADROOM_TEST_", "COV_CORE_", "COVERAGE_"))
        and name not in {"CACHE_VERSION", "DJANGO_SETTINGS_MODULE", "BROKER_URL", "VAR_DIR"}
    }
    database_url = env.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        parts = urlsplit(database_url)
        env["DATABASE_URL"] = parts._replace(path=f"{parts.path}_app_template").geturl()
    return env


def _run(copy: Path, *command: str) -> str:
    result = subprocess.run(
        [sys.executable, *command], cwd=copy, env=_environment(), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def repository_copy(tmp_path) -> Path:
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "var", "node_modules")
    for name in COPIED:
        source = BASE_DIR / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=ignored)
        else:
            shutil.copy2(source, tmp_path / name)
    return tmp_path


def test_a_new_app_is_wired_in_and_passes_its_own_tests_unedited(repository_copy):
    ruff = str(Path(sys.executable).with_name("ruff"))

    # In this process (the command reads settings.BASE_DIR), so that coverage counts it.
    with override_settings(BASE_DIR=repository_copy):
        call_command("new_app", APP, stdout=io.StringIO())

    assert f'"apps.{APP}",' in (repository_copy / "project" / "settings.py").read_text()
    assert (repository_copy / "apps" / APP / "migrations" / "0001_initial.py").exists()
    _run(repository_copy, "manage.py", "makemigrations", "--check", "--dry-run")
    for check in (["check"], ["format", "--check"]):
        ruff_run = subprocess.run(
            [ruff, *check, f"apps/{APP}", f"tests/{APP}"], cwd=repository_copy, capture_output=True
        )
        assert ruff_run.returncode == 0, ruff_run.stdout
    contracts = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=repository_copy,
        env={name: value for name, value in _environment().items() if name != "PYTHONPATH"},
        capture_output=True,
        text=True,
    )
    assert contracts.returncode == 0, contracts.stdout
    assert f'layers = ["apps.seeding", "apps.{APP}", ' in (repository_copy / "pyproject.toml").read_text()
    tests = _run(repository_copy, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"tests/{APP}", *WIRING_TESTS)
    assert " passed" in tests, tests


@pytest.mark.parametrize(
    ("app", "model"),
    [("widgets", "Widget"), ("garden_tools", "GardenTool"), ("categories", "Category"), ("glass", "Glass")],
)
def test_the_model_is_named_after_the_app_in_the_singular(app, model):
    assert _singular_class_name(app) == model


@pytest.mark.parametrize(
    ("name", "reason"), [("users", "label of an installed app"), ("json", "existing Python module")]
)
def test_a_name_taken_already_is_refused_before_anything_is_written(name, reason):
    with pytest.raises(CommandError, match=reason):
        call_command("new_app", name)
