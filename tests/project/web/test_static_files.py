"""Static files as production serves them: collectstatic with the manifest storage, then whitenoise.

The rest of the suite uses plain StaticFilesStorage (project/test_settings.py); this module
collects into a temporary STATIC_ROOT once and serves it through the real middleware stack.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import override_settings

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    """STATIC_ROOT after `collectstatic` with the production storage, as the Dockerfile runs it."""
    root = tmp_path_factory.mktemp("var") / "staticfiles"
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def _hashed_name(static_root: Path, name: str) -> str:
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    return manifest["paths"][name]


def _body(response) -> bytes:
    body = b"".join(response.streaming_content)
    response.close()
    return body


def test_collectstatic_writes_site_css_under_a_content_hash(static_root):
    hashed = _hashed_name(static_root, "css/site.css")
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", hashed)
    assert (static_root / hashed).read_bytes() == (Path(settings.BASE_DIR) / "static/css/site.css").read_bytes()


def test_pages_link_the_hashed_name(static_root):
    assert static("css/site.css") == f"/static/{_hashed_name(static_root, 'css/site.css')}"


def test_a_hashed_file_is_cached_for_a_year_as_immutable(static_root, client):
    response = client.get(static("css/site.css"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=31536000, immutable"


def test_a_file_without_a_hash_keeps_a_short_max_age(static_root, client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "immutable" not in cache_control
    max_age = int(re.search(r"max-age=(\d+)", cache_control)[1])
    assert max_age <= 300, cache_control


def test_brotli_and_gzip_copies_are_written_and_served_by_accept_encoding(static_root, client):
    hashed = _hashed_name(static_root, "css/site.css")
    assert (static_root / f"{hashed}.br").is_file()
    assert (static_root / f"{hashed}.gz").is_file()
    original = (static_root / hashed).read_bytes()

    response = client.get(static("css/site.css"), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "br"
    assert "Accept-Encoding" in response["Vary"]
    assert response["Cache-Control"] == "max-age=31536000, immutable"
    assert brotli.decompress(_body(response)) == original

    response = client.get(static("css/site.css"), HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    _body(response)


def test_with_cdn_url_set_static_urls_point_at_the_cdn_and_the_app_stays_the_origin(static_root):
    # Settings are computed at import, so a fresh process reads CDN_URL; VAR_DIR points it at the
    # collected files (its STATIC_ROOT), REDIS_URL at the suite's Redis so that none is started.
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.templatetags.static import static\n"
        "print(settings.STATIC_URL)\n"
        "print(static('css/site.css'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "CDN_URL": "https://cdn.example.com/",
            "DEBUG": "false",  # with DEBUG the manifest storage links unhashed names
            "VAR_DIR": str(static_root.parent),
            "REDIS_URL": settings.REDIS_URL,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    static_url, site_css_url = result.stdout.split()
    assert static_url == "https://cdn.example.com/static/"
    assert site_css_url == f"https://cdn.example.com/static/{_hashed_name(static_root, 'css/site.css')}"


def test_a_cdn_url_without_a_scheme_is_refused():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "CDN_URL": "cdn.example.com"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "CDN_URL" in result.stderr
