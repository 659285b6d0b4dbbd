"""Property-based: no query string, however forged, gets a 5xx from a list endpoint; every 4xx is
the error shape. Cursors included: random text, base64 of random bytes, and cursors that DRF
would decode with a forged offset, direction and position."""

from __future__ import annotations

import base64
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text as an attacker writes it: any code point but surrogates (NUL included), and digits of
# other scripts, which int() reads and str.isdigit() misjudges ("\u00b2").
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
unicode_digits = st.text(st.sampled_from("0123456789\u0660\u0663\u06f5\u0966\u00b2\u00b9\uff11\U0001d7d9"), min_size=1)
number_like = st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e400", "-1e-400", "NaN", "Infinity", "9" * 5000, "0x10", "1_000", " 5 "]),
    unicode_digits,
    any_text,
)


# Positions of the date orderings, with the edges where a time zone overflows the year.
datetime_like = st.one_of(
    st.datetimes().map(str),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-02-30T00:00:00Z"]),
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# DRF's cursor: base64 of a query string with o (offset), r (reverse) and p (position).
forged_cursor = st.fixed_dictionaries(
    {},
    optional={"o": number_like, "r": number_like, "p": st.one_of(number_like, datetime_like)},
).map(lambda tokens: _b64(urlencode(tokens).encode()))
cursor = st.one_of(any_text, st.binary(max_size=60).map(_b64), forged_cursor)
ordering = st.one_of(
    st.sampled_from(["price", "-price", "created_at", "-created_at", "name", "-name", "id", "-id", "price,name"]),
    any_text,
)
boolean_like = st.one_of(st.sampled_from(["true", "false", "True", "2", "3", "1", "0"]), any_text)


def _query(**params: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional=params)


PAGINATION = {"page_size": number_like, "cursor": cursor}
PRODUCT_QUERY = _query(
    **PAGINATION,
    ordering=ordering,
    category=any_text,
    min_price=number_like,
    max_price=number_like,
    in_stock=boolean_like,
    search=any_text,
)
# The pagination parameters always present, in an order the cursor's position must fit.
PRODUCT_PAGE_QUERY = st.fixed_dictionaries(
    {
        "ordering": st.sampled_from(["price", "-price", "created_at", "-created_at", "name", "-name"]),
        "cursor": forged_cursor,
        "page_size": number_like,
    }
)
CATEGORY_QUERY = _query(page=number_like, page_size=number_like)
ORDER_QUERY = st.fixed_dictionaries({"cursor": forged_cursor}, optional={"page_size": number_like})


def _assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.fixture
def catalog(db) -> None:
    # Equal prices and names across pages, so forged positions land among real rows.
    for index in range(6):
        ProductFactory(price=Decimal(index % 3) + Decimal("9.99"), stock=index % 2, name=f"Thing {index % 2}")


@pytest.fixture
def orders(user) -> None:
    OrderFactory.create_batch(3, user=user)


@FUZZ
@given(query=PRODUCT_QUERY)
def test_no_product_list_query_is_a_server_error(api_client, catalog, query):
    _assert_no_server_error(api_client.get("/api/v1/products/", query))


@FUZZ
@given(query=PRODUCT_QUERY)
def test_no_product_list_query_is_a_server_error_when_signed_in(staff_client, catalog, query):
    # Signed in, the response cache is skipped: the view reads the raw parameters itself.
    _assert_no_server_error(staff_client.get("/api/v1/products/", query))


@FUZZ
@given(query=PRODUCT_PAGE_QUERY)
def test_no_forged_cursor_or_page_size_on_the_product_list_is_a_server_error(api_client, catalog, query):
    _assert_no_server_error(api_client.get("/api/v1/products/", query))


@FUZZ
@given(query=CATEGORY_QUERY)
def test_no_category_list_query_is_a_server_error(api_client, catalog, query):
    _assert_no_server_error(api_client.get("/api/v1/categories/", query))


@FUZZ
@given(query=ORDER_QUERY)
def test_no_order_list_query_is_a_server_error(user_client, orders, query):
    _assert_no_server_error(user_client.get("/api/v1/orders/", query))


@pytest.mark.parametrize("position", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
@pytest.mark.parametrize(("path", "ordering"), [("/api/v1/products/", "created_at"), ("/api/v1/orders/", None)])
def test_a_cursor_at_the_calendars_edge_is_never_a_server_error(user_client, catalog, orders, path, ordering, position):
    query = {"cursor": _b64(urlencode({"p": position}).encode()), **({"ordering": ordering} if ordering else {})}

    response = user_client.get(path, query)

    # SQLite overflows converting it to UTC (an invalid cursor, 404); PostgreSQL compares it as it is.
    assert response.status_code in (200, 404)
    _assert_no_server_error(response)
