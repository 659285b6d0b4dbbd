"""The response cache for hot public reads, and the HTTP caching headers of the API.

A hit is answered near the top of the middleware stack with ONE Redis round trip (MGET of the
entry and the version tokens it depends on) and no SQL. Only anonymous GETs of the URLs the apps
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.urls import URLResolver, get_resolver
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django_filters import BooleanFilter
from django_filters.rest_framework import DjangoFilterBackend

from project.caching import declarations
from project.caching.declarations import Tags
from project.caching.redis_guard import GuardedRedis
from project.caching.redis_sentinel import redis_client
from project.routing.routers import use_primary

logger = logging.getLogger(__name__)

EPOCH_TAG = "epoch"  # in every entry; replaced to drop the whole cache at once
HEADERS_KEPT = ("Content-Type", "ETag", "Cache-Control", "Vary", "X-Frame-Options", "Content-Language")


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
    routes: dict[str, list[tuple[str, Callable[..., Any]]]] = {}
    for name, regex, view in _named_routes(get_resolver(), regex="^/", namespace=""):
        routes.setdefault(name, []).append((regex, view))
    endpoints = []
    for name, tags in declared.items():
        if len(routes.get(name, ())) != 1:
            raise ImproperlyConfigured(
                f"RESPONSE_CACHE in an app's caching.py: {name!r} must name exactly one URL, "
                f"not {len(routes.get(name, ()))}"
            )
        [(regex, view)] = routes[name]
        path = re.compile(regex)
        # A route that captures an id is one object's: it reads no query parameter.
        params = _query_params(view) if path.groups == 0 else {}
        endpoints.append(CachedEndpoint(name=name, path=path, params=params, tags=tags))
    return tuple(endpoints)


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
    return redis_client(
        settings.REDIS_URL,
        redis_class=GuardedRedis,
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
        self.endpoints = _declared_endpoints()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match_endpoint = _match(request, self.endpoints)
        if match_endpoint is None:
            return self._with_http_cache_headers(request, self.get_response(request), public=False)
        endpoint, match = match_endpoint
        if _has_credentials(request):
            # Someone's own view of the data: never from or into the shared cache.
            request.META[OUTCOME_KEY] = (endpoint.name, "bypass")
            return self._with_http_cache_headers(request, self.get_response(request), public=False)
        _keep_only_known_params(request, endpoint.params)
        lookup, cached = _lookup(request, endpoint, match)
        if cached is not None:
            request.META[OUTCOME_KEY] = (endpoint.name, "hit")
            return _replay(request, cached)
        request.META[OUTCOME_KEY] = (endpoint.name, "bypass" if lookup is None else "miss")
        if lookup is None:
            response = self.get_response(request)
        else:
            # A fill reads the primary: a lagging replica would store a row older than the tokens.
            with use_primary():
                response = self.get_response(request)
        response = self._with_http_cache_headers(request, response, public=True)
        if lookup is not None and _storable(request, response, endpoint):
            _store(lookup, response)
        elif lookup is not None and lookup.created_tag_keys:
            _forget_tags(lookup.created_tag_keys)  # so that 404s for random ids leave no keys behind
        return response

    @staticmethod
    def _with_http_cache_headers(request: HttpRequest, response: HttpResponse, *, public: bool) -> HttpResponse:
        if response.has_header("Cache-Control"):
            return response
        if not request.path.startswith("/api/"):
            if public and response.status_code == 200 and not response.cookies:
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
def _declared_endpoints() -> tuple[CachedEndpoint, ...]:
    # Once per process, when the middleware is loaded: a web process with a bad declaration never starts.
    return cached_endpoints(declarations.discovered().response_cache)


def _match(request: HttpRequest, endpoints: tuple[CachedEndpoint, ...]) -> tuple[CachedEndpoint, re.Match[str]] | None:
    if request.method != "GET" or not settings.RESPONSE_CACHE_ENABLED:
        return None
    for endpoint in endpoints:
        match = endpoint.path.fullmatch(request.path_info)
        if match:
            return endpoint, match
    return None


def _has_credentials(request: HttpRequest) -> bool:
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


def _lookup(
    request: HttpRequest, endpoint: CachedEndpoint, match: re.Match[str]
) -> tuple[_Lookup | None, dict[str, Any] | None]:
    host = request.get_host()  # validates ALLOWED_HOSTS, so the key space stays bounded
    raw_key = f"{request.scheme}://{host}{request.path_info}?{request.META['QUERY_STRING']}"
    key = f"{settings.CACHE_KEY_PREFIX}:rc:{endpoint.name}:{hashlib.sha1(raw_key.encode(), usedforsecurity=False).hexdigest()}"
    tag_keys = tuple(_tag_key(tag) for tag in (EPOCH_TAG, *endpoint.tags(match.groupdict())))
    created_tag_keys: tuple[str, ...] = ()
    try:
        entry, *versions = cast(list[bytes | None], client.mget([key, *tag_keys]))
        if None in versions:
            created_tag_keys, versions = _create_missing_tags(tag_keys, versions)
    except redis.RedisError:
        return None, None  # Redis is down or frozen: serve from the database, store nothing
    if None in versions:
        return None, None  # a token vanished again meanwhile: store nothing under "missing"
    lookup = _Lookup(
        key=key, tag_keys=tag_keys, versions=tuple(cast(list[bytes], versions)), created_tag_keys=created_tag_keys
    )
    if entry is None:
        return lookup, None
    cached = pickle.loads(entry)  # noqa: S301 - our own entry from our own Redis, as Django's cache does
    if cached["versions"] != lookup.versions:
        return lookup, None
    return lookup, cached


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


def _store(lookup: _Lookup, response: HttpResponse) -> None:
    entry = {
        "versions": lookup.versions,
        "status": response.status_code,
        "headers": [(name, response[name]) for name in HEADERS_KEPT if response.has_header(name)],
        "body": response.content,
    }
    with contextlib.suppress(redis.RedisError):
        client.set(lookup.key, pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL), ex=settings.RESPONSE_CACHE_TTL)


# Set in the request's environ when this cache answered it (a 200 or a 304), for Server-Timing;
# and when it was one this cache serves (a hit or a miss, not a bypass), for the ops page.
ANSWERED_KEY = "headroom.response_cache_hit"
# (endpoint name, "hit" | "miss" | "bypass") of a GET to a cached endpoint, for the metrics.
OUTCOME_KEY = "headroom.response_cache_outcome"


def answered_from_cache(request: HttpRequest) -> bool:
    return bool(request.META.get(ANSWERED_KEY, False))


def cache_outcome(request: HttpRequest) -> tuple[str, str] | None:
    return request.META.get(OUTCOME_KEY)


def _replay(request: HttpRequest, cached: dict[str, Any]) -> HttpResponse:
    request.META[ANSWERED_KEY] = True
    headers = dict(cached["headers"])
    etag = headers.get("ETag")
    if etag and etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        not_modified = HttpResponseNotModified()
        for name in ("ETag", "Cache-Control", "Vary"):
            if name in headers:
                not_modified[name] = headers[name]
        return not_modified
    response = HttpResponse(cached["body"], status=cached["status"], headers=headers)
    response["Content-Length"] = str(len(cached["body"]))
    response["X-Response-Cache"] = "hit"
    return response
