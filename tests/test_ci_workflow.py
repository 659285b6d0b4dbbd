"""The GitHub Actions template (.github/workflows/ci.yml) is a valid workflow and runs .ci/run on
the services .ci/run expects. Validated offline against the workflow schema that check-jsonschema
vendors (no download)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

WORKFLOW = Path(settings.BASE_DIR) / ".github" / "workflows" / "ci.yml"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps() -> list[dict]:
    return [step for job in _workflow()["jobs"].values() for step in job.get("steps", [])]


def test_the_workflow_is_valid_against_githubs_workflow_schema():
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_ci_run_itself_after_checkout_and_python_3_11():
    steps = _steps()
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    runs = [index for index, step in enumerate(steps) if ".ci/run" in step.get("run", "")]

    assert runs, "no step runs .ci/run"
    assert uses.index("actions/checkout") < runs[0] and uses.index("actions/setup-python") < runs[0]
    assert str(steps[uses.index("actions/setup-python")]["with"]["python-version"]) == "3.11"


def test_the_service_containers_listen_where_ci_run_connects():
    ci_run = (Path(settings.BASE_DIR) / ".ci" / "run").read_text()
    (job,) = _workflow()["jobs"].values()
    services = job["services"]

    assert "postgres://postgres@127.0.0.1:5432/" in ci_run and "5432:5432" in services["postgres"]["ports"]
    assert services["postgres"]["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert "redis://127.0.0.1:6379/" in ci_run and "6379:6379" in services["redis"]["ports"]
    assert "amqp://guest:guest@127.0.0.1:5672/" in ci_run and "5672:5672" in services["rabbitmq"]["ports"]
