"""Secrets in logged URLs (project/security/log_redaction.py): reset and verification links, secret query
parameters; everything else is logged as it came."""

from __future__ import annotations

import logging

import pytest

from project.security.log_redaction import redact_url


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("/password-reset/MQ/cf1b2a-0123456789abcdef/", "/password-reset/MQ/[REDACTED]/"),
        ("/password-reset/MQ/cf1b2a-0123456789abcdef/?next=/orders/", "/password-reset/MQ/[REDACTED]/?next=/orders/"),
        ("/password%2Dreset/MQ/cf1b2a-0123456789abcdef/", "/password-reset/MQ/[REDACTED]/"),
        ("/verify-email/InVzZXIi:1tX:abc/", "/verify-email/[REDACTED]/"),
        ("/api/v1/thing/?token=abc&page=2", "/api/v1/thing/?token=[REDACTED]&page=2"),
        (
            "/x/?api_key=1&New_Password=2&X-Amz-Signature=3&q=4",
            "/x/?api_key=[REDACTED]&New_Password=[REDACTED]&X-Amz-Signature=[REDACTED]&q=4",
        ),
        ("https://shop.example/password-reset/MQ/cf1b2a-01/", "https://shop.example/password-reset/MQ/[REDACTED]/"),
    ],
)
def test_secrets_in_a_url_are_redacted(url, logged):
    assert redact_url(url) == logged


@pytest.mark.parametrize(
    "url", ["/password-reset/", "/password-reset/sent/", '/healthz?q="quoted"\\back%22', "/products/?search=key%20lime"]
)
def test_a_url_without_secrets_is_logged_as_it_came(url):
    assert redact_url(url) == url


def test_django_logs_a_404_on_a_secret_link_without_the_secret(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/password-reset/MQ/the-secret-token/no-such-page/?token=another-secret")

    assert "Not Found: /password-reset/MQ/[REDACTED]/no-such-page/" in caplog.text
    assert "secret" not in caplog.text.replace("[REDACTED]", "")
