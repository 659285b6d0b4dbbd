"""The response cache (project/caching/response_cache.py): hits cost no SQL, only anonymous public reads are
shared, the key space stays bounded, and a write is seen by the next read."""

from __future__ import annotations

import random
import threading
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from rest_framework.test import APIClient

from apps.products import selectors, services
from apps.products.api import ProductApi
from apps.products.models import Product
from tests.factories import DEFAULT_PASSWORD, CategoryFactory, OrderFactory, ProductFactory, TokenFactory
from tests.queries import assert_constant_queries, assert_queries
from tests.redis_keys import cache_keys, forget_everything_cached, response_cache_entries

PRODUCTS_URL = "/api/v1/products/"
CATEGORIES_URL = "/api/v1/categories/"
HIT = "X-Response-Cache"

pytestmark = pytest.mark.django_db
# Committed data, as in production: inside a test's transaction cacheops neither caches nor invalidates,
# so every test that writes after a read, or looks at what the query cache stores, commits.
committed = pytest.mark.django_db(transaction=True)


def _detail_url(product: Product) -> str:
    return f"{PRODUCTS_URL}{product.pk}/"


@pytest.fixture
def product(db) -> Product:
    return ProductFactory(price=Decimal("10.00"))


@pytest.fixture
def cached_urls(product) -> list[str]:
    return [_detail_url(product), PRODUCTS_URL, CATEGORIES_URL]


# --- Hits --------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["product-detail", "product-list", "category-list"])
def test_second_anonymous_read_is_a_cache_hit_that_runs_no_sql(product, api_client, endpoint):
    url = {"product-detail": _detail_url(product), "product-list": PRODUCTS_URL, "category-list": CATEGORIES_URL}
    miss = api_client.get(url[endpoint])

    with assert_queries(0):
        hit = api_client.get(url[endpoint])

    assert miss.status_code == hit.status_code == 200
    assert HIT not in miss
    assert hit[HIT] == "hit"
    assert hit.content == miss.content


@committed
def test_a_list_hit_runs_no_sql_at_1_and_at_50_products(api_client):
    misses = {}

    def add_products_and_read_them_once(count: int) -> None:
        ProductFactory.create_batch(count)
        misses[Product.objects.count()] = api_client.get(PRODUCTS_URL, {"page_size": 50})

    hits = assert_constant_queries(
        add_products_and_read_them_once, lambda: api_client.get(PRODUCTS_URL, {"page_size": 50}), budget=0
    )

    for rows, hit in hits.items():
        assert HIT not in misses[rows] and hit[HIT] == "hit"
        assert len(hit.json()["results"]) == len(misses[rows].json()["results"]) == rows


# --- Someone else's data -----------------------------------------------------------------------


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


def _force_login_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _password_login_client(user) -> APIClient:
    client = APIClient()
    assert client.login(request=HttpRequest(), username=user.email, password=DEFAULT_PASSWORD)
    return client


SIGNED_IN_CLIENTS = {"token": _token_client, "force_login": _force_login_client, "login": _password_login_client}


@pytest.mark.parametrize("sign_in", SIGNED_IN_CLIENTS)
def test_a_signed_in_read_is_never_served_from_the_response_cache(cached_urls, api_client, user, sign_in):
    signed_in = SIGNED_IN_CLIENTS[sign_in](user)
    for url in cached_urls:
        api_client.get(url)
        assert api_client.get(url)[HIT] == "hit"

        response = signed_in.get(url)

        assert response.status_code == 200
        assert HIT not in response, url


@pytest.mark.parametrize("sign_in", SIGNED_IN_CLIENTS)
def test_a_signed_in_read_is_never_stored_in_the_response_cache(cached_urls, api_client, user, redis_db, sign_in):
    signed_in = SIGNED_IN_CLIENTS[sign_in](user)
    for url in cached_urls:
        signed_in.get(url)
        signed_in.get(url)

    assert response_cache_entries(redis_db) == []
    for url in cached_urls:
        assert HIT not in api_client.get(url), url


def test_own_profile_and_orders_are_never_cached(user, redis_db):
    OrderFactory(user=user)
    client = _token_client(user)
    for url in ("/api/v1/users/me/", "/api/v1/orders/"):
        first, second = client.get(url), client.get(url)

        assert first.status_code == second.status_code == 200
        assert HIT not in second
    assert response_cache_entries(redis_db) == []


def test_anonymous_reads_of_private_endpoints_are_never_cached(db, api_client, redis_db):
    for url in ("/api/v1/users/me/", "/api/v1/orders/"):
        assert api_client.get(url).status_code == 401
        assert HIT not in api_client.get(url)
    assert response_cache_entries(redis_db) == []


def test_a_response_that_sets_a_cookie_is_never_stored(product, api_client, redis_db, monkeypatch):
    get = ProductApi.get

    def get_setting_a_cookie(self, request, pk):
        response = get(self, request, pk)
        response.set_cookie("seen", "yes")
        return response

    monkeypatch.setattr(ProductApi, "get", get_setting_a_cookie)

    first = api_client.get(_detail_url(product))
    second = api_client.get(_detail_url(product))

    assert first.cookies["seen"].value == "yes"
    assert HIT not in second
    assert response_cache_entries(redis_db) == []


# --- Cache busting and the key space ------------------------------------------------------------


def test_unknown_query_parameters_share_one_entry(product, api_client):
    api_client.get(PRODUCTS_URL, {"utm_source": "newsletter"})

    response = api_client.get(PRODUCTS_URL, {"fbclid": "abc123"})

    assert response[HIT] == "hit"


def test_unknown_query_parameters_are_not_copied_into_pagination_links(db, api_client):
    ProductFactory.create_batch(3)

    first = api_client.get(PRODUCTS_URL, {"page_size": 1, "utm_source": "evil"}).json()
    cursor = parse_qs(urlparse(first["next"]).query)["cursor"][0]

    body = api_client.get(PRODUCTS_URL, {"page_size": 1, "utm_source": "evil", "cursor": cursor}).json()
    assert "utm_source" not in body["next"] and "evil" not in body["next"]
    assert "utm_source" not in body["previous"]
    assert "page_size=1" in body["next"]


def test_a_disallowed_host_gets_400_and_no_cache_entry(product, api_client, redis_db):
    response = api_client.get(PRODUCTS_URL, HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    assert response_cache_entries(redis_db) == []


def test_junk_query_parameters_do_not_add_response_cache_entries(product, api_client, redis_db):
    api_client.get(_detail_url(product))
    api_client.get(PRODUCTS_URL)
    keys_before = len(response_cache_keys(redis_db))

    for n in range(100):
        api_client.get(_detail_url(product), {f"junk{n}": n})
        api_client.get(PRODUCTS_URL, {"utm_source": f"campaign-{n}", f"x{n}": "y"})

    assert len(response_cache_entries(redis_db)) == 2
    assert len(response_cache_keys(redis_db)) == keys_before


def test_invalid_values_of_known_parameters_do_not_add_response_cache_entries(product, api_client, redis_db):
    api_client.get(PRODUCTS_URL)

    for n in range(20):
        assert api_client.get(PRODUCTS_URL, {"page_size": f"junk{n}", "in_stock": f"maybe{n}"}).status_code == 200

    assert len(response_cache_entries(redis_db)) == 1


@committed
@pytest.mark.parametrize(
    ("page_size", "results"),
    [("\u0663", 3), ("\u00b2", 5), ("+3", 3), (" 3", 3), ("1" * 5000, 5), ("-3", 5)],
    ids=["arabic-indic-3", "superscript-2", "plus-3", "space-3", "5000-digits", "negative"],
)
def test_a_page_size_is_read_as_drf_reads_it_and_never_raises(db, api_client, page_size, results):
    # DRF reads page_size with int() (which takes any Unicode decimal digit) and falls back to the
    # default on ValueError; "\u00b2" is a digit to str.isdigit() that int() refuses.
    ProductFactory.create_batch(5)

    response = api_client.get(PRODUCTS_URL, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == results


def test_reads_of_200_unknown_product_ids_barely_grow_redis(api_client, redis_db):
    ProductFactory()
    api_client.get(PRODUCTS_URL)
    keys_before = len(cache_keys(redis_db))

    for product_id in random.sample(range(10_000, 10**9), 200):
        assert api_client.get(f"{PRODUCTS_URL}{product_id}/").status_code == 404

    assert len(cache_keys(redis_db)) - keys_before <= 5


# --- A write is seen by the next read ------------------------------------------------------------


@committed
def test_a_product_update_is_seen_by_the_next_anonymous_read(api_client):
    product = ProductFactory(price=Decimal("10.00"))
    for url in (_detail_url(product), PRODUCTS_URL):
        api_client.get(url)
        assert api_client.get(url)[HIT] == "hit"

    services.product_update(product=product, price=Decimal("12.50"))

    assert api_client.get(_detail_url(product)).json()["price"] == "12.50"
    assert api_client.get(PRODUCTS_URL).json()["results"][0]["price"] == "12.50"


@committed
def test_a_category_rename_is_seen_by_the_next_anonymous_category_list(api_client):
    category = CategoryFactory()
    api_client.get(CATEGORIES_URL)
    assert api_client.get(CATEGORIES_URL)[HIT] == "hit"

    services.category_update(category=category, name="Renamed")

    assert api_client.get(CATEGORIES_URL).json()["results"][0]["name"] == "Renamed"


@committed
def test_a_category_rename_is_seen_by_the_next_anonymous_product_reads(api_client):
    product = ProductFactory()
    for url in (_detail_url(product), PRODUCTS_URL):
        api_client.get(url)
        assert api_client.get(url)[HIT] == "hit"

    services.category_update(category=product.category, name="Renamed")

    assert api_client.get(_detail_url(product)).json()["category"]["name"] == "Renamed"
    assert api_client.get(PRODUCTS_URL).json()["results"][0]["category"]["name"] == "Renamed"


@committed
def test_a_new_product_is_seen_by_the_next_anonymous_list_and_detail(api_client):
    ProductFactory()
    api_client.get(PRODUCTS_URL)
    assert api_client.get(PRODUCTS_URL)[HIT] == "hit"

    product = services.product_create(
        category=CategoryFactory(), name="New", slug="new", description="", price=Decimal("1.00"), stock=1
    )

    assert len(api_client.get(PRODUCTS_URL).json()["results"]) == 2
    assert api_client.get(_detail_url(product)).status_code == 200


@committed
def test_a_deleted_product_is_gone_from_the_next_anonymous_reads(api_client):
    product = ProductFactory()
    for url in (_detail_url(product), PRODUCTS_URL):
        api_client.get(url)
        assert api_client.get(url)[HIT] == "hit"

    services.product_delete(product=Product.objects.get(pk=product.pk))

    assert api_client.get(_detail_url(product)).status_code == 404
    assert len(api_client.get(PRODUCTS_URL).json()["results"]) == 0


@committed
def test_an_entry_filled_before_its_version_token_existed_is_not_served_once_that_token_is_lost(api_client, redis_db):
    """A token lost to eviction (allkeys-lru) or a restart must not make an old entry valid again."""
    product = ProductFactory(price=Decimal("10.00"))
    forget_everything_cached(redis_db)  # as a restart of a Redis without persistence would
    api_client.get(_detail_url(product))  # filled while no write had set the product's token
    services.product_update(product=product, price=Decimal("12.50"))
    redis_db.delete(f"{settings.CACHE_KEY_PREFIX}:rc:tag:product:{product.pk}")  # as an eviction would

    response = api_client.get(_detail_url(product))

    assert HIT not in response
    assert response.json()["price"] == "12.50"


# --- The stale fill ------------------------------------------------------------------------------


@committed
def test_a_fill_that_overlaps_a_write_is_never_served(api_client, monkeypatch):
    """A read misses and loads the old row; a write commits and invalidates; then the read stores
    what it loaded. That entry must never be served."""
    product = ProductFactory(price=Decimal("10.00"))
    loaded, resume = threading.Event(), threading.Event()

    def product_detail_that_pauses(*, product_id: int, include_inactive: bool = False) -> Product:
        # The query cache is bypassed here, so that only the response cache's own guard is under test.
        row = Product.objects.nocache().select_related("category").get(pk=product_id)
        loaded.set()
        assert resume.wait(timeout=10)
        return row

    def slow_read() -> None:
        try:
            responses.append(APIClient().get(_detail_url(product)))
        finally:
            connection.close()

    responses = []
    monkeypatch.setattr(selectors, "product_detail", product_detail_that_pauses)
    reader = threading.Thread(target=slow_read)
    reader.start()
    assert loaded.wait(timeout=10)
    services.product_update(product=Product.objects.get(pk=product.pk), price=Decimal("12.50"))
    resume.set()
    reader.join(timeout=10)
    monkeypatch.undo()

    assert responses[0].json()["price"] == "10.00"  # the overlapping read itself saw the old row
    after = api_client.get(_detail_url(product))
    assert HIT not in after
    assert after.json()["price"] == "12.50"


def response_cache_keys(client) -> list[bytes]:
    """Entries and their tags; not the ops page's counters, which traffic adds a minute at a time."""
    return [key for key in cache_keys(client) if b":rc:" in key]
