"""scripts/run serves on the PORT of the environment, else of .env, else 8000."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _port(env_file: Path, **environment: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "PORT"} | environment
    result = subprocess.run(
        ["bash", "-c", f'source scripts/_install.sh && dotenv_value "{env_file}" PORT 8000'],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_port_comes_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nPORT=8123\n")

    assert _port(env_file) == "8123"


def test_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=8123\n")

    assert _port(env_file, PORT="9000") == "9000"


def test_without_either_the_port_is_8000(tmp_path):
    assert _port(tmp_path / "missing.env") == "8000"


def test_scripts_run_serves_on_that_port():
    text = (ROOT / "scripts/run").read_text()

    assert "PORT=$(dotenv_value .env PORT 8000)" in text
    assert 'runserver "127.0.0.1:${PORT}"' in text
