import pytest

pytestmark = pytest.mark.django_db


def test_landing_page_renders_with_links_to_the_catalog_the_api_docs_and_the_admin(client):
    response = client.get("/")

    assert response.status_code == 200
    for link in ('href="/products/"', 'href="/api/docs/"', 'href="/admin/"', 'href="/signup/"', 'href="/login/"'):
        assert link in response.text


def test_unknown_page_is_the_html_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Not found" in response.text


# --- Layout, error pages and accessibility basics -----------------------------------------------


def test_every_page_has_a_skip_link_to_the_main_content_and_a_favicon(client):
    response = client.get("/products/")

    assert '<a class="skip-link" href="#main">Skip to content</a>' in response.text
    assert 'id="main"' in response.text
    assert 'rel="icon" href="/static/favicon.svg"' in response.text


def test_the_current_page_is_marked_in_the_nav(client):
    response = client.get("/products/")

    assert 'href="/products/" aria-current="page"' in response.text
    assert 'href="/login/" aria-current="page"' not in response.text


def test_the_narrow_screen_menu_is_a_static_script_with_no_inline_code(client):
    response = client.get("/")

    assert '<script src="/static/js/nav.js" defer></script>' in response.text
    assert "<script>" not in response.text and "style=" not in response.text
    assert 'aria-controls="nav-menu"' in response.text


def test_an_unknown_page_is_the_styled_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert 'class="error-page"' in response.text and "site-header" in response.text


def test_an_unexpected_exception_on_a_page_is_the_styled_500_page(monkeypatch):
    from django.test import Client

    def explode():
        raise RuntimeError("boom")

    monkeypatch.setattr("apps.products.selectors.categories_for_catalog", explode)

    response = Client(raise_request_exception=False).get("/products/")

    assert response.status_code == 500
    assert "Something went wrong" in response.text and "site-header" in response.text


def test_a_form_without_its_csrf_token_gets_the_styled_csrf_page(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/logout/")

    assert response.status_code == 403
    assert "Your form expired" in response.text and user.email in response.text


@pytest.mark.parametrize(("template", "title"), [("400.html", "Bad request"), ("403.html", "Not allowed")])
def test_the_400_and_403_pages_are_styled(template, title):
    from django.template.loader import render_to_string

    page = render_to_string(template)

    assert title in page and "site-header" in page


def test_the_admin_is_branded(admin_client):
    response = admin_client.get("/admin/")

    assert "Headroom administration" in response.text
    assert "Django administration" not in response.text
