"""Security headers: a strict Content-Security-Policy everywhere, and signed-in pages never kept by a cache."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"


def _directives(response) -> dict[str, list[str]]:
    policy = response[CSP]
    return {name: sources for name, *sources in (part.split() for part in policy.split(";"))}


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.parametrize("url", ["/", "/products/", "/login/", "/admin/login/", "/api/docs/", "/api/v1/products/"])
def test_every_response_carries_the_strict_policy(client, url):
    directives = _directives(client.get(url))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


def test_no_directive_allows_inline_code_or_eval(client):
    policy = client.get("/")[CSP]

    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_only_the_api_docs_allow_data_images(client):
    assert _directives(client.get("/api/docs/"))["img-src"] == ["'self'", "data:"]
    assert _directives(client.get("/"))["img-src"] == ["'self'"]


@pytest.mark.parametrize("url", ["/", "/products/", "/api/docs/", "/api/v1/products/", "/no-such-page/"])
def test_the_policy_built_once_is_the_one_django_csp_builds(client, url):
    from csp.utils import build_policy

    response = client.get(url)

    if url == "/api/docs/":  # its csp_update goes through django-csp's own code
        assert "data:" in response[CSP]
    else:
        assert response[CSP] == build_policy()


def test_a_changed_policy_setting_is_not_served_from_the_built_one(client, settings):
    client.get("/")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    assert client.get("/")[CSP] == "default-src 'none'"


def test_the_api_docs_have_no_inline_script_or_style_and_no_cdn(client):
    page = client.get("/api/docs/").text

    assert "<script>" not in page
    assert "<style" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert 'src="/api/docs/?script="' in page


def test_the_api_docs_init_script_is_served_from_the_site(client):
    response = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in response.content


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_pages_have_no_inline_script_or_style(client, user, signed_in):
    if signed_in:
        client.force_login(user)
    product = ProductFactory()
    urls = (
        "/",
        "/products/",
        f"/products/{product.pk}/",
        "/orders/",
        "/account/",
        "/login/",
        "/signup/",
        "/password-reset/",
    )
    for url in urls:
        page = client.get(url, follow=True).text
        # Scripts are static files only: every <script> has a src and no body.
        scripts = re.findall(r"<script[^>]*>.*?</script>", page, flags=re.S)
        assert all(re.fullmatch(r'<script src="/static/[^"]+" defer></script>', script) for script in scripts), url
        assert "<style" not in page and " style=" not in page, url


def _policy_built_from(**env: str) -> subprocess.CompletedProcess:
    """The directives project/settings.py builds in a fresh process with ``env`` set."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']))",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cdn_origin_and_extra_sources_join_the_policy():
    result = _policy_built_from(
        CDN_URL="https://cdn.example.com/assets",
        CSP_EXTRA_SOURCES="img-src https://img.example.com; connect-src https://api.example.com",
    )

    assert result.returncode == 0, result.stderr
    directives = json.loads(result.stdout)
    for name in ("script-src", "style-src", "img-src", "font-src"):
        assert directives[name][:2] == ["'self'", "https://cdn.example.com"], name
    assert directives["img-src"][-1] == "https://img.example.com"
    assert directives["connect-src"] == ["'self'", "https://api.example.com"]


@pytest.mark.parametrize(
    "extra", ["script-src 'unsafe-inline'", "style-src 'self' 'unsafe-eval'", "sandbox allow-forms", "img-src"]
)
def test_extra_sources_that_undo_the_policy_or_do_not_parse_are_refused(extra):
    result = _policy_built_from(CSP_EXTRA_SOURCES=extra)

    assert result.returncode != 0
    assert "CSP_EXTRA_SOURCES" in result.stderr


def test_every_page_a_signed_in_user_gets_is_private_and_never_stored(client, user):
    client.force_login(user)
    product = ProductFactory()
    for url in ("/", "/products/", f"/products/{product.pk}/", "/orders/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= _cache_control(response), url


def test_the_admin_is_private_and_never_stored(admin_client):
    response = admin_client.get("/admin/orders/order/")

    assert response.status_code == 200
    assert {"private", "no-store"} <= _cache_control(response)


def test_a_signed_in_users_redirects_are_private_too(client, user):
    client.force_login(user)
    product = ProductFactory(stock=5)

    response = client.post(f"/products/{product.pk}/order/", {"quantity": 1})

    assert response.status_code == 302
    assert {"private", "no-store"} <= _cache_control(response)


def test_anonymous_pages_are_left_cacheable(client):
    response = client.get("/products/")

    assert not {"private", "no-store"} & _cache_control(response)


def test_the_apis_public_reads_stay_public_for_anonymous_clients(api_client):
    ProductFactory()

    assert _cache_control(api_client.get("/api/v1/products/")) == {"public", f"max-age={settings.PUBLIC_CACHE_MAX_AGE}"}
