"""Signed-in API reads answered before Django runs: a warm ``GET /api/v1/users/me/`` with a token
costs one Redis read (the token check's) and no SQL, middleware or view.

An app declares in its caching.py (``SIGNED_IN_RESPONSE_CACHE``, project/caching/declarations.py)
the URL names of token GETs whose response is a function of the token and its user, as the token
check reads them, and of nothing else. Each web process keeps the 200s Django sent for them, in
memory, filed under:

- the token's id and every column of its user that the check loads (selectors.AUTH_USER_COLUMNS),
  so that a write to the user (a profile edit, a staff edit, a verified email) files the next
  response elsewhere: an entry is never served for rows that have changed, so there is nothing to
  invalidate, and no entry is shared between users or between workers. The rest of the token's
  row is fixed, but for its expiry, which is checked on every request;
- the request's scheme, host, path, query string and Accept header: what else Django's answer
  depends on. A request with a cookie never looks, so ``Vary: Authorization, Cookie`` holds.

A repeat is answered here after the check Django would make, from the query cache alone
(TokenAuthentication.cached_credentials: the key's digest, the expiry, the user active). A revoked
token, a password change or a deactivation drops the cached lookup in Redis on commit, so it is
refused on the next request in every process, as it would be through Django. Django answers
whatever this cannot: the lookup not cached, a refusal (its 401), an expiry renewal due (a write),
a precondition (If-None-Match...), a cookie, any other method, Redis down.

An entry is filed under the credentials Django's own check accepted for that response
(authentication.CREDENTIALS_KEY in the environ), never under what this front read before calling
Django: a write between the two cannot file a response under rows it was not made from.
The declared views must have no throttle (a hit here skips them); a web process checks this at start.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from knox.settings import knox_settings
from rest_framework import HTTP_HEADER_ENCODING

from apps.users.authentication import CREDENTIALS_KEY, TokenAuthentication
from apps.users.models import ApiToken, User
from apps.users.selectors import AUTH_USER_COLUMNS
from project.caching import declarations, response_cache
from project.caching.wsgi_front import Front, WSGIApplication

logger = logging.getLogger(__name__)

# What of a request its response may depend on, besides the token and its user.
REQUEST_KEYED_BY = ("HTTP_ACCEPT",)
# The preconditions Django evaluates (ConditionalGetMiddleware): such a request is Django's.
PRECONDITIONS = ("HTTP_IF_NONE_MATCH", *response_cache.UNHANDLED_PRECONDITIONS)
RESPONSES_KEPT = 4096  # per process, the oldest dropped first: a few KB each


def enabled() -> bool:
    """On with both caches (the token check is cacheops'), for any app's declared URL names."""
    return bool(
        settings.RESPONSE_CACHE_ENABLED
        and settings.CACHEOPS_ENABLED
        and declarations.discovered().signed_in_response_cache
    )


def declared_routes() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(URL name, full-path regex) of each declared read; a view that the front would answer
    differently from Django (a throttle, another way to sign in) stops the process here."""
    names = declarations.discovered().signed_in_response_cache
    routes = []
    for name, (regex, view) in response_cache.routes_named(names, where="SIGNED_IN_RESPONSE_CACHE").items():
        view_class = getattr(view, "cls", None)  # set by DRF's as_view()
        if view_class is None or not any(
            issubclass(authentication, TokenAuthentication) for authentication in view_class.authentication_classes
        ):
            raise ImproperlyConfigured(f"SIGNED_IN_RESPONSE_CACHE: {name!r} is not a DRF view that takes API tokens")
        if view_class.throttle_classes:
            raise ImproperlyConfigured(f"SIGNED_IN_RESPONSE_CACHE: {name!r} has throttles, which a hit would skip")
        routes.append((name, re.compile(regex)))
    return tuple(routes)


def credentials_key(credentials: tuple[User, ApiToken]) -> tuple[Any, ...]:
    """The rows a declared response is a function of: the token's id and the user as the check read it."""
    user, token = credentials
    values = vars(user)
    return (token.pk, *(values.get(column) for column in AUTH_USER_COLUMNS))


class SignedInResponseFront(Front):
    """A WSGI application: repeats of the declared token GETs here, everything else to ``application``."""

    def __init__(self, application: WSGIApplication) -> None:
        super().__init__(application)
        self.routes = declared_routes()
        self.keyed_by = (*self.keyed_by, *REQUEST_KEYED_BY)
        self.prefix = knox_settings.AUTH_HEADER_PREFIX.encode().lower()
        self.authentication = TokenAuthentication()
        # (request key, credentials key) -> (status, headers, body) that Django sent.
        self.responses: dict[tuple[tuple[Any, ...], tuple[Any, ...]], tuple[int, list[tuple[str, str]], bytes]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            "HTTP_AUTHORIZATION" not in environ
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_COOKIE" in environ
            or any(name in environ for name in PRECONDITIONS)
        ):
            return self.application(environ, start_response)
        route = next((name for name, path in self.routes if path.fullmatch(environ.get("PATH_INFO", ""))), None)
        if route is None:
            return self.application(environ, start_response)
        started = time.perf_counter()
        request_key = tuple(environ.get(name) for name in self.keyed_by)
        try:
            credentials = self._cached_credentials(environ["HTTP_AUTHORIZATION"])
        except Exception:
            logger.exception("signed-in front: the token check failed; Django answers instead")
            credentials = None
        if credentials is not None:
            kept = self.responses.get((request_key, credentials_key(credentials)))
            if kept is not None:
                status, headers, body = kept
                return self.answer(
                    start_response, route=route, status=status, headers=headers, body=body, started=started
                )
        return self._from_django(environ, start_response, request_key)

    def _cached_credentials(self, authorization: str) -> tuple[User, ApiToken] | None:
        # The header as DRF's TokenAuthentication splits it; any other shape is Django's to answer.
        parts = authorization.encode(HTTP_HEADER_ENCODING).split()
        if len(parts) != 2 or parts[0].lower() != self.prefix:
            return None
        return self.authentication.cached_credentials(parts[1])

    def _from_django(
        self, environ: dict[str, Any], start_response: Callable[..., Any], request_key: tuple[Any, ...]
    ) -> Iterable[bytes]:
        sent: dict[str, Any] = {}

        def noting_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        response = self.application(environ, noting_start_response)
        credentials = environ.get(CREDENTIALS_KEY)  # what Django's own check accepted for this response
        if credentials is not None and sent.get("status", "").startswith("200 "):
            try:
                self._keep(request_key, credentials, sent["headers"], response)
            except Exception:
                logger.exception("signed-in front: could not keep a response")
        return response

    def _keep(
        self,
        request_key: tuple[Any, ...],
        credentials: tuple[User, ApiToken],
        headers: list[tuple[str, str]],
        response: Iterable[bytes],
    ) -> None:
        if not isinstance(response, HttpResponse) or any(name.lower() == "set-cookie" for name, _ in headers):
            return  # streamed, or personal to this one request
        kept_headers = [
            (name, value) for name, value in headers if name.lower() not in response_cache.PER_REQUEST_HEADERS
        ]
        if len(self.responses) >= RESPONSES_KEPT:
            del self.responses[next(iter(self.responses))]
        self.responses[(request_key, credentials_key(credentials))] = (200, kept_headers, response.content)
