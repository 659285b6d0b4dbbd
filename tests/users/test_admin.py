import pytest

from apps.users.models import User
from tests.factories import UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

# Session user, filtered and total COUNT(*), one page of users, the groups for the filter.
USER_CHANGELIST_QUERIES = 5


def test_user_changelist_runs_the_same_queries_for_1_and_50_users(admin_client):
    responses = assert_constant_queries(
        UserFactory.create_batch, lambda: admin_client.get("/admin/users/user/"), budget=USER_CHANGELIST_QUERIES
    )

    assert all(response.status_code == 200 for response in responses.values())


def test_user_change_page_renders(admin_client):
    user = UserFactory()

    assert admin_client.get(f"/admin/users/user/{user.pk}/change/").status_code == 200


def test_superuser_adds_a_user_by_email_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/users/user/add/",
        {
            "email": "added@example.com",
            "name": "Added",
            "usable_password": "true",
            "password1": "s3cret-Passw0rd!",
            "password2": "s3cret-Passw0rd!",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(email="added@example.com").check_password("s3cret-Passw0rd!")
