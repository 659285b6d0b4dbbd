"""Requests made to a WSGI application as a WSGI server makes them, for the tests of what answers
before Django (project/caching/wsgi_front.py, project/caching/signed_in_front.py)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

HIT = "x-response-cache"
# Headers about one request: the hit's own, never stored (project/caching/response_cache.py).
PER_REQUEST = {HIT, "server-timing"}

WSGIApplication = Any


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    def lasting_headers(self) -> list[tuple[str, str]]:
        return sorted((name.lower(), value) for name, value in self.headers if name.lower() not in PER_REQUEST)


@contextmanager
def counting_django_runs() -> Iterator[list[Any]]:
    """Each request Django's handler started in the block (one answered before Django starts none)."""
    started: list[Any] = []

    def count(sender: Any, **kwargs: Any) -> None:
        started.append(sender)

    request_started.connect(count)
    try:
        yield started
    finally:
        request_started.disconnect(count)


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    # As Django's test client does: the handler would close the test's connection (its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def get(application: WSGIApplication, path: str, query: str = "", **headers: str) -> Answer:
    """A GET as a WSGI server makes it, the response closed after it was read."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        **headers,
    }
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.update(status=int(status.split()[0]), headers=response_headers)

    with _test_connection_kept():
        body = application(environ, start_response)
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
    return Answer(status=started["status"], headers=started["headers"], body=content)
