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
