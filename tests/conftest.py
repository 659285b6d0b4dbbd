from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import StaffFactory, TokenFactory, UserFactory


@pytest.fixture(autouse=True)
def _empty_redis():
    """Each test starts with an empty cache (throttle counters, cached queries) in its own Redis db."""
    cache.clear()
    yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


@pytest.fixture
def staff_client(staff) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=staff).key}")
    return client


@pytest.fixture
def postgres(db):
    """Skips, with the reason shown, unless the tests run on PostgreSQL (DATABASE_URL=postgres://...)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
