import pytest

from apps.users.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "s3cret-Passw0rd!"


def test_signup_page_renders(client):
    response = client.get("/signup/")

    assert response.status_code == 200
    assert 'name="email"' in response.text
    assert 'name="password"' in response.text


def test_login_page_renders(client):
    response = client.get("/login/")

    assert response.status_code == 200
    assert 'name="username"' in response.text


def test_signup_creates_the_user_logs_them_in_and_redirects_to_the_catalog(client):
    response = client.post("/signup/", {"email": "New@Example.com", "name": "New", "password": STRONG_PASSWORD})

    assert response.status_code == 302
    assert response.url == "/products/"
    user = User.objects.get()
    assert user.email == "new@example.com"
    assert client.get("/orders/").status_code == 200


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@Example.COM"])
def test_signup_with_a_taken_email_in_any_letter_case_is_a_form_error(client, email):
    UserFactory(email="taken@example.com")

    response = client.post("/signup/", {"email": email, "password": STRONG_PASSWORD})

    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["Already taken."]}
    assert User.objects.count() == 1


def test_signup_with_a_weak_password_is_a_form_error_and_creates_no_user(client):
    response = client.post("/signup/", {"email": "new@example.com", "password": "12345678"})

    assert response.status_code == 200
    assert "This password is entirely numeric." in response.context["form"].errors["password"]
    assert not User.objects.exists()


def test_signup_with_a_malformed_email_is_a_form_error(client):
    response = client.post("/signup/", {"email": "not-an-email", "password": STRONG_PASSWORD})

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.exists()


def test_login_with_the_email_in_any_letter_case_redirects_to_the_catalog(client):
    UserFactory(email="someone@example.com")

    response = client.post("/login/", {"username": "SomeOne@Example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response.url == "/products/"


def test_login_with_a_wrong_password_is_a_form_error(client):
    UserFactory(email="someone@example.com")

    response = client.post("/login/", {"username": "someone@example.com", "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_logout_by_post_logs_out_and_redirects_to_the_landing_page(client, user):
    client.force_login(user)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response.url == "/"
    assert client.get("/orders/").status_code == 302


def test_logout_by_get_is_refused(client, user):
    client.force_login(user)

    assert client.get("/logout/").status_code == 405


def test_signup_shows_the_password_rules_before_anything_is_typed(client):
    response = client.get("/signup/")

    assert "at least 8 characters" in response.text
    assert 'aria-describedby="id_password_helptext"' in response.text


def test_signup_says_where_the_verification_link_went(client):
    response = client.post("/signup/", {"email": "new@example.com", "password": STRONG_PASSWORD}, follow=True)

    assert "We sent a link to new@example.com" in response.text


def test_login_says_who_is_logged_in(client):
    user = UserFactory(email="ada@example.com")

    response = client.post("/login/", {"username": user.email, "password": DEFAULT_PASSWORD}, follow=True)

    assert "You are logged in as ada@example.com." in response.text


def test_logout_says_so(client, user):
    client.force_login(user)

    response = client.post("/logout/", follow=True)

    assert "You are logged out." in response.text


def test_messages_are_in_a_live_region_that_screen_readers_announce(client, user):
    client.force_login(user)

    response = client.post("/logout/", follow=True)

    assert '<div class="messages" role="status" aria-live="polite">' in response.text


@pytest.mark.parametrize(("is_staff", "shown"), [(False, False), (True, True)])
def test_the_admin_link_shows_to_staff_only(client, is_staff, shown):
    client.force_login(UserFactory(is_staff=is_staff))

    response = client.get("/products/")

    assert ('href="/admin/"' in response.text) is shown


def test_the_admin_link_is_hidden_from_anonymous_visitors(client):
    assert 'href="/admin/"' not in client.get("/products/").text
