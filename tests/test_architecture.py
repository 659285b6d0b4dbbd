"""The import contracts in pyproject.toml ([tool.importlinter]) hold."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
