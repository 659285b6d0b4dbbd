"""The example nginx config (config/nginx/headroom.conf) passes `nginx -t`."""

import os
import shutil
import subprocess

import pytest
from django.conf import settings


def _nginx() -> str | None:
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


@pytest.mark.skipif(_nginx() is None, reason="nginx is not installed: ./scripts/nginx-check installs it")
def test_the_example_nginx_config_passes_nginx_t():
    result = subprocess.run(
        [str(settings.BASE_DIR / "scripts" / "nginx-check")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test successful" in result.stdout
