"""The response cache for hot public reads, and the HTTP caching headers of the API.

A hit is answered with ONE Redis round trip (MGET of the entry and the version tokens it depends on)
and no SQL: under WSGI before Django runs at all (project/caching/wsgi_front.py: no handler, no
middleware, no URL resolution), elsewhere (ASGI, the test client) near the top of the middleware stack.
Both call the same functions here (``match``, ``has_credentials``, ``keys_for``, ``fetch``, ``replay``).
An entry holds the status, body and the final headers the whole stack sent (security headers, CSP,
Vary, ETag, Cache-Control...), taken once Django is done with the response, so a hit carries
exactly what a miss did (per-request headers aside). Only anonymous GETs of the URLs the apps
name in their caching.py (``RESPONSE_CACHE``, project/caching/declarations.py) are served or
stored; anything that carries credentials skips it. The query parameters kept are the view's own.

Invalidation is by version tokens ("tags"): an entry records the tokens it was filled under,
and a write replaces the tokens of what it changed. A fill reads the tokens *before* the view
reads the database, so a fill that overlaps a write is stored under the old token and is
never served (the stale-fill race). Tokens are random, never counters, so a token lost to
eviction or a restart can never come back and match an old entry; and a missing token is created
before a fill, so no entry is ever filled under "missing" (which a later loss would bring back).

Writes reach ``invalidate_tags`` through cacheops' ``cache_invalidated`` signal, sent after
the commit for every save, delete, ``invalidated_update()`` and explicit ``invalidate_*``:
one signal invalidates the query cache and this cache alike.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import pickle
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.urls import URLResolver, get_resolver
from django.utils import cache as django_cache
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.http import parse_etags
from django_filters import BooleanFilter
from django_filters.rest_framework import DjangoFilterBackend

from project.caching import declarations
from project.caching.declarations import Tags
from project.caching.redis_guard import GuardedRedis, OneConnectionGuardedRedis
from project.caching.redis_sentinel import redis_client
from project.routing.routers import use_primary

logger = logging.getLogger(__name__)

EPOCH_TAG = "epoch"  # in every entry; replaced to drop the whole cache at once
ENTRY_FORMAT = 2  # entries of another format (an older release's) are misses
# Headers about one request, never stored: a hit sends its own (Server-Timing in development).
PER_REQUEST_HEADERS = frozenset({"server-timing", "x-db-reads", "x-response-cache", "date"})
# What a 304 keeps of its 200's headers (django.utils.cache._not_modified, RFC 9110 15.4.5) besides
# those added outside the response cache's middleware (security headers, CSP), which every answer gets.
NOT_MODIFIED_KEPT = frozenset({"cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary"})
# Preconditions a hit does not evaluate (it answers If-None-Match only): such a GET runs the view.
UNHANDLED_PRECONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_RANGE")


@dataclass(frozen=True)
class CachedEndpoint:
    name: str  # the URL name, as reverse() takes it
    path: re.Pattern[str]
    # The query parameters the view reads, each with how to write a value the one way the view
    # reads it (None: as absent); the others are dropped.
    params: dict[str, Callable[[str], str | None]]
    tags: Callable[[dict[str, str]], Tags]


def cached_endpoints(declared: dict[str, Callable[[dict[str, str]], Tags]]) -> tuple[CachedEndpoint, ...]:
    """The URL names the apps declare, resolved once to their paths and views; an unknown name stops here."""
    routes = routes_named(declared, where="RESPONSE_CACHE")
    endpoints = []
    for name, tags in declared.items():
        regex, view = routes[name]
        path = re.compile(regex)
        # A route that captures an id is one object's: it reads no query parameter.
        params = _query_params(view) if path.groups == 0 else {}
        endpoints.append(CachedEndpoint(name=name, path=path, params=params, tags=tags))
    return tuple(endpoints)


def routes_named(names: Iterable[str], *, where: str) -> dict[str, tuple[str, Callable[..., Any]]]:
    """Each URL name -> its full-path regex and view; a name that is not exactly one URL stops here."""
    routes: dict[str, list[tuple[str, Callable[..., Any]]]] = {}
    for name, regex, view in _named_routes(get_resolver(), regex="^/", namespace=""):
        routes.setdefault(name, []).append((regex, view))
    for name in names:
        if len(routes.get(name, ())) != 1:
            raise ImproperlyConfigured(
                f"{where} in an app's caching.py: {name!r} must name exactly one URL, not {len(routes.get(name, ()))}"
            )
    return {name: routes[name][0] for name in names}


def _named_routes(
    resolver: URLResolver, *, regex: str, namespace: str
) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    # Full-path regexes, matched once per request: resolve() would cost ~20 µs on every anonymous GET.
    for entry in resolver.url_patterns:
        entry_regex = regex + entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            yield from _named_routes(
                entry, regex=entry_regex, namespace=f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            )
        elif entry.name:
            yield f"{namespace}{entry.name}", entry_regex, entry.callback


def _query_params(view: Callable[..., Any]) -> dict[str, Callable[[str], str | None]]:
    """What a DRF list view reads from the query string: its filterset's filters and its paginator's
    parameters."""
    view_class = getattr(view, "cls", None)  # set by DRF's as_view(), as is initkwargs
    if view_class is None:
        # A page view names them itself (apps.core.pages.reads_query_params).
        params = _filterset_params(getattr(view, "filterset_class", None))
        params.update((name, _as_sent) for name in getattr(view, "query_params", ()))
        return params
    instance = view_class(**getattr(view, "initkwargs", {}))
    instance.action, instance.request, instance.format_kwarg = "list", None, None
    params = {}
    for backend_class in instance.filter_backends:
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            params.update(_filterset_params(backend.get_filterset_class(instance, instance.get_queryset())))
        else:
            params.update((param["name"], _as_sent) for param in backend.get_schema_operation_parameters(instance))
    paginator = instance.paginator
    if paginator is not None:
        params.update((param["name"], _as_sent) for param in paginator.get_schema_operation_parameters(instance))
        if getattr(paginator, "page_size_query_param", None):
            params[paginator.page_size_query_param] = functools.partial(
                _canonical_page_size, maximum=paginator.max_page_size
            )
    return params


def _filterset_params(filterset: Any) -> dict[str, Callable[[str], str | None]]:
    return {
        name: _canonical_boolean if isinstance(declared_filter, BooleanFilter) else _as_sent
        for name, declared_filter in (filterset.base_filters.items() if filterset else ())
    }


def _redis_client() -> redis.Redis:
    # One connection per process where no Sentinel manages the connections (OneConnectionGuardedRedis,
    # as cacheops's client): a pool's checks before every command were a sixth of a hit's CPU.
    return redis_client(
        settings.REDIS_URL,
        redis_class=GuardedRedis if settings.REDIS_SENTINEL else OneConnectionGuardedRedis,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_SOCKET_CONNECT_TIMEOUT,
    )


client: redis.Redis = SimpleLazyObject(_redis_client)  # type: ignore[assignment]


def _tag_key(tag: str) -> str:
    return f"{settings.CACHE_KEY_PREFIX}:rc:tag:{tag}"


def invalidate_tags(tags: tuple[str, ...], *, raise_errors: bool = False) -> None:
    """Replace the version tokens of ``tags``: every entry filled under the old ones is dead."""
    token = uuid.uuid4().hex
    try:
        client.mset({_tag_key(tag): token for tag in tags})
    except redis.RedisError as error:
        if raise_errors:
            raise
        # The breaker drops the whole cache when Redis answers again (see redis_guard).
        logger.warning("response cache: could not invalidate %s: %s", tags, error)


def invalidate_all(*, raise_errors: bool = False) -> None:
    invalidate_tags((EPOCH_TAG,), raise_errors=raise_errors)


def invalidate_for_model(*, label: str, row: dict[str, Any] | None) -> None:
    tags_for = declarations.discovered().invalidates.get(label)
    if tags_for is not None:
        invalidate_tags(tags_for(row))


@dataclass(frozen=True)
class _Lookup:
    key: str
    tag_keys: tuple[str, ...]
    versions: tuple[bytes, ...]
    created_tag_keys: tuple[str, ...]  # missing until this lookup; dropped again unless an entry is stored


class PublicResponseCache:
    """Serves and fills the response cache; sets Cache-Control and Vary on API responses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.endpoints = declared_endpoints()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match_endpoint = match(request, self.endpoints)
        if match_endpoint is None:
            return self._with_http_cache_headers(request, self.get_response(request), public=False)
        endpoint, url_match = match_endpoint
        if has_credentials(request):
            # Someone's own view of the data: never from or into the shared cache.
            request.META[OUTCOME_KEY] = (endpoint.name, "bypass")
            return self._with_http_cache_headers(request, self.get_response(request), public=False)
        # Looked up already when the WSGI front (project/caching/wsgi_front.py) missed; else here.
        lookup, cached = look_up(request, endpoint, url_match)
        if cached is not None:
            request.META[OUTCOME_KEY] = (endpoint.name, "hit")
            return _replayed_response(request, cached)
        request.META[OUTCOME_KEY] = (endpoint.name, "bypass" if lookup is None else "miss")
        if lookup is None:
            response = self.get_response(request)
        else:
            # A fill reads the primary: a lagging replica would store a row older than the tokens.
            with use_primary():
                response = self.get_response(request)
        response = self._with_http_cache_headers(request, response, public=True)
        if lookup is not None and _storable(request, response, endpoint):
            _store_when_closed(request, lookup, response)
        elif lookup is not None and lookup.created_tag_keys:
            _forget_tags(lookup.created_tag_keys)  # so that 404s for random ids leave no keys behind
        return response

    @staticmethod
    def _with_http_cache_headers(request: HttpRequest, response: HttpResponse, *, public: bool) -> HttpResponse:
        if response.has_header("Cache-Control"):
            return response
        if not request.path.startswith("/api/"):
            if public and response.status_code in (200, 304) and not response.cookies:
                # A cached page: storable here and by a CDN, but checked with the server on every view.
                response["Cache-Control"] = "public, no-cache"
            return response
        if public and response.status_code in (200, 304):  # a 304 carries the headers of its 200
            # Short: browsers and CDNs keep this whatever the server invalidates; ETag revalidates.
            response["Cache-Control"] = f"public, max-age={settings.PUBLIC_CACHE_MAX_AGE}"
        else:
            response["Cache-Control"] = "private, no-store"
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response


@functools.cache
def declared_endpoints() -> tuple[CachedEndpoint, ...]:
    # Once per process, when the middleware is loaded: a web process with a bad declaration never starts.
    return cached_endpoints(declarations.discovered().response_cache)


def match(request: HttpRequest, endpoints: tuple[CachedEndpoint, ...]) -> tuple[CachedEndpoint, re.Match[str]] | None:
    if request.method != "GET" or not settings.RESPONSE_CACHE_ENABLED:
        return None
    for endpoint in endpoints:
        url_match = endpoint.path.fullmatch(request.path_info)
        if url_match:
            return endpoint, url_match
    return None


def has_credentials(request: HttpRequest) -> bool:
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


# Parameters whose junk values the view treats as absent are written the one way the view reads
# them, so that junk does not get an entry of its own. (Junk in other parameters is a 400.)


def _as_sent(value: str) -> str:
    return value


def _canonical_page_size(value: str, *, maximum: int | None) -> str | None:
    # As DRF reads it (int(), so also " 7", "+7", "1_0" and Arabic-Indic digits): a positive int
    # capped at the maximum; anything int() refuses ("²" is a digit to isdigit()) means the default.
    try:
        size = int(value)
    except ValueError:
        return None
    if size <= 0:
        return None
    return str(size if maximum is None else min(size, maximum))


def _canonical_boolean(value: str) -> str | None:
    # As django-filter's BooleanFilter reads it; anything else means "no filter".
    return {"true": "true", "True": "true", "2": "true", "false": "false", "False": "false", "3": "false"}.get(value)


def _keep_only_known_params(request: HttpRequest, params: dict[str, Callable[[str], str | None]]) -> None:
    """Drop unknown parameters (?utm=...) before the view sees them, so that one entry serves
    every variant and no foreign parameter is copied into the links of a shared response."""
    pairs = []
    for name, canonical_of in params.items():
        for value in request.GET.getlist(name):
            canonical = canonical_of(value)
            if canonical is not None:
                pairs.append((name, canonical))
    pairs.sort()
    query = QueryDict(mutable=True)
    for name, value in pairs:
        query.appendlist(name, value)
    request.META["QUERY_STRING"] = query.urlencode()
    request.GET = QueryDict(request.META["QUERY_STRING"])


@dataclass(frozen=True)
class Keys:
    """Where one anonymous GET's entry and the version tokens it depends on are: a function of the
    request's endpoint, scheme, host, path and kept query parameters only."""

    endpoint: str  # its URL name
    query_string: str  # the kept parameters, written the one way the view reads them
    key: str
    tag_keys: tuple[str, ...]


def keys_for(request: HttpRequest, endpoint: CachedEndpoint, url_match: re.Match[str]) -> Keys:
    """Also drops the parameters the view does not read from the request. Raises DisallowedHost for
    a host not in ALLOWED_HOSTS (Django answers 400), so the key space stays bounded."""
    _keep_only_known_params(request, endpoint.params)
    host = request.get_host()
    query_string = request.META["QUERY_STRING"]
    raw_key = f"{request.scheme}://{host}{request.path_info}?{query_string}"
    return Keys(
        endpoint=endpoint.name,
        query_string=query_string,
        key=f"{settings.CACHE_KEY_PREFIX}:rc:{endpoint.name}:{hashlib.sha1(raw_key.encode(), usedforsecurity=False).hexdigest()}",
        tag_keys=tuple(_tag_key(tag) for tag in (EPOCH_TAG, *endpoint.tags(url_match.groupdict()))),
    )


def look_up(
    request: HttpRequest, endpoint: CachedEndpoint, url_match: re.Match[str]
) -> tuple[_Lookup | None, dict[str, Any] | None]:
    """The entry for this anonymous GET, if there is a valid one, and what a fill stores it under (None:
    store nothing). Once per request: the WSGI front's answer, when it missed, is kept in the environ
    for the middleware. Raises DisallowedHost for a host not in ALLOWED_HOSTS (Django answers 400)."""
    if LOOKUP_KEY in request.META:
        return request.META[LOOKUP_KEY], None
    if any(name in request.META for name in UNHANDLED_PRECONDITIONS):
        _keep_only_known_params(request, endpoint.params)
        lookup, cached = None, None  # the view and ConditionalGetMiddleware answer it, uncached
    else:
        lookup, cached = fetch(keys_for(request, endpoint, url_match))
    if cached is None:
        request.META[LOOKUP_KEY] = lookup
    return lookup, cached


def fetch(keys: Keys) -> tuple[_Lookup | None, dict[str, Any] | None]:
    """One MGET: the entry, if it is valid, and the tokens a fill stores it under (None: store nothing)."""
    created_tag_keys: tuple[str, ...] = ()
    try:
        entry, *versions = cast(list[bytes | None], client.mget([keys.key, *keys.tag_keys]))
        if None in versions:
            created_tag_keys, versions = _create_missing_tags(keys.tag_keys, versions)
    except redis.RedisError:
        return None, None  # Redis is down or frozen: serve from the database, store nothing
    if None in versions:
        return None, None  # a token vanished again meanwhile: store nothing under "missing"
    lookup = _Lookup(
        key=keys.key,
        tag_keys=keys.tag_keys,
        versions=tuple(cast(list[bytes], versions)),
        created_tag_keys=created_tag_keys,
    )
    if entry is None:
        return lookup, None
    cached = pickle.loads(entry)  # noqa: S301 - our own entry from our own Redis, as Django's cache does
    if cached.get("format") != ENTRY_FORMAT or cached["versions"] != lookup.versions:
        return lookup, None
    return lookup, cast(dict[str, Any], cached)


def _create_missing_tags(
    tag_keys: tuple[str, ...], versions: list[bytes | None]
) -> tuple[tuple[str, ...], list[bytes | None]]:
    """Give a missing tag (never written, evicted, lost in a restart) a token before filling under it:
    an entry filled under "missing" would match again whenever that tag went missing again."""
    created = tuple(
        tag_key
        for tag_key, version in zip(tag_keys, versions, strict=True)
        if version is None and client.set(tag_key, uuid.uuid4().hex, nx=True)
    )
    return created, cast(list[bytes | None], client.mget(tag_keys))


def _forget_tags(tag_keys: tuple[str, ...]) -> None:
    # Safe whatever happened meanwhile: a missing tag can only turn entries into misses.
    with contextlib.suppress(redis.RedisError):
        client.delete(*tag_keys)


def _storable(request: HttpRequest, response: HttpResponse, endpoint: CachedEndpoint) -> bool:
    return (
        response.status_code == 200
        # Django routed it to the declared view: an earlier route matching the same path never fills it
        and getattr(request.resolver_match, "view_name", None) == endpoint.name
        and not response.streaming
        and not response.cookies
        and "public" in response.get("Cache-Control", "")
    )


def _store_when_closed(request: HttpRequest, lookup: _Lookup, response: HttpResponse) -> None:
    """Stores the response once the whole stack is done with it: its final headers are what a hit sends.
    The headers set outside this middleware are noted now, as a 304 keeps them all (see NOT_MODIFIED_KEPT).
    Django calls a response's closers when the server (or the test client) closes it, after sending
    it; the WSGI front stores it before sending (``store_pending``), so the next request finds it."""
    inner = frozenset(name.lower() for name in response.headers)
    stored = False

    def store_once() -> None:
        nonlocal stored
        if not stored:
            stored = True
            _store(lookup, response, inner)

    response._resource_closers.append(store_once)  # type: ignore[attr-defined]
    request.META[STORE_KEY] = store_once


def store_pending(environ: dict[str, Any]) -> None:
    """Stores now the entry this request's response fills, if any: Django has returned it, final."""
    store = environ.pop(STORE_KEY, None)
    if store is not None:
        store()


def _store(lookup: _Lookup, response: HttpResponse, inner: frozenset[str]) -> None:
    cache_control = response.get("Cache-Control", "")
    if (
        response.status_code != 200
        or response.cookies
        or "public" not in cache_control
        or "private" in cache_control
        or "no-store" in cache_control
    ):
        return  # made private or personal on its way out: never shared
    body = response.content
    headers = [
        (name, value)
        for name, value in response.items()
        if name.lower() not in PER_REQUEST_HEADERS and name.lower() != "content-length"
    ]
    headers.append(("Content-Length", str(len(body))))
    entry = {
        "format": ENTRY_FORMAT,
        "versions": lookup.versions,
        "status": response.status_code,
        "headers": headers,
        "not_modified_headers": [
            (name, value) for name, value in headers if name.lower() in NOT_MODIFIED_KEPT or name.lower() not in inner
        ],
        "etag": response.get("ETag"),
        "body": body,
    }
    with contextlib.suppress(redis.RedisError):
        client.set(lookup.key, pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL), ex=settings.RESPONSE_CACHE_TTL)


# Set in the request's environ when this cache answered it (a 200 or a 304), for Server-Timing;
# and when it was one this cache serves (a hit or a miss, not a bypass), for the ops page.
ANSWERED_KEY = "headroom.response_cache_hit"
# (endpoint name, "hit" | "miss" | "bypass") of a GET to a cached endpoint, for the metrics.
OUTCOME_KEY = "headroom.response_cache_outcome"
# What look_up() found when it missed (a _Lookup, or None: store nothing), so that it runs once.
LOOKUP_KEY = "headroom.response_cache_lookup"
# The fill of this request's response, for the WSGI front to run before sending it.
STORE_KEY = "headroom.response_cache_store"
HIT_HEADER = ("X-Response-Cache", "hit")


def answered_from_cache(request: HttpRequest) -> bool:
    return bool(request.META.get(ANSWERED_KEY, False))


def cache_outcome(request: HttpRequest) -> tuple[str, str] | None:
    return request.META.get(OUTCOME_KEY)


def replay(cached: dict[str, Any], *, if_none_match: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body of a hit: a 304 when If-None-Match names the entry's ETag, as
    ConditionalGetMiddleware answers, with the headers a 304 keeps."""
    etag = cached["etag"]
    # ConditionalGetMiddleware's own comparison (weak, and "*").
    passes = django_cache._if_none_match_passes  # type: ignore[attr-defined]
    if etag and if_none_match and not passes(etag, parse_etags(if_none_match)):
        return 304, cached["not_modified_headers"], b""
    return cached["status"], [*cached["headers"], HIT_HEADER], cached["body"]


def _replayed_response(request: HttpRequest, cached: dict[str, Any]) -> HttpResponse:
    request.META[ANSWERED_KEY] = True
    status, headers, body = replay(cached, if_none_match=request.META.get("HTTP_IF_NONE_MATCH", ""))
    response = HttpResponseNotModified() if status == 304 else HttpResponse(body, status=status)
    for name in list(response.headers):  # exactly the stored ones, not the defaults
        del response.headers[name]
    for name, value in headers:
        response.headers[name] = value
    return response
