"""A request that cannot reach the database answers 503 with Retry-After, never a 500
(project/routing/database_unavailable.py): an app server whose primary is lost, here one whose
database port has nothing listening."""

import pytest
from django.db import IntegrityError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from project.routing.database_unavailable import DatabaseUnavailableMiddleware
from tests.servers import free_port, running_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server_without_database():
    with running_server(
        workers=1,
        env={
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/headroom",
            "DATABASE_REPLICA_URLS": "",
        },
    ) as server:
        yield server


def test_an_api_request_without_its_database_gets_a_json_503_with_retry_after(server_without_database):
    reply = server_without_database.request(
        "POST", "/api/v1/orders/", body={"items": []}, headers={"Authorization": "Token not-checked-yet"}
    )

    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "database_unavailable"
    assert reply.headers["retry-after"] == "5"


def test_a_page_without_its_database_gets_a_503_not_a_server_error():
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())

    response = middleware.process_exception(RequestFactory().get("/products/"), OperationalError("server closed"))

    assert response is not None
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response["Content-Type"].startswith("text/plain")


def test_an_error_that_is_not_a_lost_connection_is_left_to_the_500_handler():
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())

    assert middleware.process_exception(RequestFactory().get("/api/v1/orders/"), IntegrityError("dup")) is None


def test_the_lost_database_is_logged_in_one_line_without_a_traceback(server_without_database):
    server_without_database.get("/api/v1/products/")

    log = server_without_database.log_tail(200)
    assert "database unavailable: GET /api/v1/products/" in log
    assert "Traceback" not in log
