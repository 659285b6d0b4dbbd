"""The Dockerfile passes hadolint, and builds one non-root image for every role."""

import re
import subprocess
from pathlib import Path

from django.conf import settings

DOCKERFILE = Path(settings.BASE_DIR) / "Dockerfile"


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run(
        [str(Path(settings.BASE_DIR) / "scripts" / "docker-lint")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout


def test_the_image_is_multi_stage_slim_collects_static_and_runs_gunicorn_as_a_non_root_user():
    dockerfile = DOCKERFILE.read_text()

    assert len(re.findall(r"^FROM python:[\d.]+-slim", dockerfile, re.MULTILINE)) == 2
    assert "collectstatic --no-input" in dockerfile
    assert re.search(r"^USER [1-9]\d*:[1-9]\d*$", dockerfile, re.MULTILINE)
    assert dockerfile.rstrip().endswith('CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "project.wsgi"]')
