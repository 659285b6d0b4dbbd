"""Each app declares its own caching in its caching.py; project/caching/ finds those modules and builds
the caches' tables from them (project/caching/declarations.py), and refuses a bad declaration at startup."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType

import django_filters
import pytest
from cacheops.conf import model_profile
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from rest_framework.test import APIClient

from apps.products import caching as products_caching
from apps.products.filters import ProductFilter
from apps.products.models import Category, Product
from apps.users import caching as users_caching
from apps.users.models import User
from project.caching import declarations, response_cache
from tests.factories import ProductFactory

PRODUCTS_URL = "/api/v1/products/"
HIT = "X-Response-Cache"


@pytest.fixture
def endpoints_read_again():
    """The response cache's endpoints are built once per process; these tests change what they are built from."""
    response_cache.declared_endpoints.cache_clear()
    yield
    response_cache.declared_endpoints.cache_clear()


def _caching_module(name: str, **tables) -> ModuleType:
    module = ModuleType(name)
    module.__dict__.update(tables)
    return module


def _declaring(**tables) -> declarations.Declarations:
    return declarations.read([_caching_module("apps.example.caching", **tables)])


# --- Discovery -----------------------------------------------------------------------------------


def _declared(name: str) -> dict:
    return {key: value for module in declarations.app_modules() for key, value in getattr(module, name, {}).items()}


def test_every_apps_caching_module_is_discovered():
    with_caching = {
        f"{app}.caching" for app in settings.LOCAL_APPS if Path(import_module(app).__path__[0], "caching.py").exists()
    }

    assert {module.__name__ for module in declarations.app_modules()} == with_caching
    assert {"apps.products.caching", "apps.users.caching"} <= with_caching


def test_the_query_cache_is_the_models_the_apps_declare_with_the_default_timeout():
    assert _declared("QUERY_CACHE") == settings.CACHEOPS
    assert {**products_caching.QUERY_CACHE, **users_caching.QUERY_CACHE}.keys() <= settings.CACHEOPS.keys()
    assert (
        model_profile(Product)["ops"]
        == model_profile(Category)["ops"]
        == {"get", "fetch", "count", "aggregate", "exists"}
    )
    assert model_profile(Product)["timeout"] == settings.QUERY_CACHE_TTL
    assert model_profile(User)["ops"] == set()  # manual only: a full user row carries the password hash


def test_the_response_cache_serves_the_url_names_the_apps_declare():
    endpoints = {endpoint.name: endpoint for endpoint in response_cache.declared_endpoints()}

    assert set(endpoints) == set(_declared("RESPONSE_CACHE"))
    assert set(products_caching.RESPONSE_CACHE) == {
        "v1:product-list",
        "v1:product-detail",
        "v1:category-list",
        "pages:catalog",
    }
    assert set(products_caching.RESPONSE_CACHE) <= set(endpoints)
    assert endpoints["v1:product-detail"].path.fullmatch("/api/v1/products/7/")["pk"] == "7"
    assert endpoints["v1:product-list"].path.fullmatch(PRODUCTS_URL)
    assert not endpoints["v1:product-list"].path.fullmatch(f"{PRODUCTS_URL}imports/")
    # A page view's parameters: its filterset's, as the API reads them, and its cursor.
    assert set(endpoints["pages:catalog"].params) == set(endpoints["v1:product-list"].params) - {"page_size"}


def test_writes_replace_the_tags_their_app_declares():
    discovered = declarations.discovered()

    assert discovered.invalidates["products.product"]({"id": 7}) == ("products", "product:7")
    assert discovered.invalidates["products.product"](None) == ("products", "products:all")
    assert discovered.embedded_in == {"products.category": ("products.product",)}


# --- Parameters come from the view ----------------------------------------------------------------


def test_the_product_lists_parameters_are_its_filtersets_and_its_paginators():
    endpoints = {endpoint.name: endpoint for endpoint in response_cache.declared_endpoints()}

    assert set(endpoints["v1:product-list"].params) == {*ProductFilter.base_filters, "cursor", "page_size"}
    assert set(endpoints["v1:category-list"].params) == {"page", "page_size"}
    assert endpoints["v1:product-detail"].params == {}


@pytest.mark.django_db
def test_a_filter_added_to_the_filterset_becomes_a_parameter_of_the_cached_list(monkeypatch, endpoints_read_again):
    monkeypatch.setitem(
        ProductFilter.base_filters, "max_stock", django_filters.NumberFilter(field_name="stock", lookup_expr="lte")
    )
    ProductFactory(name="Sold out", stock=0)
    ProductFactory(name="In stock", stock=5)
    client = APIClient()  # its middleware is loaded at its first request, with the new filter

    sold_out = client.get(PRODUCTS_URL, {"max_stock": 0})
    everything = client.get(PRODUCTS_URL, {"max_stock": 9})

    assert [row["name"] for row in sold_out.json()["results"]] == ["Sold out"]
    assert len(everything.json()["results"]) == 2 and HIT not in everything
    assert client.get(PRODUCTS_URL, {"max_stock": 0})[HIT] == "hit"


# --- A bad declaration stops the process ----------------------------------------------------------


def test_an_unknown_url_name_stops_the_web_process_at_startup(monkeypatch, endpoints_read_again):
    bad = _declaring(RESPONSE_CACHE={"v1:no-such-url": lambda url: ("nothing",)})
    monkeypatch.setattr(declarations, "discovered", lambda: bad)

    with pytest.raises(ImproperlyConfigured, match="v1:no-such-url"):
        WSGIHandler()


@pytest.mark.parametrize("table", ["QUERY_CACHE", "INVALIDATES"])
def test_an_unknown_model_is_refused(table):
    with pytest.raises(ImproperlyConfigured, match=r"products\.nosuchmodel"):
        _declaring(**{table: {"products.NoSuchModel": {"ops": "all"}}})


def test_a_model_declared_by_two_apps_is_refused():
    with pytest.raises(ImproperlyConfigured, match=r"products\.product"):
        declarations.read(
            [
                products_caching,
                _caching_module("apps.other.caching", QUERY_CACHE={"products.Product": {"ops": "get"}}),
            ]
        )
