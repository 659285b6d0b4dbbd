"""Secrets kept out of logged URLs: the JSON access log (project/web/gunicorn_logging.py) and Django's
request loggers (settings.LOGGING) write every URL through redact_url.

A link that works as a password (a password-reset or email-verification link) must not outlive
its email in a log file anyone with log access can read. Adding a route with a secret in its
path, or a query parameter that carries one, is one line below. Plain Python, no Django: gunicorn
imports it before Django is set up.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, unquote_plus

REDACTED = "[REDACTED]"

# Paths whose named group "secret" is a credential (the page routes in apps/users/page_urls.py).
SECRET_PATHS = [
    re.compile(r"^/+password-reset/[^/]+/(?P<secret>[^/]+)"),  # pages:password-reset-confirm
    re.compile(r"^/+verify-email/(?P<secret>[^/]+)"),
]
# A query parameter whose name contains one of these (any case) has its value redacted.
SECRET_QUERY_WORDS = ("token", "key", "password", "passwd", "secret", "signature", "credential", "session")

_ABSOLUTE = re.compile(r"^(?P<origin>[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)(?P<rest>.*)$", re.DOTALL)


def redact_url(url: str) -> str:
    """``url`` (a path and query, or an absolute URL such as a Referer) with its secrets replaced."""
    match = _ABSOLUTE.match(url)
    origin, rest = (match["origin"], match["rest"]) if match else ("", url)
    path, question, query = rest.partition("?")
    return origin + _redact_path(path) + question + _redact_query(query)


def _redact_path(path: str) -> str:
    # Matched decoded, as Django routes it: an encoded path (%2D for "-") reaches the same view.
    decoded = unquote(path)
    for pattern in SECRET_PATHS:
        if match := pattern.search(decoded):
            return decoded[: match.start("secret")] + REDACTED + decoded[match.end("secret") :]
    return path


def _redact_query(query: str) -> str:
    if not query:
        return query
    parameters = []
    for parameter in query.split("&"):
        name, equals, _value = parameter.partition("=")
        if equals and any(word in unquote_plus(name).lower() for word in SECRET_QUERY_WORDS):
            parameter = f"{name}={REDACTED}"
        parameters.append(parameter)
    return "&".join(parameters)


class RedactUrls(logging.Filter):
    """For Django's request logger: a URL among a record's arguments ("Not Found: %s") is logged
    redacted. Set on the logger in settings.LOGGING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_urls_in(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def _redact_urls_in(text: str) -> str:
    # A bare path, or a request line ("GET /path HTTP/1.1"): each word that is a URL.
    return " ".join(redact_url(word) if word.startswith(("/", "http")) else word for word in text.split(" "))
