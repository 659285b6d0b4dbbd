"""Server-Timing counts the queries of every database alias, a replica's included."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.factories import TokenFactory, UserFactory
from tests.project.ops.test_server_timing import _queries, server_timing, server_timing_on  # noqa: F401 - fixture
from tests.project.routing.test_query_counts_with_replicas import REPLICA, replica_routing  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


def test_the_header_counts_the_queries_run_on_a_replica(api_client, replica_routing, server_timing_on):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=UserFactory()).key}")

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        # The token check fills the query cache from the primary; the list of tokens reads the replica.
        response = api_client.get("/api/v1/auth/tokens/")

    assert response.status_code == 200
    assert len(primary) > 0
    assert len(replica) > 0  # the reads did go to the replica
    assert _queries(server_timing(response)) == len(primary) + len(replica)
