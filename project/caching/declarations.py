"""What is cached is declared by each app, in its own ``caching.py``; this module finds and reads them.

Found as django_dramatiq finds ``actors.py``: every installed app's ``caching`` module. It holds plain
data, no import of project/. Five names, each optional (apps/products/caching.py uses the first four):

    QUERY_CACHE = {"products.product": {"ops": "all"}}
        cacheops profiles by model (its settings.CACHEOPS format); the timeout defaults to QUERY_CACHE_TTL.
    RESPONSE_CACHE = {"v1:product-detail": lambda url: (f"product:{int(url['pk'])}", "products:all")}
        anonymous GETs served whole from the response cache, by URL name -> the tags the response
        depends on, from the URL's kwargs. The query parameters kept are the view's own: its
        filterset's and its paginator's (project/caching/response_cache.py).
    INVALIDATES = {"products.product": lambda row: ("products", f"product:{row['id']}")}
        the tags a committed write to a model replaces; ``row`` is None when the whole model was invalidated.
    EMBEDDED_IN = {"products.category": ("products.product",)}
        a write to the first model also drops the query cache of the others, which select_related() it.
    SIGNED_IN_RESPONSE_CACHE = ("v1:me",)
        API token GETs whose response is a function of the token and its user, as the token check
        reads them (the rows apps.users.selectors.api_tokens_with_key loads), and of nothing else:
        each process keeps the responses it sent, filed under those rows' values, and answers a
        repeat before Django runs (project/caching/signed_in_front.py).

The tables are read once per process, when cacheops starts (project/caching/apps.py); a model or
URL name that does not exist, or one declared by two apps, stops the process with the reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

Tags = tuple[str, ...]

MODULE = "caching"


@dataclass(frozen=True)
class Declarations:
    query_cache: dict[str, dict[str, Any]]
    response_cache: dict[str, Callable[[dict[str, str]], Tags]]
    invalidates: dict[str, Callable[[dict[str, Any] | None], Tags]]
    embedded_in: dict[str, tuple[str, ...]]
    signed_in_response_cache: tuple[str, ...] = ()


# The name in an app's caching.py -> the table it adds to; the tables keyed by model are keyed in lower case.
TABLES = {
    "QUERY_CACHE": "query_cache",
    "RESPONSE_CACHE": "response_cache",
    "INVALIDATES": "invalidates",
    "EMBEDDED_IN": "embedded_in",
}
SIGNED_IN_RESPONSE_CACHE = "SIGNED_IN_RESPONSE_CACHE"  # URL names only, not a table
KEYED_BY_MODEL = {"query_cache", "invalidates", "embedded_in"}


def app_modules() -> list[ModuleType]:
    """Every installed app's caching.py, but the project's own (project/caching/ is the mechanism)."""
    return [
        import_module(f"{config.name}.{MODULE}")
        for config in apps.get_app_configs()
        if config.name != "project" and module_has_submodule(config.module, MODULE)
    ]


def read(modules: Iterable[ModuleType]) -> Declarations:
    modules = list(modules)
    tables: dict[str, dict[str, Any]] = {table: {} for table in TABLES.values()}
    for module in modules:
        for name, table in TABLES.items():
            for key, value in getattr(module, name, {}).items():
                key = key.lower() if table in KEYED_BY_MODEL else key
                if key in tables[table]:
                    raise ImproperlyConfigured(f"{module.__name__}.{name}: {key} is declared by another app too")
                tables[table][key] = value
    signed_in: list[str] = []
    for module in modules:
        for url_name in getattr(module, SIGNED_IN_RESPONSE_CACHE, ()):
            if url_name in signed_in:
                raise ImproperlyConfigured(
                    f"{module.__name__}.{SIGNED_IN_RESPONSE_CACHE}: {url_name} is declared by another app too"
                )
            signed_in.append(url_name)
    for embedded, embedding in tables["embedded_in"].items():
        _check_models([embedded, *embedding], where="EMBEDDED_IN")
    _check_models(tables["query_cache"], where="QUERY_CACHE")
    _check_models(tables["invalidates"], where="INVALIDATES")
    return Declarations(**tables, signed_in_response_cache=tuple(signed_in))


def _check_models(labels: Iterable[str], *, where: str) -> None:
    for label in labels:
        try:
            apps.get_model(label)
        except (LookupError, ValueError) as error:
            raise ImproperlyConfigured(f"{where} in an app's caching.py names no model: {label} ({error})") from None


@functools.cache
def discovered() -> Declarations:
    """The apps' declarations, read once per process."""
    return read(app_modules())
