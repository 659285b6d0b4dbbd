"""The response cache's hits, answered at the WSGI layer: before Django's handler, its middleware
and URL resolution run (project/wsgi.py puts this in front of Django's WSGI application).

A hit costs one Redis round trip and little else, so Django's own work per request (the handler,
the request_started and request_finished signals, twenty middleware, URL resolution) would be most
of its time. Here an anonymous GET of a cached endpoint is looked up with the very functions the
middleware uses (project/caching/response_cache.py: ``match``, ``has_credentials``, ``keys_for``,
``fetch``, ``look_up``, ``replay``), and a hit is sent with the status, headers and body the whole
stack produced when the entry was filled. A request's keys depend only on its scheme, host, path
and query string, so they are memoized per process: a repeated hit builds no request object.
Everything else is Django's, untouched:

- a miss runs the whole stack, which fills the entry (the tokens it read before the view are kept
  in the environ, so the middleware does not look up again: the stale-fill guard is the same);
- a request with credentials (Authorization, the session cookie) never looks: Django answers it;
- a host not in ALLOWED_HOSTS never looks: Django answers it 400, as for any other URL;
- Redis down or the breaker open: look_up finds nothing, Django answers from the database;
- a request with If-Match, If-Unmodified-Since, If-Modified-Since or If-Range: Django answers it.

Hits are still counted, by the Prometheus metrics and the ops page's minute buckets, in memory
(project/ops/request_recorder.py ``hit_recorder``); with SERVER_TIMING a hit gets its header too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest

from project.caching import response_cache
from project.caching.local_copies import local_copies
from project.ops.request_recorder import hit_recorder
from project.ops.server_timing import HEADER as SERVER_TIMING_HEADER
from project.ops.server_timing import RequestCost, header_value

logger = logging.getLogger(__name__)

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


# What of the environ the keys of a request depend on (its scheme, host, path and query string, as
# Django reads them: HttpRequest.scheme, get_host(), path_info, GET), and so what they are memoized by.
_KEYED_BY = (
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "wsgi.url_scheme",
)
MEMOIZED_KEYS = 1024  # distinct requests whose keys this process remembers; forgotten all at once beyond


class Front:
    """A WSGI application in front of ``application`` (Django's), which answers some requests itself."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application
        self.record_hit = hit_recorder()
        self.server_timing = settings.SERVER_TIMING
        proxy_ssl_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        self.keyed_by = (*_KEYED_BY, proxy_ssl_header[0]) if proxy_ssl_header else _KEYED_BY

    def answer(
        self,
        start_response: Callable[..., Any],
        *,
        route: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        started: float,
    ) -> list[bytes]:
        """Sends a response answered here, before Django, and counts it as Django's middleware would."""
        # Always a list of its own: the headers are kept for later answers, and a WSGI server may add
        # to the list it is handed (wsgiref, under runserver, adds Date and Server).
        if self.server_timing:
            timing = header_value(RequestCost(), app_seconds=time.perf_counter() - started, response_cache_hit=True)
            headers = [*headers, (SERVER_TIMING_HEADER, timing)]
        else:
            headers = list(headers)
        start_response(_STATUS_LINES[status], headers)
        if self.record_hit is not None:
            self.record_hit(route, status, time.perf_counter() - started)
        return [body]


class ResponseCacheFront(Front):
    """A WSGI application: response-cache hits here, everything else to ``application`` (Django's)."""

    def __init__(self, application: WSGIApplication) -> None:
        super().__init__(application)
        self.enabled = settings.RESPONSE_CACHE_ENABLED
        self.endpoints = response_cache.declared_endpoints() if self.enabled else ()
        # The request -> its keys: building them (a request object, the query canonicalised, the host
        # validated, a hash) is most of a hit's own work, the same every time for the same request.
        self.memoized: dict[tuple[Any, ...], response_cache.Keys] = {}
        # Current entries in this process's memory: a hit then makes no Redis round trip at all.
        self.local_copies = local_copies() if self.enabled else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # Cheap refusals first: a request the cache never serves builds nothing here.
        if (
            not self.enabled
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_AUTHORIZATION" in environ
            or not any(endpoint.path.fullmatch(environ.get("PATH_INFO", "")) for endpoint in self.endpoints)
        ):
            return self.application(environ, start_response)
        started = time.perf_counter()
        try:
            hit = self._hit(environ)
        except DisallowedHost:
            hit = None  # Django answers it 400
        except Exception:
            logger.exception("response cache: the WSGI front failed; Django answers instead")
            hit = None
        if hit is None:
            response = self.application(environ, start_response)
            # Filled before it is sent, not when the server closes it: the client's next request may
            # reach another worker before that.
            response_cache.store_pending(environ)
            return response
        route, (status, headers, body) = hit
        return self.answer(start_response, route=route, status=status, headers=headers, body=body, started=started)

    def _hit(self, environ: dict[str, Any]) -> tuple[str, tuple[int, list[tuple[str, str]], bytes]] | None:
        if "HTTP_COOKIE" in environ or any(name in environ for name in response_cache.UNHANDLED_PRECONDITIONS):
            # Which cookie, which precondition: the middleware's own decisions, on a request object.
            request = WSGIRequest(environ)  # its META is this environ: a miss hands Django what look_up changed
            matched = response_cache.match(request, self.endpoints)
            if matched is None or response_cache.has_credentials(request):
                return None
            endpoint, url_match = matched
            _lookup, cached = response_cache.look_up(request, endpoint, url_match)
            route = endpoint.name
        else:
            keys = self._keys(environ)
            if keys is None:
                return None
            environ["QUERY_STRING"] = keys.query_string  # what a miss hands Django, as look_up does
            lookup, cached = (self.local_copies or response_cache).fetch(keys)
            if cached is None:
                environ[response_cache.LOOKUP_KEY] = lookup
            route = keys.endpoint
        if cached is None:
            return None
        return route, response_cache.replay(cached, if_none_match=environ.get("HTTP_IF_NONE_MATCH", ""))

    def _keys(self, environ: dict[str, Any]) -> response_cache.Keys | None:
        signature = tuple(environ.get(name) for name in self.keyed_by)
        keys = self.memoized.get(signature)
        if keys is None:
            request = WSGIRequest(dict(environ))  # a copy: the memo holds what any such request's keys are
            matched = response_cache.match(request, self.endpoints)
            if matched is None:
                return None
            keys = response_cache.keys_for(request, *matched)  # DisallowedHost: never memoized
            if len(self.memoized) >= MEMOIZED_KEYS:
                self.memoized.clear()
            self.memoized[signature] = keys
        return keys


def wrap(application: WSGIApplication) -> WSGIApplication:
    """Django's WSGI application with the response cache's hits answered in front of it, and the
    signed-in reads of project/caching/signed_in_front.py."""
    from project.caching.signed_in_front import SignedInResponseFront, enabled

    if enabled():
        application = SignedInResponseFront(application)
    return ResponseCacheFront(application) if settings.RESPONSE_CACHE_ENABLED else application
