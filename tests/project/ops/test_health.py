import pytest

from tests.queries import assert_queries


@pytest.mark.django_db
def test_healthz_answers_ok_without_touching_any_dependency(client):
    with assert_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
