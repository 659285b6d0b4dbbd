"""Production refuses the demo accounts' published passwords: `check --deploy` errors, /readyz is 503."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apps.users import selectors
from apps.users.checks import demo_passwords_check
from apps.users.demo import ADMIN_EMAIL, DEMO_ACCOUNTS, DEMO_EMAIL
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    settings.IS_PRODUCTION = True
    return settings


def test_an_active_demo_account_with_its_published_password_is_a_deploy_error(production):
    UserFactory(email=ADMIN_EMAIL, password=DEMO_ACCOUNTS[ADMIN_EMAIL], is_staff=True, is_superuser=True)

    [error] = demo_passwords_check()

    assert error.id == "users.E001"
    assert ADMIN_EMAIL in error.msg


def test_check_deploy_fails_on_a_demo_password_in_production(production):
    UserFactory(email=DEMO_EMAIL, password=DEMO_ACCOUNTS[DEMO_EMAIL])

    with pytest.raises(SystemCheckError, match=r"users\.E001"):
        call_command("check", deploy=True)


def test_a_demo_account_whose_email_differs_in_letter_case_is_still_checked(production):
    UserFactory(email=DEMO_EMAIL.upper(), password=DEMO_ACCOUNTS[DEMO_EMAIL])

    assert [error.id for error in demo_passwords_check()] == ["users.E001"]


def test_a_demo_account_with_another_published_password_is_an_error_too(production):
    UserFactory(email=DEMO_EMAIL, password=DEMO_ACCOUNTS[ADMIN_EMAIL])

    assert [error.id for error in demo_passwords_check()] == ["users.E001"]


def test_a_demo_account_with_a_new_password_passes(production):
    UserFactory(email=ADMIN_EMAIL, password="a-private-Passw0rd-of-this-site")

    assert demo_passwords_check() == []


def test_a_deactivated_demo_account_passes(production):
    UserFactory(email=ADMIN_EMAIL, password=DEMO_ACCOUNTS[ADMIN_EMAIL], is_active=False)

    assert demo_passwords_check() == []


def test_other_users_are_not_checked_even_with_a_demo_password(production):
    UserFactory(email="ada@example.com", password=DEMO_ACCOUNTS[DEMO_EMAIL])

    assert demo_passwords_check() == []


def test_each_stored_password_is_hashed_once_per_process_however_often_readyz_asks(production, monkeypatch):
    UserFactory(email=DEMO_EMAIL, password="a-private-Passw0rd-of-this-site")
    hashed = []
    real_check_password = selectors.check_password
    monkeypatch.setattr(selectors, "check_password", lambda *args: hashed.append(args) or real_check_password(*args))

    for _ in range(3):
        assert demo_passwords_check() == []

    assert len(hashed) == len(DEMO_ACCOUNTS)  # once against each published password, on the first check only


def test_demo_passwords_are_allowed_in_development(settings):
    settings.IS_PRODUCTION = False
    UserFactory(email=DEMO_EMAIL, password=DEMO_ACCOUNTS[DEMO_EMAIL])

    assert demo_passwords_check() == []


@pytest.mark.django_db(transaction=True)
def test_readyz_in_production_is_503_while_a_demo_password_works(client, production):
    UserFactory(email=ADMIN_EMAIL, password=DEMO_ACCOUNTS[ADMIN_EMAIL])

    response = client.get("/readyz")

    assert response.status_code == 503, response.json()
    assert response.json()["failed"] == ["deploy"]
    assert response.json()["checks"]["deploy"] == "DeployCheckFailed"


@pytest.mark.django_db(transaction=True)
def test_readyz_in_production_is_200_once_the_demo_password_is_changed(client, production):
    UserFactory(email=ADMIN_EMAIL, password="a-private-Passw0rd-of-this-site")

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["deploy"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_a_deploy_error_fails_readyz_even_when_left_out_of_readiness_required(client, production):
    production.READINESS_REQUIRED = ["database:default"]
    UserFactory(email=DEMO_EMAIL, password=DEMO_ACCOUNTS[DEMO_EMAIL])

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["deploy"]
