from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.http import HttpRequest
from zeal import zeal_ignore

from apps.orders.models import Order
from apps.products.management.commands.seed_demo import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_EMAIL, DEMO_PASSWORD
from apps.products.models import Category, Product
from apps.users.models import User

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Category, Product, User, Order)}


def test_seed_demo_creates_a_catalog_a_demo_user_and_a_superuser():
    _seed()

    assert Category.objects.count() == 5
    assert Product.objects.count() == 30
    # Two sign-ins in one test, each one User.get() from the same line of the auth backend: no loop.
    with zeal_ignore([{"model": "users.User", "field": "get()"}]):
        assert authenticate(HttpRequest(), username=DEMO_EMAIL, password=DEMO_PASSWORD) is not None
        admin = authenticate(HttpRequest(), username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    assert admin.is_staff and admin.is_superuser


def test_seed_demo_prints_the_passwords_and_where_to_use_them():
    output = _seed()

    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in output
    assert f"{ADMIN_EMAIL} / {ADMIN_PASSWORD}" in output
    assert "http://127.0.0.1:8000/login/" in output
    assert "http://127.0.0.1:8000/admin/" in output


def test_seed_demo_run_twice_changes_no_row_count():
    _seed()
    first = _row_counts()

    _seed()

    assert _row_counts() == first


def test_seed_demo_leaves_existing_rows_as_they_are():
    _seed()
    product = Product.objects.get(slug="desk-lamp")
    product.stock = 1
    product.save()

    _seed()

    product.refresh_from_db()
    assert product.stock == 1
